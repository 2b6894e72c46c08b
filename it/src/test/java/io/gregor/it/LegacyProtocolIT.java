package io.gregor.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.gregor.broker.Broker;
import io.gregor.legacy.kafka.common.message.DescribeConfigsRequestData;
import io.gregor.legacy.kafka.common.message.DescribeConfigsResponseData;
import io.gregor.legacy.kafka.common.message.FetchRequestData;
import io.gregor.legacy.kafka.common.message.FetchResponseData;
import io.gregor.legacy.kafka.common.message.ListOffsetsRequestData;
import io.gregor.legacy.kafka.common.message.ListOffsetsResponseData;
import io.gregor.legacy.kafka.common.message.OffsetCommitRequestData;
import io.gregor.legacy.kafka.common.message.OffsetCommitResponseData;
import io.gregor.legacy.kafka.common.message.OffsetFetchRequestData;
import io.gregor.legacy.kafka.common.message.OffsetFetchResponseData;
import io.gregor.legacy.kafka.common.message.ProduceRequestData;
import io.gregor.legacy.kafka.common.message.ProduceResponseData;
import io.gregor.legacy.kafka.common.record.LegacyRecord;
import io.gregor.testkit.GregorCluster;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.MutableRecordBatch;
import org.apache.kafka.common.record.Record;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The request versions and message formats Kafka 4.0 removed (KIP-896), over a raw socket with requests encoded by
 * kafka-clients 3.9.1's own message classes: round trips in every version, bad v0/v1 input answered with Kafka's
 * error codes, records of 4.2 producers down-converted for old readers, offsets committed with v0 seen by 4.2 tools,
 * topic-level compression.type, and {@code legacy.protocol.enable=false} behaving as Kafka 4.x.
 */
class LegacyProtocolIT {
    @TempDir
    static Path dir;
    private static GregorCluster gregor;
    private static Broker broker;

    @BeforeAll
    static void start() {
        gregor = GregorCluster.single().dataDir(dir.resolve("on")).with("num.partitions", "1").start();
        broker = gregor.broker();
    }

    @AfterAll
    static void stop() {
        if (gregor != null) {
            gregor.close();
        }
    }

    private static InetSocketAddress address(Broker b) {
        return new InetSocketAddress("127.0.0.1", b.boundPort());
    }

    /** A v0/v1 message set as an old producer builds it. */
    static ByteBuffer messageSet(byte magic, String codec, String... values) {
        var builder = io.gregor.legacy.kafka.common.record.MemoryRecords.builder(ByteBuffer.allocate(1024), magic,
                io.gregor.legacy.kafka.common.compress.Compression.of(codec).build(),
                magic == 0 ? io.gregor.legacy.kafka.common.record.TimestampType.NO_TIMESTAMP_TYPE
                        : io.gregor.legacy.kafka.common.record.TimestampType.CREATE_TIME, 0L);
        for (int i = 0; i < values.length; i++) {
            builder.append(1_700_000_000_000L + i, ("key-" + i).getBytes(StandardCharsets.UTF_8), values[i].getBytes(StandardCharsets.UTF_8));
        }
        return builder.build().buffer();
    }

    static ProduceResponseData.PartitionProduceResponse produceLegacy(RawKafkaClient client, String topic, ByteBuffer set,
                                                                      short version) throws IOException {
        var request = new ProduceRequestData().setAcks((short) -1).setTimeoutMs(10_000);
        var topicData = new ProduceRequestData.TopicProduceData().setName(topic);
        topicData.partitionData().add(new ProduceRequestData.PartitionProduceData().setIndex(0)
                .setRecords(io.gregor.legacy.kafka.common.record.MemoryRecords.readableRecords(set)));
        request.topicData().add(topicData);
        ProduceResponseData response = client.sendLegacy(request, version);
        return response.responses().iterator().next().partitionResponses().get(0);
    }

    static FetchResponseData.PartitionData fetchLegacy(RawKafkaClient client, String topic, long offset, int maxBytes,
                                                       short version) throws IOException {
        var request = new FetchRequestData().setReplicaId(-1).setMaxWaitMs(0).setMinBytes(0).setMaxBytes(maxBytes);
        var fetchTopic = new FetchRequestData.FetchTopic().setTopic(topic);
        fetchTopic.partitions().add(new FetchRequestData.FetchPartition().setPartition(0).setFetchOffset(offset)
                .setPartitionMaxBytes(maxBytes));
        request.topics().add(fetchTopic);
        FetchResponseData response = client.sendLegacy(request, version);
        return response.responses().get(0).partitions().get(0);
    }

