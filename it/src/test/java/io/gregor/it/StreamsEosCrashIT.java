package io.gregor.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.gregor.testkit.Await;
import io.gregor.testkit.GregorCluster;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.LongDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kafka Streams 4.2 word count with exactly_once_v2 ({@link WordCountApp}, a process of its own) on three nodes: the
 * application is killed with kill -9 in the middle of the input and started again, and a node of the cluster is
 * halted and brought back while it runs. The counts a read_committed reader sees never pass the true ones, and end
 * exactly at them: no input line is counted twice or lost.
 */
@Timeout(400)
class StreamsEosCrashIT {
    private static final int LINES = 3000;
    private static final int WORDS = 40;

    @TempDir(cleanup = org.junit.jupiter.api.io.CleanupMode.ON_SUCCESS)
    Path dir;

    private Process startApp(String bootstrap, int attempt) throws Exception {
        return new ProcessBuilder(GregorProcess.javaBinary(), "-cp", System.getProperty("java.class.path"),
                WordCountApp.class.getName(), bootstrap, "wordcount-crash", dir.resolve("state").toString(),
                "words-in", "words-out")
                .redirectOutput(dir.resolve("app-" + attempt + ".out").toFile())
                .redirectError(dir.resolve("app-" + attempt + ".err").toFile()).start();
    }

    @Test
    void exactCountsAfterTheApplicationIsKilledAndANodeIsHalted() throws Exception {
        try (GregorCluster cluster = GregorCluster.nodes(3).with("broker.session.timeout.ms", "3000")
                .with("broker.heartbeat.interval.ms", "300").with("replica.lag.time.max.ms", "5000").start()) {
            cluster.admin().createTopics(List.of(
                    new NewTopic("words-in", 3, (short) 3).configs(Map.of("min.insync.replicas", "2")),
                    new NewTopic("words-out", 3, (short) 3).configs(Map.of("min.insync.replicas", "2")))).all().get();
            String bootstrap = cluster.bootstrapServers();
            Map<String, Long> expected = new HashMap<>();
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of("bootstrap.servers", bootstrap,
                    "acks", "all"), new StringSerializer(), new StringSerializer())) {
                for (int i = 0; i < LINES; i++) {
                    String line = "w" + (i % WORDS) + " w" + ((i * 7 + 3) % WORDS);
                    for (String word : line.split(" ")) {
                        expected.merge(word, 1L, Long::sum);
                    }
                    producer.send(new ProducerRecord<>("words-in", "line-" + i, line));
                }
                producer.flush();
            }
            long total = expected.values().stream().mapToLong(Long::longValue).sum();

            Map<String, Long> latest = new HashMap<>();
            Map<String, Long> highest = new HashMap<>();
            Properties cp = new Properties();
            cp.put("bootstrap.servers", bootstrap);
            cp.put("group.id", "counts-reader");
            cp.put("auto.offset.reset", "earliest");
            cp.put("isolation.level", "read_committed");
            Process app = startApp(bootstrap, 0);
            try (KafkaConsumer<String, Long> reader = new KafkaConsumer<>(cp, new StringDeserializer(),
                    new LongDeserializer())) {
                reader.subscribe(List.of("words-out"));
                Runnable poll = () -> {
                    for (ConsumerRecord<String, Long> r : reader.poll(Duration.ofMillis(200))) {
                        latest.put(r.key(), r.value());
                        highest.merge(r.key(), r.value(), Math::max);
                    }
                };
                java.util.function.LongSupplier counted = () -> latest.values().stream().mapToLong(Long::longValue).sum();
                Await.until("a quarter of the words counted", Duration.ofSeconds(120), () -> {
                    poll.run();
                    return counted.getAsLong() >= total / 4;
                });
                // kill -9 of the application in the middle of its input; a new instance takes over.
                app.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
                long atKill = counted.getAsLong();
                assertThat(atKill).as("counted when killed").isLessThan(total);
                app = startApp(bootstrap, 1);
                Await.until("counting goes on after the kill", Duration.ofSeconds(120), () -> {
                    poll.run();
                    return counted.getAsLong() > atKill;
                });
                // A node halts (its transactions' coordinator or partitions move) and comes back.
                cluster.halt(2);
                Await.until("counting goes on without node 2", Duration.ofSeconds(120), () -> {
                    poll.run();
                    return counted.getAsLong() > atKill + total / 8 || counted.getAsLong() == total;
                });
                cluster.start(2);
                Await.until("every word counted exactly", Duration.ofSeconds(180), () -> {
                    poll.run();
                    return latest.equals(expected);
                });
            } finally {
                app.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            }
            assertThat(latest).isEqualTo(expected);
            for (Map.Entry<String, Long> e : highest.entrySet()) {
                assertThat(e.getValue()).as("highest count of %s ever read", e.getKey())
                        .isLessThanOrEqualTo(expected.get(e.getKey()));
            }
        }
    }
}
