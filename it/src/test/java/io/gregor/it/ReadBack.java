package io.gregor.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;

/** Reads a partition back with a Java 4.2 consumer (no group), as the tests' independent witness of what was stored. */
final class ReadBack {
    private ReadBack() {
    }

    /** The partition's records from its start, until {@code expected} arrived or 20 s passed. */
    static List<ConsumerRecord<String, String>> partition(String bootstrap, String topic, int partition, int expected) {
        Properties props = new Properties();
        props.put("bootstrap.servers", bootstrap);
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer())) {
            TopicPartition tp = new TopicPartition(topic, partition);
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            List<ConsumerRecord<String, String>> records = new ArrayList<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (records.size() < expected && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
            }
            return records;
        }
    }

    /**
     * Reads partitions 0..{@code partitions}-1 of {@code topic} from their start to their end: offsets are contiguous
     * from 0 and every value of {@code acknowledged} is there exactly once ({@code round} names the check in failures).
     */
    static void assertEveryAcknowledgedOnce(String bootstrap, String topic, int partitions, Set<String> acknowledged,
                                            int round) {
        Properties props = new Properties();
        props.put("bootstrap.servers", bootstrap);
        props.put("max.poll.records", "5000");
        Map<String, Integer> seen = new HashMap<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer())) {
            List<TopicPartition> all = new ArrayList<>();
            for (int p = 0; p < partitions; p++) {
                all.add(new TopicPartition(topic, p));
            }
            consumer.assign(all);
            consumer.seekToBeginning(all);
            Map<TopicPartition, Long> end = consumer.endOffsets(all);
            Map<TopicPartition, Long> next = new HashMap<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (all.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
                assertThat(System.nanoTime()).as("reading back after round %d", round).isLessThan(deadline);
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    TopicPartition tp = new TopicPartition(r.topic(), r.partition());
                    long expected = next.getOrDefault(tp, 0L);
                    assertThat(r.offset()).as("offsets contiguous in %s after round %d", tp, round).isEqualTo(expected);
                    next.put(tp, r.offset() + 1);
                    seen.merge(r.value(), 1, Integer::sum);
                }
            }
        }
        // The count and a few examples: a broker that acknowledges before its fsync loses thousands per round.
        List<String> lost = acknowledged.stream().filter(v -> !seen.containsKey(v)).sorted().toList();
        assertThat(lost.size()).as("acknowledged records lost after round %d (of %d acknowledged), first %s", round,
                acknowledged.size(), lost.subList(0, Math.min(10, lost.size()))).isZero();
        for (String value : acknowledged) {
            assertThat(seen.get(value)).as("copies of acknowledged record %s after round %d", value, round).isEqualTo(1);
        }
    }
}