    /** The messages of a legacy fetch, each checked (CRC) and in the expected format. */
    static List<io.gregor.legacy.kafka.common.record.Record> messages(FetchResponseData.PartitionData data, byte magic) {
        List<io.gregor.legacy.kafka.common.record.Record> out = new ArrayList<>();
        var records = (io.gregor.legacy.kafka.common.record.MemoryRecords) data.records();
        for (var batch : records.batches()) {
            assertThat(batch.magic()).isEqualTo(magic);
            batch.ensureValid();
            for (var record : batch) {
                record.ensureValid();
                out.add(record);
            }
        }
        return out;
    }

    /**
     * Every message from {@code from} to the high watermark, fetched as an old client does: one response per segment
     * (records stamped with old timestamps roll a segment per batch, as in Kafka), next offset after the last message.
     */
    static List<io.gregor.legacy.kafka.common.record.Record> fetchAllLegacy(RawKafkaClient client, String topic, long from,
                                                                            short version) throws IOException {
        byte magic = version <= 1 ? (byte) 0 : (byte) 1;
        List<io.gregor.legacy.kafka.common.record.Record> all = new ArrayList<>();
        long offset = from;
        for (int round = 0; round < 100; round++) {
            var data = fetchLegacy(client, topic, offset, 1 << 20, version);
            assertThat(Errors.forCode(data.errorCode())).isEqualTo(Errors.NONE);
            var page = messages(data, magic);
            all.addAll(page);
            if (!page.isEmpty()) {
                offset = page.get(page.size() - 1).offset() + 1;
            }
            if (offset >= data.highWatermark() || page.isEmpty()) {
                return all;
            }
        }
        throw new AssertionError("no end after 100 fetches");
    }

    static void ensureTopic(RawKafkaClient client, String topic) throws IOException {
        client.send(new org.apache.kafka.common.message.MetadataRequestData().setTopics(List.of(
                new org.apache.kafka.common.message.MetadataRequestData.MetadataRequestTopic().setName(topic))), (short) 0);
    }

    static String utf8(ByteBuffer b) {
        return b == null ? null : StandardCharsets.UTF_8.decode(b.duplicate()).toString();
    }

    static long latestV0(RawKafkaClient client, String topic, long timestamp) throws IOException {
        var request = new ListOffsetsRequestData().setReplicaId(-1);
        var t = new ListOffsetsRequestData.ListOffsetsTopic().setName(topic);
        t.partitions().add(new ListOffsetsRequestData.ListOffsetsPartition().setPartitionIndex(0).setTimestamp(timestamp)
                .setMaxNumOffsets(1));
        request.topics().add(t);
        ListOffsetsResponseData response = client.sendLegacy(request, (short) 0);
        var p = response.topics().get(0).partitions().get(0);
        assertThat(p.errorCode()).isZero();
        assertThat(p.oldStyleOffsets()).hasSize(1);
        return p.oldStyleOffsets().get(0);
    }

