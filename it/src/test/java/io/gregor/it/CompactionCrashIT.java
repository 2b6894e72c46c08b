package io.gregor.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 while the log cleaner works: a compacted topic written with acks=all while its segments are cleaned every
 * 50 ms is killed at a random moment, ten times; after every restart the log reads to its end with increasing
 * offsets, and every key reads as its last acknowledged value or a later one that was sent.
 */
class CompactionCrashIT {
    private static final int ROUNDS = 10;
    private static final int KEYS = 50;
    private static final String TOPIC = "compacted-crash";

    @TempDir
    Path dir;

    @Test
    @Timeout(600)
    void aCompactedLogSurvivesKillNineDuringCleaning() throws Exception {
        Path data = dir.resolve("data");
        int port = GregorProcess.freePort();
        String[] settings = {"log.cleaner.backoff.ms=50"};
        try (GregorProcess first = GregorProcess.start(data, port, settings);
             Admin admin = Admin.create(Map.of("bootstrap.servers", first.bootstrap()))) {
            admin.createTopics(List.of(new NewTopic(TOPIC, 1, (short) 1).configs(Map.of("cleanup.policy", "compact",
                    "segment.bytes", "30000", "min.cleanable.dirty.ratio", "0.01")))).all().get();
            first.stop();
        }
        // Per key, the sequence number of its last acknowledged value; values are "<sequence>-<padding>".
        Map<String, Long> acknowledged = new ConcurrentHashMap<>();
        AtomicLong sequence = new AtomicLong();
        long totalAcknowledged = 0;
        for (int round = 0; round < ROUNDS; round++) {
            GregorProcess node = GregorProcess.start(data, port, settings);
            try {
                verify(node.bootstrap(), acknowledged, sequence.get(), round);
                totalAcknowledged += produceThenKill(node, acknowledged, sequence, round);
            } finally {
                node.kill9();
            }
        }
        try (GregorProcess last = GregorProcess.start(data, port, settings)) {
            int left = verify(last.bootstrap(), acknowledged, sequence.get(), ROUNDS);
            assertThat((long) left).as("the cleaner removed superseded records").isLessThan(totalAcknowledged);
        }
        // The cleaner did run between the kills; how often a kill caught it mid-cleaning is printed for the record.
        String brokerLog = Files.readString(data.resolveSibling("data-broker.log"));
        assertThat(brokerLog).contains("cleaned offsets");
        System.out.printf("CompactionCrashIT: %d cleanings logged, %d unfinished cleanings discarded and %d interrupted "
                        + "swaps completed at restarts%n", count(brokerLog, "cleaned offsets"),
                count(brokerLog, "removing unfinished cleaned segment"), count(brokerLog, "completed an interrupted cleaning"));
        try (Stream<Path> files = Files.list(data.resolve(TOPIC + "-0"))) {
            assertThat(files.map(p -> p.getFileName().toString()))
                    .noneMatch(name -> name.endsWith(".swap") || name.endsWith(".cleaned"));
        }
    }

    private static long count(String text, String needle) {
        return text.lines().filter(line -> line.contains(needle)).count();
    }

    /** Produces acks=all for a random time after the first acknowledgement, then kills; returns the acknowledged count. */
    private static int produceThenKill(GregorProcess node, Map<String, Long> acknowledged, AtomicLong sequence, int round)
            throws Exception {
        return AcknowledgedProduceLoop.run(node.bootstrap(), "round " + round, 500, 1500,
                i -> new ProducerRecord<>(TOPIC, 0, "key-" + (i % KEYS), sequence.incrementAndGet() + "-" + "p".repeat(200)),
                record -> acknowledged.merge(record.key(), sequenceOf(record.value()), Math::max), node::kill9);
    }

    /** The sequence number a value starts with. */
    private static long sequenceOf(String value) {
        return Long.parseLong(value.substring(0, value.indexOf('-')));
    }

    /**
     * The whole log reads with increasing offsets, and each key's last value is at least its last acknowledged one
     * (and no newer than anything sent). Returns how many records the log holds.
     */
    private static int verify(String bootstrap, Map<String, Long> acknowledged, long sent, int round) {
        Properties props = new Properties();
        props.put("bootstrap.servers", bootstrap);
        props.put("max.poll.records", "5000");
        Map<String, Long> latest = new HashMap<>();
        int count = 0;
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer())) {
            TopicPartition tp = new TopicPartition(TOPIC, 0);
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            long end = consumer.endOffsets(List.of(tp)).get(tp);
            long previous = -1;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (consumer.position(tp) < end) {
                assertThat(System.nanoTime()).as("reading back round %d", round).isLessThan(deadline);
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    assertThat(r.offset()).as("offsets increase in round %d", round).isGreaterThan(previous);
                    previous = r.offset();
                    latest.put(r.key(), sequenceOf(r.value()));
                    count++;
                }
            }
        }
        for (Map.Entry<String, Long> e : acknowledged.entrySet()) {
            assertThat(latest.get(e.getKey())).as("latest value of %s after round %d", e.getKey(), round)
                    .isNotNull().isGreaterThanOrEqualTo(e.getValue()).isLessThanOrEqualTo(sent);
        }
        return count;
    }
}
