package io.gregor.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gregor.testkit.GregorCluster;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.InvalidRecordException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Log compaction seen by real clients: a compacted topic keeps the latest value of every key once the cleaner has
 * run, tombstones vanish after delete.retention.ms, offsets stay, and records without a key are refused.
 */
class CompactionIT {
    static GregorCluster gregor;
    static String bootstrap;

    @BeforeAll
    static void startBroker() throws Exception {
        gregor = GregorCluster.single().with("log.cleaner.backoff.ms", "100").start();
        bootstrap = gregor.bootstrapServers();
    }

    @AfterAll
    static void stopBroker() {
        if (gregor != null) {
            gregor.close();
        }
    }

    private static void createCompacted(String topic, Map<String, String> extra) throws Exception {
        Map<String, String> configs = new HashMap<>(Map.of("cleanup.policy", "compact", "segment.bytes", "20000",
                "min.cleanable.dirty.ratio", "0.01"));
        configs.putAll(extra);
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1).configs(configs))).all().get();
        }
    }

    private static KafkaProducer<String, String> producer() {
        Properties props = new Properties();
        props.put("bootstrap.servers", bootstrap);
        props.put("linger.ms", "5");
        return new KafkaProducer<>(props, new StringSerializer(), new StringSerializer());
    }

    /** Everything in partition 0 from the start, in order. */
    private static List<ConsumerRecord<String, String>> readAll(String topic) {
        Properties props = new Properties();
        props.put("bootstrap.servers", bootstrap);
        props.put("max.poll.records", "5000");
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer())) {
            TopicPartition tp = new TopicPartition(topic, 0);
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            long end = consumer.endOffsets(List.of(tp)).get(tp);
            List<ConsumerRecord<String, String>> all = new java.util.ArrayList<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (consumer.position(tp) < end) {
                assertThat(System.nanoTime()).as("reading %s", topic).isLessThan(deadline);
                consumer.poll(Duration.ofMillis(200)).forEach(all::add);
            }
            return all;
        }
    }

    @Test
    @Timeout(180)
    void aCompactedTopicKeepsTheLatestValueOfEveryKeyAndDropsTombstones() throws Exception {
        String topic = "compacted-latest";
        createCompacted(topic, Map.of("delete.retention.ms", "0"));
        int rounds = 100;
        try (KafkaProducer<String, String> producer = producer()) {
            for (int round = 0; round < rounds; round++) {
                for (int k = 0; k < 20; k++) {
                    producer.send(new ProducerRecord<>(topic, 0, "key-" + k, "round-" + round + "-" + "v".repeat(100)));
                }
            }
            // Keys 0-4 are deleted: their tombstones go once the cleaner has seen them (delete.retention.ms=0).
            for (int k = 0; k < 5; k++) {
                producer.send(new ProducerRecord<>(topic, 0, "key-" + k, null));
            }
            // Later writes roll the segments holding the tombstones out of the active one.
            for (int round = 0; round < 30; round++) {
                for (int k = 5; k < 20; k++) {
                    producer.send(new ProducerRecord<>(topic, 0, "key-" + k, "late-" + round + "-" + "v".repeat(100)));
                }
            }
            producer.flush();
        }
        int written = rounds * 20 + 5 + 30 * 15;
        // The cleaner runs every 100 ms; wait until it has removed most of the log.
        List<ConsumerRecord<String, String>> left = readAll(topic);
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (left.size() > written / 4 || left.stream().anyMatch(r -> r.value() == null)) {
            assertThat(System.nanoTime()).as("compaction of %s: %d of %d records left", topic, left.size(), written)
                    .isLessThan(deadline);
            Thread.sleep(200);
            left = readAll(topic);
        }
        Map<String, String> latest = new HashMap<>();
        long previous = -1;
        for (ConsumerRecord<String, String> r : left) {
            assertThat(r.offset()).as("offsets only grow").isGreaterThan(previous);
            previous = r.offset();
            latest.put(r.key(), r.value());
        }
        assertThat(latest).hasSize(15).doesNotContainKeys("key-0", "key-1", "key-2", "key-3", "key-4");
        assertThat(latest).allSatisfy((k, v) -> assertThat(v).startsWith("late-29-"));
        assertThat(previous).as("the last offset is kept").isEqualTo(written - 1);
    }

    @Test
    void aRecordWithoutAKeyIsRefusedByACompactedTopic() throws Exception {
        String topic = "compacted-keyless";
        createCompacted(topic, Map.of());
        try (KafkaProducer<String, String> producer = producer()) {
            assertThatThrownBy(() -> producer.send(new ProducerRecord<>(topic, 0, null, "no key")).get())
                    .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(InvalidRecordException.class);
            assertThat(producer.send(new ProducerRecord<>(topic, 0, "k", "with key")).get().offset()).isZero();
        }
    }

    /** The transaction markers in the segment files of partition 0 of {@code topic}: how many commits and aborts. */
    private static int[] markersOnDisk(String topic) throws java.io.IOException {
        int[] commitsAndAborts = new int[2];
        java.nio.file.Path dir = gregor.dataDir().resolve(topic + "-0");
        List<java.nio.file.Path> segments;
        try (var files = java.nio.file.Files.list(dir)) {
            segments = files.filter(f -> f.getFileName().toString().endsWith(".log")).sorted().toList();
        }
        for (java.nio.file.Path segment : segments) {
            try (var records = org.apache.kafka.common.record.FileRecords.open(segment.toFile(), false)) {
                for (var batch : records.batches()) {
                    if (batch.isControlBatch()) {
                        var type = org.apache.kafka.common.record.ControlRecordType.parse(batch.iterator().next().key());
                        commitsAndAborts[type == org.apache.kafka.common.record.ControlRecordType.COMMIT ? 0 : 1]++;
                    }
                }
            } catch (java.nio.file.NoSuchFileException | org.apache.kafka.common.KafkaException e) {
                return null; // swapped by the cleaner while being read: look again
            }
        }
        return commitsAndAborts;
    }

    @Test
    @Timeout(180)
    void transactionMarkersGoOnceNothingOfTheirTransactionIsLeftAndReadCommittedStaysRight() throws Exception {
        String topic = "compacted-transactions";
        createCompacted(topic, Map.of("delete.retention.ms", "0"));
        Properties props = new Properties();
        props.put("bootstrap.servers", bootstrap);
        props.put("transactional.id", "compacted-writer");
        try (KafkaProducer<String, String> txn = new KafkaProducer<>(props, new StringSerializer(), new StringSerializer())) {
            txn.initTransactions();
            for (int i = 0; i < 20; i++) {
                txn.beginTransaction();
                txn.send(new ProducerRecord<>(topic, 0, "c-" + i, (i % 2 == 0 ? "aborted-" : "committed-") + i)).get();
                if (i % 2 == 0) {
                    txn.abortTransaction();
                } else {
                    txn.commitTransaction();
                }
            }
        }
        try (KafkaProducer<String, String> producer = producer()) {
            // Records of the first five committed transactions are superseded: their markers may go; the other five stay.
            for (int i = 1; i < 10; i += 2) {
                producer.send(new ProducerRecord<>(topic, 0, "c-" + i, "plain-" + i));
            }
            for (int round = 0; round < 30; round++) {
                for (int k = 0; k < 10; k++) {
                    producer.send(new ProducerRecord<>(topic, 0, "filler-" + k, "round-" + round + "-" + "v".repeat(200)));
                }
            }
            producer.flush();
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        int[] markers = markersOnDisk(topic);
        while (markers == null || markers[1] > 0 || markers[0] > 5) {
            assertThat(System.nanoTime()).as("markers on disk: %s", markers == null ? "?" : markers[0] + " commits, "
                    + markers[1] + " aborts").isLessThan(deadline);
            Thread.sleep(200);
            markers = markersOnDisk(topic);
        }
        assertThat(markers[0]).as("the markers of the transactions whose records are still there").isEqualTo(5);
        // With the aborted transactions' markers gone, read_committed still sees the committed ones of the same producer.
        Properties consumerProps = new Properties();
        consumerProps.put("bootstrap.servers", bootstrap);
        consumerProps.put("isolation.level", "read_committed");
        Map<String, String> latest = new HashMap<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(consumerProps, new StringDeserializer(), new StringDeserializer())) {
            TopicPartition tp = new TopicPartition(topic, 0);
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            long end = consumer.endOffsets(List.of(tp)).get(tp);
            long readDeadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (consumer.position(tp) < end) {
                assertThat(System.nanoTime()).as("reading %s", topic).isLessThan(readDeadline);
                consumer.poll(Duration.ofMillis(200)).forEach(r -> latest.put(r.key(), r.value()));
            }
        }
        for (int i = 0; i < 20; i++) {
            if (i % 2 == 0) {
                assertThat(latest).doesNotContainKey("c-" + i);
            } else {
                assertThat(latest).containsEntry("c-" + i, (i < 10 ? "plain-" : "committed-") + i);
            }
        }
    }
}