    @ParameterizedTest(name = "Produce v{0} with {1}")
    @CsvSource({"0,none", "0,gzip", "1,snappy", "1,lz4", "2,none", "2,gzip", "2,snappy", "2,lz4"})
    void everyProduceVersionAndCodecIsReadBackByEveryFetchVersion(short produceVersion, String codec) throws IOException {
        String topic = "legacy-rt-" + produceVersion + "-" + codec;
        byte produceMagic = produceVersion < 2 ? (byte) 0 : (byte) 1;
        try (RawKafkaClient client = new RawKafkaClient(address(broker))) {
            // The topic is created on first use (Metadata v0 auto-creation, as an old client does).
            ensureTopic(client, topic);
            var first = produceLegacy(client, topic, messageSet(produceMagic, codec, "a", "b", "c"), produceVersion);
            assertThat(Errors.forCode(first.errorCode())).isEqualTo(Errors.NONE);
            assertThat(first.baseOffset()).isZero();
            var second = produceLegacy(client, topic, messageSet(produceMagic, codec, "d"), produceVersion);
            assertThat(second.baseOffset()).isEqualTo(3);
            assertThat(latestV0(client, topic, -1)).isEqualTo(4);
            assertThat(latestV0(client, topic, -2)).isZero();
            for (short fetchVersion = 0; fetchVersion <= 3; fetchVersion++) {
                byte magic = fetchVersion <= 1 ? (byte) 0 : (byte) 1;
                var got = fetchAllLegacy(client, topic, 1, fetchVersion);
                assertThat(got).extracting(r -> utf8(r.value())).containsExactly("b", "c", "d");
                assertThat(got).extracting(io.gregor.legacy.kafka.common.record.Record::offset).containsExactly(1L, 2L, 3L);
                assertThat(utf8(got.get(0).key())).isEqualTo("key-1");
                long expectedTimestamp = magic == 0 || produceMagic == 0 ? -1L : 1_700_000_000_001L;
                assertThat(got.get(0).timestamp()).isEqualTo(expectedTimestamp);
            }
        }
        // A 4.2 consumer reads what the old producer wrote, with v1 timestamps kept.
        try (KafkaConsumer<String, String> consumer = consumer()) {
            TopicPartition tp = new TopicPartition(topic, 0);
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            List<String> values = new ArrayList<>();
            List<Long> timestamps = new ArrayList<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (values.size() < 4 && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(r -> {
                    values.add(r.value());
                    timestamps.add(r.timestamp());
                });
            }
            assertThat(values).containsExactly("a", "b", "c", "d");
            assertThat(timestamps.get(1)).isEqualTo(produceMagic == 0 ? -1L : 1_700_000_000_001L);
        }
    }

    @Test
    void badLegacyMessageSetsGetKafkasErrorsAndNothingIsStored() throws IOException {
        String topic = "legacy-bad";
        try (RawKafkaClient client = new RawKafkaClient(address(broker))) {
            ensureTopic(client, topic);
            assertThat(Errors.forCode(produceLegacy(client, topic, messageSet((byte) 1, "none", "ok"), (short) 2).errorCode()))
                    .isEqualTo(Errors.NONE);
            ByteBuffer badCrc = messageSet((byte) 1, "none", "x", "y");
            badCrc.put(badCrc.limit() - 1, (byte) (badCrc.get(badCrc.limit() - 1) ^ 0x40));
            assertError(client, topic, badCrc, (short) 2, Errors.CORRUPT_MESSAGE);

            ByteBuffer truncated = messageSet((byte) 0, "gzip", "one", "two", "three");
            assertError(client, topic, truncated.duplicate().limit(truncated.limit() - 5).slice(), (short) 0, Errors.CORRUPT_MESSAGE);

            ByteBuffer nested = wrap((byte) 1, "gzip", messageSet((byte) 1, "snappy", "inner"));
            assertError(client, topic, nested, (short) 2, Errors.INVALID_RECORD);

            ByteBuffer negative = messageSet((byte) 0, "none", "n");
            negative.putInt(8, -5);
            assertError(client, topic, negative, (short) 0, Errors.CORRUPT_MESSAGE);

            ByteBuffer zstdWrapper = wrapRaw((byte) 1, 4, new byte[] {1, 2, 3});
            assertError(client, topic, zstdWrapper, (short) 2, Errors.INVALID_RECORD);

            assertThat(latestV0(client, topic, -1)).as("only the one good message is stored").isEqualTo(1);
            assertThat(messages(fetchLegacy(client, topic, 0, 1 << 20, (short) 3), (byte) 1))
                    .extracting(r -> utf8(r.value())).containsExactly("ok");
        }
    }

    private static void assertError(RawKafkaClient client, String topic, ByteBuffer set, short version, Errors error)
            throws IOException {
        assertThat(Errors.forCode(produceLegacy(client, topic, set, version).errorCode())).isEqualTo(error);
    }

