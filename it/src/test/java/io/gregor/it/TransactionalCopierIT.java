package io.gregor.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.gregor.testkit.Await;
import io.gregor.testkit.GregorCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kafka's own TransactionalMessageCopier (kafka-tools 4.2, the copier of Kafka's transactions system test) copies a
 * partition to another topic in transactions with random aborts, on three nodes while nodes are bounced: the output
 * holds every input record exactly once for read_committed readers.
 */
@Timeout(300)
class TransactionalCopierIT {
    private static final int RECORDS = 3000;

    @TempDir(cleanup = org.junit.jupiter.api.io.CleanupMode.ON_SUCCESS)
    Path dir;

    private Process startCopier(String bootstrap, int attempt) throws Exception {
        return new ProcessBuilder(GregorProcess.javaBinary(), "-cp", System.getProperty("java.class.path"),
                "org.apache.kafka.tools.TransactionalMessageCopier", "--broker-list", bootstrap,
                "--input-topic", "copy-in", "--input-partition", "0", "--output-topic", "copy-out",
                "--consumer-group", "copier", "--transactional-id", "copier-tx", "--transaction-size", "100",
                "--transaction-timeout", "30000", "--enable-random-aborts", "--use-group-metadata")
                .redirectOutput(dir.resolve("copier-" + attempt + ".out").toFile())
                // (stderr kept beside it for a failing run: the copier logs why it gave up)
                .redirectError(dir.resolve("copier-" + attempt + ".err").toFile()).start();
    }

    /** The largest "consumed" count the copier has reported in {@code out}. */
    private static long consumed(Path out) throws Exception {
        if (!Files.exists(out)) {
            return 0;
        }
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"consumed\":(\\d+)").matcher(Files.readString(out));
        long max = 0;
        while (m.find()) {
            max = Math.max(max, Long.parseLong(m.group(1)));
        }
        return max;
    }

    private Process current;

    private boolean copierAlive(Path ignored) {
        return current != null && current.isAlive();
    }

    @Test
    void theCopierCopiesEveryRecordExactlyOnceWhileNodesBounce() throws Exception {
        try (GregorCluster cluster = GregorCluster.nodes(3).with("broker.session.timeout.ms", "2000")
                .with("broker.heartbeat.interval.ms", "300").with("replica.lag.time.max.ms", "5000").start()) {
            cluster.admin().createTopics(List.of(
                    new NewTopic("copy-in", 1, (short) 3).configs(Map.of("min.insync.replicas", "2")),
                    new NewTopic("copy-out", 3, (short) 3).configs(Map.of("min.insync.replicas", "2")))).all().get();
            Set<String> input = new HashSet<>();
            try (KafkaProducer<String, String> producer = cluster.producer("acks", "all")) {
                for (int i = 0; i < RECORDS; i++) {
                    String value = "record-" + i;
                    producer.send(new ProducerRecord<>("copy-in", 0, "k" + i, value));
                    input.add(value);
                }
                producer.flush();
            }
            String bootstrap = cluster.bootstrapServers();
            int attempt = 0;
            Process copier = startCopier(bootstrap, attempt);
            current = copier;
            // Bounce two nodes, one after the other, while it copies; a copier that gives up is started again and
            // resumes from the offsets its transactions committed.
            int[] bounced = {2, 3};
            int bouncesWhileCopying = 0;
            for (int b = 0; b < bounced.length; b++) {
                long progress = (b + 1) * RECORDS / 4;
                Await.until("the copier consumed " + progress + " records (its log: " + dir + ")", Duration.ofSeconds(60),
                        () -> consumed(dir.resolve("copier-0.out")) >= progress || !copierAlive(dir));
                bouncesWhileCopying += copier.isAlive() ? 1 : 0;
                cluster.stop(bounced[b]);
                cluster.start(bounced[b]);
            }
            assertThat(bouncesWhileCopying).as("nodes bounced while the copier ran").isPositive();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(200);
            while (true) {
                long left = deadline - System.nanoTime();
                assertThat(left).as("the copier finished in time").isPositive();
                if (copier.waitFor(left, TimeUnit.NANOSECONDS) && copier.exitValue() == 0) {
                    break;
                }
                attempt++;
                assertThat(attempt).as("copier restarts").isLessThan(6);
                copier = startCopier(bootstrap, attempt);
            }
            String lastOutput = Files.readString(dir.resolve("copier-" + attempt + ".out"));
            assertThat(lastOutput).contains("\"remaining\":0");

            List<String> output = new ArrayList<>();
            try (KafkaConsumer<String, String> consumer = cluster.consumer("isolation.level", "read_committed")) {
                List<TopicPartition> tps = List.of(new TopicPartition("copy-out", 0), new TopicPartition("copy-out", 1),
                        new TopicPartition("copy-out", 2));
                consumer.assign(tps);
                consumer.seekToBeginning(tps);
                Await.until(RECORDS + " copied records", Duration.ofSeconds(60), () -> {
                    for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                        output.add(r.value());
                    }
                    return output.size() >= RECORDS;
                });
                consumer.poll(Duration.ofSeconds(1)).forEach(r -> output.add(r.value()));
            }
            assertThat(output).hasSize(RECORDS).doesNotHaveDuplicates();
            assertThat(new HashSet<>(output)).isEqualTo(input);
        }
    }
}
