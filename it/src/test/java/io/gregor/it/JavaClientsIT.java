package io.gregor.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.gregor.testkit.GregorCluster;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsResult.ListOffsetsResultInfo;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The Java clients (kafka-clients 4.2.0) in ways the other suites do not cover. */
class JavaClientsIT {
    static GregorCluster gregor;
    static String bootstrap;

    @BeforeAll
    static void start() throws Exception {
        gregor = GregorCluster.single().start();
        bootstrap = gregor.bootstrapServers();
    }

    @AfterAll
    static void stop() {
        gregor.close();
    }

    static Properties props(String... kv) {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        for (int i = 0; i < kv.length; i += 2) {
            p.put(kv[i], kv[i + 1]);
        }
        return p;
    }

    static <K, V> List<ConsumerRecord<K, V>> read(KafkaConsumer<K, V> consumer, TopicPartition tp, int expected) {
        consumer.assign(List.of(tp));
        consumer.seekToBeginning(List.of(tp));
        List<ConsumerRecord<K, V>> out = new ArrayList<>();
        long deadline = System.currentTimeMillis() + 20_000;
        while (out.size() < expected && System.currentTimeMillis() < deadline) {
            consumer.poll(Duration.ofMillis(200)).forEach(out::add);
        }
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {"none", "gzip", "snappy", "lz4", "zstd"})
    void compressedBatchesRoundTrip(String codec) throws Exception {
        // The default idempotent producer with each codec; batches are stored as sent and decompressed by the consumer.
        String topic = "java-" + codec;
        try (var producer = new KafkaProducer<>(props("compression.type", codec, "linger.ms", "20"),
                new StringSerializer(), new StringSerializer())) {
            for (int i = 0; i < 2000; i++) {
                producer.send(new ProducerRecord<>(topic, 0, "k" + i, "value-" + i + "-" + "x".repeat(i % 50)));
            }
            producer.flush();
        }
        try (var consumer = new KafkaConsumer<>(props(), new StringDeserializer(), new StringDeserializer())) {
            List<ConsumerRecord<String, String>> records = read(consumer, new TopicPartition(topic, 0), 2000);
            assertThat(records).hasSize(2000);
            for (int i = 0; i < 2000; i++) {
                assertThat(records.get(i).key()).isEqualTo("k" + i);
                assertThat(records.get(i).offset()).isEqualTo(i);
            }
        }
    }

    @Test
    void logAppendTimeTopicsStampBrokerTime() throws Exception {
        // message.timestamp.type=LogAppendTime: the produce response and the records carry the broker's clock.
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            admin.createTopics(List.of(new NewTopic("append-time", 1, (short) 1)
                    .configs(Map.of("message.timestamp.type", "LogAppendTime")))).all().get();
        }
        long before = System.currentTimeMillis();
        RecordMetadata metadata;
        try (var producer = new KafkaProducer<>(props(), new StringSerializer(), new StringSerializer())) {
            metadata = producer.send(new ProducerRecord<>("append-time", 0, 42L, "k", "v")).get();
        }
        long after = System.currentTimeMillis();
        assertThat(metadata.timestamp()).isBetween(before, after);
        try (var consumer = new KafkaConsumer<>(props(), new StringDeserializer(), new StringDeserializer())) {
            ConsumerRecord<String, String> record = read(consumer, new TopicPartition("append-time", 0), 1).get(0);
            assertThat(record.timestampType()).isEqualTo(TimestampType.LOG_APPEND_TIME);
            assertThat(record.timestamp()).isEqualTo(metadata.timestamp());
        }
    }

    @Test
    void adminListOffsetsByTimestampEarliestLatestAndMax() throws Exception {
        // Records with explicit timestamps 1000..1099 (max at offset 50): Admin.listOffsets answers at record precision.
        TopicPartition tp = new TopicPartition("times", 0);
        try (var producer = new KafkaProducer<>(props("linger.ms", "50"), new StringSerializer(), new StringSerializer())) {
            for (int i = 0; i < 100; i++) {
                long ts = i == 50 ? 5000 : 1000 + i;
                producer.send(new ProducerRecord<>("times", 0, ts, null, "v" + i));
            }
            producer.flush();
        }
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            Map<TopicPartition, ListOffsetsResultInfo> r;
            r = admin.listOffsets(Map.of(tp, OffsetSpec.forTimestamp(1030))).all().get();
            assertThat(r.get(tp).offset()).isEqualTo(30);
            assertThat(r.get(tp).timestamp()).isEqualTo(1030);
            assertThat(admin.listOffsets(Map.of(tp, OffsetSpec.earliest())).all().get().get(tp).offset()).isZero();
            assertThat(admin.listOffsets(Map.of(tp, OffsetSpec.latest())).all().get().get(tp).offset()).isEqualTo(100);
            ListOffsetsResultInfo max = admin.listOffsets(Map.of(tp, OffsetSpec.maxTimestamp())).all().get().get(tp);
            assertThat(max.offset()).isEqualTo(50);
            assertThat(max.timestamp()).isEqualTo(5000);
            assertThat(admin.listOffsets(Map.of(tp, OffsetSpec.forTimestamp(9999))).all().get().get(tp).offset()).isEqualTo(-1);
        }
    }

    @Test
    void recordLargerThanFetchLimitsIsStillDelivered() throws Exception {
        // KIP-74: a 900 KB record arrives even with max.partition.fetch.bytes and fetch.max.bytes far below it.
        byte[] big = new byte[900_000];
        java.util.Arrays.fill(big, (byte) 7);
        try (var producer = new KafkaProducer<>(props("max.request.size", "2000000"), new ByteArraySerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>("big", 0, null, big)).get();
            producer.send(new ProducerRecord<>("big", 0, null, new byte[] {1})).get();
        }
        try (var consumer = new KafkaConsumer<>(props("max.partition.fetch.bytes", "1024", "fetch.max.bytes", "2048"),
                new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<ConsumerRecord<byte[], byte[]>> records = read(consumer, new TopicPartition("big", 0), 2);
            assertThat(records).hasSize(2);
            assertThat(records.get(0).value()).hasSize(900_000);
        }
    }

    @Test
    void consumerSeeksToAnOffsetAndByTime() throws Exception {
        // seek(), offsetsForTimes() and position() on a 3-partition topic created by the admin client.
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            admin.createTopics(List.of(new NewTopic("seeky", 3, (short) 1))).all().get();
        }
        try (var producer = new KafkaProducer<>(props(), new StringSerializer(), new StringSerializer())) {
            for (int i = 0; i < 30; i++) {
                producer.send(new ProducerRecord<>("seeky", i % 3, 10_000L + i, null, "v" + i));
            }
            producer.flush();
        }
        TopicPartition tp = new TopicPartition("seeky", 1);
        try (var consumer = new KafkaConsumer<>(props(), new StringDeserializer(), new StringDeserializer())) {
            consumer.assign(List.of(tp));
            consumer.seek(tp, 4);
            List<String> values = new ArrayList<>();
            long deadline = System.currentTimeMillis() + 10_000;
            while (values.size() < 6 && System.currentTimeMillis() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(r -> values.add(r.value()));
            }
            assertThat(values).containsExactly("v13", "v16", "v19", "v22", "v25", "v28");
            var found = consumer.offsetsForTimes(Map.of(tp, 10_020L)).get(tp);
            assertThat(found.offset()).isEqualTo(7);
            assertThat(consumer.position(tp)).isEqualTo(10);
        }
    }
}