    /** A wrapper message whose compressed value is {@code innerSet}. */
    static ByteBuffer wrap(byte magic, String codec, ByteBuffer innerSet) {
        var compression = io.gregor.legacy.kafka.common.compress.Compression.of(codec).build();
        var out = new io.gregor.legacy.kafka.common.utils.ByteBufferOutputStream(256);
        try (var stream = compression.wrapForOutput(out, magic)) {
            byte[] bytes = new byte[innerSet.remaining()];
            innerSet.duplicate().get(bytes);
            stream.write(bytes);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        ByteBuffer compressed = out.buffer().flip();
        byte[] value = new byte[compressed.remaining()];
        compressed.get(value);
        return wrapRaw(magic, io.gregor.legacy.kafka.common.record.CompressionType.forName(codec).id, value);
    }

    /** A message with the given compression attribute and raw value (the value is not compressed here). */
    static ByteBuffer wrapRaw(byte magic, int codecId, byte[] value) {
        var record = LegacyRecord.create(magic, 1_700_000_000_000L, null, value,
                io.gregor.legacy.kafka.common.record.CompressionType.NONE,
                io.gregor.legacy.kafka.common.record.TimestampType.CREATE_TIME);
        ByteBuffer message = record.buffer().duplicate();
        // Set the codec bits of the attributes byte (after CRC and magic) and recompute the CRC over the rest.
        int attributesAt = 5;
        message.put(attributesAt, (byte) ((message.get(attributesAt) & ~0x07) | codecId));
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(message.duplicate().position(4));
        message.putInt(0, (int) crc.getValue());
        ByteBuffer set = ByteBuffer.allocate(12 + message.remaining());
        set.putLong(0L).putInt(message.remaining()).put(message);
        return set.flip();
    }

    @Test
    void recordsOfA42ProducerReachOldReadersInEveryCodec() throws Exception {
        for (String codec : List.of("none", "gzip", "snappy", "lz4", "zstd")) {
            String topic = "legacy-from-42-" + codec;
            try (KafkaProducer<String, String> producer = producer(codec)) {
                for (int i = 0; i < 5; i++) {
                    var record = new ProducerRecord<>(topic, 0, 1_700_000_000_000L + i, "k" + i, "v" + i);
                    record.headers().add(new RecordHeader("h", new byte[] {7}));
                    producer.send(record).get();
                }
            }
            try (RawKafkaClient client = new RawKafkaClient(address(broker))) {
                for (short version = 0; version <= 3; version++) {
                    byte magic = version <= 1 ? (byte) 0 : (byte) 1;
                    if (codec.equals("zstd")) {
                        var data = fetchLegacy(client, topic, 0, 1 << 20, version);
                        assertThat(Errors.forCode(data.errorCode())).as("zstd for Fetch v%d", version)
                                .isEqualTo(Errors.UNSUPPORTED_COMPRESSION_TYPE);
                        continue;
                    }
                    var got = fetchAllLegacy(client, topic, 0, version);
                    assertThat(got).extracting(r -> utf8(r.value())).containsExactly("v0", "v1", "v2", "v3", "v4");
                    assertThat(got).extracting(r -> utf8(r.key())).containsExactly("k0", "k1", "k2", "k3", "k4");
                    assertThat(got.get(4).timestamp()).isEqualTo(magic == 0 ? -1L : 1_700_000_000_004L);
                    var data = fetchLegacy(client, topic, 0, 1 << 20, version);
                    var wrapperCodec = ((io.gregor.legacy.kafka.common.record.MemoryRecords) data.records()).batches()
                            .iterator().next().compressionType().name;
                    assertThat(wrapperCodec).isEqualTo(codec);
                }
            }
        }
    }

    @Test
    void aLegacyFetchIsBoundedByItsMaxBytesButAlwaysGivesOneMessage() throws Exception {
        String topic = "legacy-bounded";
        try (KafkaProducer<String, String> producer = producer("none")) {
            // One batch of 200 records of 100 bytes: bigger than the fetch limits below.
            List<java.util.concurrent.Future<?>> sent = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                sent.add(producer.send(new ProducerRecord<>(topic, 0, null, String.format("%0100d", i))));
            }
            producer.flush();
            for (var f : sent) {
                f.get();
            }
        }
        try (RawKafkaClient client = new RawKafkaClient(address(broker))) {
            var tiny = messages(fetchLegacy(client, topic, 0, 10, (short) 0), (byte) 0);
            assertThat(tiny).hasSize(1);
            var some = fetchLegacy(client, topic, 0, 1000, (short) 2);
            assertThat(some.records().sizeInBytes()).isLessThanOrEqualTo(1000);
            assertThat(messages(some, (byte) 1)).hasSizeBetween(2, 9);
            long offset = 0;
            int total = 0;
            while (offset < 200) {
                var page = messages(fetchLegacy(client, topic, offset, 3000, (short) 1), (byte) 0);
                assertThat(page).isNotEmpty();
                assertThat(page.get(0).offset()).isEqualTo(offset);
                offset = page.get(page.size() - 1).offset() + 1;
                total += page.size();
            }
            assertThat(total).isEqualTo(200);
        }
    }

