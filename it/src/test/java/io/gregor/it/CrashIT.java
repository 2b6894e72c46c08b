package io.gregor.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Durability under kill -9: acks=all records that the broker acknowledged survive a SIGKILL at a random moment of a
 * produce loop, exactly once, and the log recovers cleanly on every restart.
 */
class CrashIT {
    private static final int ROUNDS = 20;
    private static final String TOPIC = "crash";

    @TempDir
    Path dir;

    @Test
    @Timeout(600)
    void acknowledgedRecordsSurviveKillNine() throws Exception {
        // Each round: start the node, produce acks=all in a loop, SIGKILL it mid-stream; then restart and verify.
        Path data = dir.resolve("data");
        Set<String> acknowledged = ConcurrentHashMap.newKeySet();
        int port = GregorProcess.freePort();
        try (GregorProcess first = GregorProcess.start(data, port);
             Admin admin = Admin.create(Map.of("bootstrap.servers", first.bootstrap()))) {
            admin.createTopics(List.of(new NewTopic(TOPIC, 2, (short) 1))).all().get();
            first.stop();
        }
        for (int round = 0; round < ROUNDS; round++) {
            GregorProcess node = GregorProcess.start(data, port);
            try {
                verify(node.bootstrap(), acknowledged, round);
                produceThenKill(node, acknowledged, round);
            } finally {
                node.kill9();
            }
        }
        try (GregorProcess last = GregorProcess.start(data, port)) {
            verify(last.bootstrap(), acknowledged, ROUNDS);
        }
    }

    @Test
    @Timeout(300)
    void acknowledgedOffsetCommitsSurviveKillNine() throws Exception {
        // Each round: a consumer commits ever larger offsets synchronously until the node is SIGKILLed at a random
        // moment; after the restart the committed offset is at least the last acknowledged one (and at most the one
        // in flight at the kill).
        Path data = dir.resolve("offsets");
        int port = GregorProcess.freePort();
        try (GregorProcess first = GregorProcess.start(data, port);
             Admin admin = Admin.create(Map.of("bootstrap.servers", first.bootstrap()))) {
            admin.createTopics(List.of(new NewTopic("commits", 2, (short) 1))).all().get();
            first.stop();
        }
        long acked = -1;
        long attempted = -1;
        for (int round = 0; round < 5; round++) {
            GregorProcess node = GregorProcess.start(data, port);
            try {
                Properties props = new Properties();
                props.put("bootstrap.servers", node.bootstrap());
                props.put("group.id", "crash-commits");
                props.put("enable.auto.commit", "false");
                props.put("default.api.timeout.ms", "3000");
                props.put("request.timeout.ms", "2000");
                List<TopicPartition> partitions = List.of(new TopicPartition("commits", 0), new TopicPartition("commits", 1));
                try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props, new StringDeserializer(),
                        new StringDeserializer())) {
                    consumer.assign(partitions);
                    var committed = consumer.committed(Set.copyOf(partitions), Duration.ofSeconds(30));
                    for (TopicPartition tp : partitions) {
                        long offset = committed.get(tp) == null ? -1 : committed.get(tp).offset();
                        assertThat(offset).as("committed %s after round %d", tp, round).isBetween(acked, attempted);
                    }
                    final long base = attempted + 1;
                    long value = base;
                    // One commit before the kill window opens, so that every round acknowledges at least one.
                    attempted = value;
                    Map<TopicPartition, OffsetAndMetadata> first = new HashMap<>();
                    for (TopicPartition tp : partitions) {
                        first.put(tp, new OffsetAndMetadata(value));
                    }
                    consumer.commitSync(first, Duration.ofSeconds(30));
                    acked = value++;
                    long killAt = System.currentTimeMillis() + 200 + ThreadLocalRandom.current().nextLong(600);
                    Thread killer = new Thread(() -> {
                        try {
                            Thread.sleep(Math.max(0, killAt - System.currentTimeMillis()));
                            node.kill9();
                        } catch (Exception e) {
                            throw new IllegalStateException(e);
                        }
                    });
                    killer.start();
                    try {
                        while (true) {
                            attempted = value;
                            Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
                            for (TopicPartition tp : partitions) {
                                offsets.put(tp, new OffsetAndMetadata(value));
                            }
                            consumer.commitSync(offsets);
                            acked = value;
                            value++;
                        }
                    } catch (org.apache.kafka.common.KafkaException e) {
                        // The node died under the commit.
                    } finally {
                        killer.join();
                    }
                    assertThat(acked).as("commits acknowledged in round %d", round).isGreaterThanOrEqualTo(base);
                }
            } finally {
                node.kill9();
            }
        }
    }

    private static void produceThenKill(GregorProcess node, Set<String> acknowledged, int round) throws Exception {
        AcknowledgedProduceLoop.run(node.bootstrap(), "round " + round, 200, 800, i -> {
            String value = round + "-" + i;
            return new ProducerRecord<>(TOPIC, value, value);
        }, record -> acknowledged.add(record.value()), node::kill9);
    }

    /** Every acknowledged value is in the log exactly once, and offsets are contiguous from the start. */
    private static void verify(String bootstrap, Set<String> acknowledged, int round) {
        Properties props = new Properties();
        props.put("bootstrap.servers", bootstrap);
        props.put("max.poll.records", "5000");
        Map<String, Integer> seen = new HashMap<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer())) {
            List<TopicPartition> partitions = List.of(new TopicPartition(TOPIC, 0), new TopicPartition(TOPIC, 1));
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            Map<TopicPartition, Long> next = new HashMap<>();
            long deadline = System.currentTimeMillis() + 60_000;
            while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
                assertThat(System.currentTimeMillis()).as("reading back round %d", round).isLessThan(deadline);
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    TopicPartition tp = new TopicPartition(r.topic(), r.partition());
                    long expected = next.getOrDefault(tp, 0L);
                    assertThat(r.offset()).as("offsets contiguous in %s", tp).isEqualTo(expected);
                    next.put(tp, r.offset() + 1);
                    seen.merge(r.value(), 1, Integer::sum);
                }
            }
        }
        for (String value : acknowledged) {
            assertThat(seen.get(value)).as("acknowledged record %s after round %d", value, round).isEqualTo(1);
        }
    }
}
