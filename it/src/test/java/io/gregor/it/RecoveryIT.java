package io.gregor.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Damaged logs are repaired when a node starts: torn tails, a corrupted batch, deleted index files. */
@Timeout(300)
class RecoveryIT {
    private static final String TOPIC = "recovery";
    private static final TopicPartition TP = new TopicPartition(TOPIC, 0);

    @TempDir
    Path dir;

    private Path partitionDir(Path data) {
        return data.resolve(TOPIC + "-0");
    }

    private static Path lastSegment(Path partition) throws IOException {
        try (Stream<Path> files = Files.list(partition)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".log"))
                    .max(Comparator.comparing(p -> p.getFileName().toString())).orElseThrow();
        }
    }

    private static void createTopic(String bootstrap) throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            admin.createTopics(List.of(new NewTopic(TOPIC, 1, (short) 1).configs(Map.of("segment.bytes", "65536")))).all().get();
        }
    }

    private static long produce(String bootstrap, int from, int count) throws Exception {
        Properties props = new Properties();
        props.put("bootstrap.servers", bootstrap);
        props.put("linger.ms", "1");
        RecordMetadata last = null;
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(props, new StringSerializer(), new StringSerializer())) {
            List<java.util.concurrent.Future<RecordMetadata>> futures = new ArrayList<>();
            for (int i = from; i < from + count; i++) {
                futures.add(producer.send(new ProducerRecord<>(TOPIC, 0, 1_000_000L + i, null, "value-" + i)));
            }
            for (var f : futures) {
                last = f.get();
            }
        }
        return last.offset();
    }

    private static List<ConsumerRecord<String, String>> readAll(String bootstrap) {
        Properties props = new Properties();
        props.put("bootstrap.servers", bootstrap);
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer())) {
            consumer.assign(List.of(TP));
            consumer.seekToBeginning(List.of(TP));
            long end = consumer.endOffsets(List.of(TP)).get(TP);
            List<ConsumerRecord<String, String>> records = new ArrayList<>();
            long deadline = System.currentTimeMillis() + 30_000;
            while (consumer.position(TP) < end && System.currentTimeMillis() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
            }
            return records;
        }
    }

    private static void assertContiguous(List<ConsumerRecord<String, String>> records, int count) {
        assertThat(records).hasSize(count);
        for (int i = 0; i < count; i++) {
            assertThat(records.get(i).offset()).isEqualTo(i);
            assertThat(records.get(i).value()).isEqualTo("value-" + i);
        }
    }

    @Test
    void tornTailIsTruncatedAfterKillNine() throws Exception {
        // Half a batch left at the end of the active segment (a torn write) is cut off; nothing acknowledged is lost.
        Path data = dir.resolve("data");
        int port = GregorProcess.freePort();
        try (GregorProcess node = GregorProcess.start(data, port)) {
            createTopic(node.bootstrap());
            produce(node.bootstrap(), 0, 3000);
            node.kill9();
        }
        Path segment = lastSegment(partitionDir(data));
        ByteBuffer head = ByteBuffer.allocate(40);
        try (FileChannel ch = FileChannel.open(segment, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ch.read(head, 0);
            head.flip();
            ch.write(head, ch.size());
        }
        try (GregorProcess node = GregorProcess.start(data, port)) {
            assertContiguous(readAll(node.bootstrap()), 3000);
            assertThat(produce(node.bootstrap(), 3000, 10)).isEqualTo(3009);
            assertContiguous(readAll(node.bootstrap()), 3010);
        }
    }

    @Test
    void corruptedBatchTruncatesTheLogThere() throws Exception {
        // A byte flipped inside the last batches of the active segment: the log is cut at the first bad batch and
        // stays appendable; everything before it is intact.
        Path data = dir.resolve("data");
        int port = GregorProcess.freePort();
        try (GregorProcess node = GregorProcess.start(data, port)) {
            createTopic(node.bootstrap());
            produce(node.bootstrap(), 0, 3000);
            node.kill9();
        }
        Path segment = lastSegment(partitionDir(data));
        long size = Files.size(segment);
        try (FileChannel ch = FileChannel.open(segment, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.allocate(1);
            ch.read(b, size - 20);
            b.flip();
            b.put(0, (byte) (b.get(0) ^ 0x5a));
            ch.write(b, size - 20);
        }
        try (GregorProcess node = GregorProcess.start(data, port)) {
            List<ConsumerRecord<String, String>> records = readAll(node.bootstrap());
            assertThat(records.size()).isLessThan(3000).isGreaterThan(2000);
            assertContiguous(records, records.size());
            long next = produce(node.bootstrap(), records.size(), 1);
            assertThat(next).isEqualTo(records.size());
        }
    }

    @Test
    void deletedIndexFilesAreRebuilt() throws Exception {
        // All .index and .timeindex files removed while stopped: reads and timestamp lookups work after restart.
        Path data = dir.resolve("data");
        int port = GregorProcess.freePort();
        try (GregorProcess node = GregorProcess.start(data, port)) {
            createTopic(node.bootstrap());
            produce(node.bootstrap(), 0, 3000);
            node.stop();
        }
        try (Stream<Path> files = Files.list(partitionDir(data))) {
            for (Path p : files.filter(f -> f.toString().endsWith(".index") || f.toString().endsWith(".timeindex")).toList()) {
                Files.delete(p);
            }
        }
        try (GregorProcess node = GregorProcess.start(data, port)) {
            assertContiguous(readAll(node.bootstrap()), 3000);
            Properties props = new Properties();
            props.put("bootstrap.servers", node.bootstrap());
            try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer())) {
                Map<TopicPartition, OffsetAndTimestamp> found = consumer.offsetsForTimes(Map.of(TP, 1_000_000L + 2500));
                assertThat(found.get(TP).offset()).isEqualTo(2500);
            }
        }
        assertThat(Files.exists(partitionDir(data).resolve("00000000000000000000.index"))).isTrue();
    }
}