    @Test
    void offsetsCommittedWithV0AndV1AreTheOffsetsEveryToolSees() throws Exception {
        String topic = "legacy-commits";
        try (RawKafkaClient client = new RawKafkaClient(address(broker))) {
            ensureTopic(client, topic);
            produceLegacy(client, topic, messageSet((byte) 0, "none", "a", "b", "c", "d", "e"), (short) 0);
            for (short version = 0; version <= 1; version++) {
                var request = new OffsetCommitRequestData().setGroupId("legacy-group-v" + version);
                var t = new OffsetCommitRequestData.OffsetCommitRequestTopic().setName(topic);
                t.partitions().add(new OffsetCommitRequestData.OffsetCommitRequestPartition().setPartitionIndex(0)
                        .setCommittedOffset(3 + version).setCommittedMetadata("m" + version)
                        .setCommitTimestamp(version == 1 ? System.currentTimeMillis() : -1));
                request.topics().add(t);
                OffsetCommitResponseData response = client.sendLegacy(request, version);
                assertThat(response.topics().get(0).partitions().get(0).errorCode()).isZero();

                var fetch = new OffsetFetchRequestData().setGroupId("legacy-group-v" + version);
                fetch.topics().add(new OffsetFetchRequestData.OffsetFetchRequestTopic().setName(topic).setPartitionIndexes(List.of(0)));
                OffsetFetchResponseData fetched = client.sendLegacy(fetch, (short) 0);
                assertThat(fetched.topics().get(0).partitions().get(0).committedOffset()).isEqualTo(3 + version);
                assertThat(fetched.topics().get(0).partitions().get(0).metadata()).isEqualTo("m" + version);
            }
        }
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrapServers()))) {
            Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets("legacy-group-v0")
                    .partitionsToOffsetAndMetadata().get();
            assertThat(offsets.get(new TopicPartition(topic, 0)).offset()).isEqualTo(3);
            assertThat(offsets.get(new TopicPartition(topic, 0)).metadata()).isEqualTo("m0");
        }
        // A 4.2 group consumer resumes where the v0 commit left it.
        Properties props = consumerProps();
        props.put("group.id", "legacy-group-v0");
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer())) {
            consumer.subscribe(List.of(topic));
            List<Long> offsets = new ArrayList<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (offsets.size() < 2 && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(r -> offsets.add(r.offset()));
            }
            assertThat(offsets).containsExactly(3L, 4L);
        }
    }

    @Test
    void describeConfigsV0AndTheOtherRemovedVersionsAreServed() throws IOException {
        try (RawKafkaClient client = new RawKafkaClient(address(broker))) {
            var create = new io.gregor.legacy.kafka.common.message.CreateTopicsRequestData().setTimeoutMs(10_000);
            create.topics().add(new io.gregor.legacy.kafka.common.message.CreateTopicsRequestData.CreatableTopic()
                    .setName("legacy-admin").setNumPartitions(2).setReplicationFactor((short) 1));
            io.gregor.legacy.kafka.common.message.CreateTopicsResponseData created = client.sendLegacy(create, (short) 0);
            assertThat(created.topics().find("legacy-admin").errorCode()).isZero();
            io.gregor.legacy.kafka.common.message.CreateTopicsResponseData again = client.sendLegacy(create, (short) 1);
            assertThat(Errors.forCode(again.topics().find("legacy-admin").errorCode())).isEqualTo(Errors.TOPIC_ALREADY_EXISTS);

            var describe = new DescribeConfigsRequestData();
            describe.resources().add(new DescribeConfigsRequestData.DescribeConfigsResource().setResourceType((byte) 2)
                    .setResourceName("legacy-admin").setConfigurationKeys(List.of("retention.ms", "cleanup.policy")));
            DescribeConfigsResponseData described = client.sendLegacy(describe, (short) 0);
            var configs = described.results().get(0).configs();
            assertThat(described.results().get(0).errorCode()).isZero();
            assertThat(configs).extracting(DescribeConfigsResponseData.DescribeConfigsResourceResult::name)
                    .containsExactlyInAnyOrder("retention.ms", "cleanup.policy");
            assertThat(configs).allSatisfy(c -> assertThat(c.isDefault()).isTrue());

            var epochs = new io.gregor.legacy.kafka.common.message.OffsetForLeaderEpochRequestData();
            var et = new io.gregor.legacy.kafka.common.message.OffsetForLeaderEpochRequestData.OffsetForLeaderTopic().setTopic("legacy-admin");
            et.partitions().add(new io.gregor.legacy.kafka.common.message.OffsetForLeaderEpochRequestData.OffsetForLeaderPartition()
                    .setPartition(0).setLeaderEpoch(0));
            epochs.topics().add(et);
            for (short v = 0; v <= 1; v++) {
                io.gregor.legacy.kafka.common.message.OffsetForLeaderEpochResponseData answer = client.sendLegacy(epochs, v);
                assertThat(answer.topics().iterator().next().partitions().get(0).errorCode()).isZero();
            }

            var logDirs = new io.gregor.legacy.kafka.common.message.DescribeLogDirsRequestData().setTopics(null);
            io.gregor.legacy.kafka.common.message.DescribeLogDirsResponseData dirs = client.sendLegacy(logDirs, (short) 0);
            assertThat(dirs.results()).isNotEmpty();

            var delete = new io.gregor.legacy.kafka.common.message.DeleteTopicsRequestData().setTimeoutMs(10_000)
                    .setTopicNames(List.of("legacy-admin"));
            io.gregor.legacy.kafka.common.message.DeleteTopicsResponseData deleted = client.sendLegacy(delete, (short) 0);
            assertThat(deleted.responses().find("legacy-admin").errorCode()).isZero();
        }
    }

    @Test
    void apiVersionsAdvertisesTheRemovedVersions() throws IOException {
        try (RawKafkaClient client = new RawKafkaClient(address(broker))) {
            ApiVersionsResponseData versions = client.send(new ApiVersionsRequestData(), (short) 0);
            for (ApiKeys key : List.of(ApiKeys.PRODUCE, ApiKeys.FETCH, ApiKeys.LIST_OFFSETS, ApiKeys.OFFSET_COMMIT,
                    ApiKeys.OFFSET_FETCH, ApiKeys.CREATE_TOPICS, ApiKeys.DELETE_TOPICS, ApiKeys.DESCRIBE_CONFIGS,
                    ApiKeys.DESCRIBE_LOG_DIRS, ApiKeys.OFFSET_FOR_LEADER_EPOCH, ApiKeys.METADATA)) {
                assertThat(versions.apiKeys().find(key.id).minVersion()).as(key.name).isZero();
            }
        }
    }

    @Test
    void withLegacyVersionsOffTheBrokerRefusesThemAsKafka4Does() throws Exception {
        try (GregorCluster strictNode = GregorCluster.single().dataDir(dir.resolve("off"))
                .with("legacy.protocol.enable", "false").start()) {
            Broker strict = strictNode.broker();
            try (RawKafkaClient client = new RawKafkaClient(address(strict))) {
                ApiVersionsResponseData versions = client.send(new ApiVersionsRequestData(), (short) 0);
                assertThat(versions.apiKeys().find(ApiKeys.PRODUCE.id).minVersion()).isZero(); // as Kafka 4.x (KAFKA-18659)
                assertThat(versions.apiKeys().find(ApiKeys.FETCH.id).minVersion()).isEqualTo((short) 4);
                assertThat(versions.apiKeys().find(ApiKeys.OFFSET_COMMIT.id).minVersion()).isEqualTo((short) 2);
            }
            try (RawKafkaClient client = new RawKafkaClient(address(strict))) {
                var request = new ProduceRequestData().setAcks((short) 1).setTimeoutMs(1000);
                client.writeLegacy(request, (short) 2);
                assertThat(client.awaitClosedByBroker()).as("Produce v2 closes the connection").isTrue();
            }
            try (RawKafkaClient client = new RawKafkaClient(address(strict))) {
                client.writeLegacy(new FetchRequestData().setReplicaId(-1), (short) 3);
                assertThat(client.awaitClosedByBroker()).as("Fetch v3 closes the connection").isTrue();
            }
            try (RawKafkaClient client = new RawKafkaClient(address(strict))) {
                client.writeLegacy(new OffsetCommitRequestData().setGroupId("g"), (short) 0);
                assertThat(client.awaitClosedByBroker()).as("OffsetCommit v0 closes the connection").isTrue();
            }
        }
    }

    @ParameterizedTest(name = "compression.type={0}")
    @CsvSource({"gzip", "lz4", "zstd", "uncompressed", "producer"})
    void topicCompressionTypeIsApplied(String type) throws Exception {
        String topic = "compressed-" + type;
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1).configs(Map.of("compression.type", type)))).all().get();
        }
        // A snappy producer: every type but producer rewrites its batches.
        try (KafkaProducer<String, String> producer = producer("snappy")) {
            for (int i = 0; i < 3; i++) {
                var record = new ProducerRecord<>(topic, 0, 1_700_000_000_000L + i, "k" + i, "value-" + i);
                record.headers().add(new RecordHeader("n", new byte[] {(byte) i}));
                producer.send(record).get();
            }
        }
        try (RawKafkaClient client = new RawKafkaClient(address(broker))) {
            // Also a legacy producer's message set: up-converted, then recompressed.
            produceLegacy(client, topic, messageSet((byte) 1, "gzip", "old"), (short) 2);
            List<String> values = new ArrayList<>();
            List<String> codecs = new ArrayList<>();
            for (MutableRecordBatch batch : fetchAllModern(client, topic)) {
                batch.ensureValid();
                codecs.add(batch.compressionType().name);
                for (Record record : batch) {
                    values.add(utf8(record.value()));
                    if (!utf8(record.value()).equals("old")) {
                        assertThat(record.headers()).hasSize(1);
                        assertThat(record.timestamp()).isGreaterThanOrEqualTo(1_700_000_000_000L);
                    }
                }
            }
            assertThat(values).containsExactly("value-0", "value-1", "value-2", "old");
            String expected = type.equals("uncompressed") ? "none" : type;
            if (type.equals("producer")) {
                assertThat(codecs).containsExactly("snappy", "snappy", "snappy", "gzip");
            } else {
                assertThat(codecs).containsOnly(expected).hasSize(4);
            }
        }
    }

    /** Every batch of partition 0 by Fetch v12, one segment per response. */
    private static List<MutableRecordBatch> fetchAllModern(RawKafkaClient client, String topic) throws IOException {
        List<MutableRecordBatch> all = new ArrayList<>();
        long offset = 0;
        for (int round = 0; round < 100; round++) {
            var request = new org.apache.kafka.common.message.FetchRequestData().setReplicaId(-1).setMaxWaitMs(0)
                    .setMinBytes(0).setMaxBytes(1 << 20).setIsolationLevel((byte) 0).setSessionEpoch(-1)
                    .setTopics(List.of(new org.apache.kafka.common.message.FetchRequestData.FetchTopic().setTopic(topic)
                            .setPartitions(List.of(new org.apache.kafka.common.message.FetchRequestData.FetchPartition()
                                    .setPartition(0).setFetchOffset(offset).setPartitionMaxBytes(1 << 20).setLogStartOffset(-1)))));
            org.apache.kafka.common.message.FetchResponseData response = client.send(request, (short) 12);
            var data = response.responses().get(0).partitions().get(0);
            assertThat(data.errorCode()).isZero();
            List<MutableRecordBatch> page = new ArrayList<>();
            ((MemoryRecords) data.records()).batches().forEach(page::add);
            all.addAll(page);
            if (!page.isEmpty()) {
                offset = page.get(page.size() - 1).lastOffset() + 1;
            }
            if (offset >= data.highWatermark() || page.isEmpty()) {
                return all;
            }
        }
        throw new AssertionError("no end after 100 fetches");
    }

    private static KafkaProducer<String, String> producer(String codec) {
        Properties props = new Properties();
        props.put("bootstrap.servers", broker.bootstrapServers());
        props.put("compression.type", codec);
        props.put("linger.ms", "0");
        return new KafkaProducer<>(props, new StringSerializer(), new StringSerializer());
    }

    private static Properties consumerProps() {
        Properties props = new Properties();
        props.put("bootstrap.servers", broker.bootstrapServers());
        props.put("auto.offset.reset", "earliest");
        props.put("enable.auto.commit", "false");
        return props;
    }

    private static KafkaConsumer<String, String> consumer() {
        return new KafkaConsumer<>(consumerProps(), new StringDeserializer(), new StringDeserializer());
    }
}
