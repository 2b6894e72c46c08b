package io.gregor.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.gregor.broker.Broker;
import io.gregor.storage.FailureProbe;
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
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.message.CreateTopicsRequestData;
import org.apache.kafka.common.message.CreateTopicsRequestData.CreatableTopic;
import org.apache.kafka.common.message.CreateTopicsRequestData.CreatableTopicConfig;
import org.apache.kafka.common.message.CreateTopicsResponseData;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.message.ListOffsetsRequestData;
import org.apache.kafka.common.message.ListOffsetsResponseData;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.message.ProduceResponseData.PartitionProduceResponse;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.SimpleRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Malformed, oversized, out-of-range and unsupported requests against an in-process broker: each must get the exact
 * Kafka error code (or a closed connection where Kafka closes it), and the broker must keep serving everybody else.
 *
 * <p>One broker serves the whole class: auto-creation off, a 1 MiB request limit, and a storage probe that fails
 * appends to the {@code disk-full} topic's directory while {@link #diskFull} is set.
 */
class BadInputIT {
    private static final short PRODUCE_V = 11;
    private static final short FETCH_V = 12;
    private static final short LIST_OFFSETS_V = 7;
    private static final short METADATA_V = 12;
    private static final short CREATE_TOPICS_V = 7;
    private static final short API_VERSIONS_V = 3;
    private static final String DISK_FULL_TOPIC = "disk-full";

    @TempDir
    static Path dir;

    private static final AtomicBoolean diskFull = new AtomicBoolean();
    private static final AtomicInteger failedAppends = new AtomicInteger();
    private static GregorCluster gregor;
    private static Broker broker;
    /** A connection opened before any bad input and kept for the whole class: it must never be disturbed. */
    private static RawKafkaClient bystander;

    private final List<RawKafkaClient> clients = new ArrayList<>();

    @BeforeAll
    static void startBroker() throws IOException {
        FailureProbe probe = new FailureProbe() {
            @Override
            public void beforeAppend(Path segment, int bytes) throws IOException {
                if (diskFull.get() && segment.getParent().getFileName().toString().equals(DISK_FULL_TOPIC + "-0")) {
                    failedAppends.incrementAndGet();
                    throw new IOException("No space left on device");
                }
            }
        };
        gregor = GregorCluster.single().dataDir(dir).with("auto.create.topics.enable", "false")
                .with("socket.request.max.bytes", "1048576").failureProbe(probe).start();
        broker = gregor.broker();
        bystander = new RawKafkaClient(address());
    }

    @AfterAll
    static void stopBroker() throws Exception {
        if (bystander != null) {
            bystander.close();
        }
        if (gregor != null) {
            gregor.close();
        }
    }

    @AfterEach
    void closeClientsAndCheckBroker() throws IOException {
        for (RawKafkaClient client : clients) {
            client.close();
        }
        diskFull.set(false);
        assertBrokerStillServes();
    }

    @Test
    void corruptCrcIsRejectedAndNothingIsAppended() throws IOException {
        // A producer sends a v2 batch whose payload was altered after the CRC was computed; it must be refused whole.
        RawKafkaClient client = client();
        createTopic(client, "corrupt-crc", Map.of());
        produceOk(client, "corrupt-crc", records("before"));
        long endBefore = latestOffset(client, "corrupt-crc");

        ByteBuffer batch = records("a", "b", "c").buffer();
        int lastValueByte = batch.limit() - 2; // the very last byte is the last record's header count (varint 0)
        batch.put(lastValueByte, (byte) (batch.get(lastValueByte) ^ 0x5a)); // payload changed after the CRC32C was computed
        PartitionProduceResponse result = produce(client, "corrupt-crc", MemoryRecords.readableRecords(batch), (short) 1);
        assertThat(Errors.forCode(result.errorCode())).isEqualTo(Errors.CORRUPT_MESSAGE);

        ByteBuffer badCrcField = records("d", "e").buffer();
        int crcOffset = 8 + 4 + 4 + 1; // base offset, batch length, partition leader epoch, magic
        badCrcField.putInt(crcOffset, badCrcField.getInt(crcOffset) + 1); // intact payload, wrong stored checksum
        PartitionProduceResponse second = produce(client, "corrupt-crc", MemoryRecords.readableRecords(badCrcField), (short) -1);
        assertThat(Errors.forCode(second.errorCode())).isEqualTo(Errors.CORRUPT_MESSAGE);

        assertThat(latestOffset(client, "corrupt-crc")).isEqualTo(endBefore).isEqualTo(1);
        // The same connection keeps working, and the next batch lands right after the one good batch.
        assertThat(produceOk(client, "corrupt-crc", records("after"))).isEqualTo(1);
        assertThat(latestOffset(client, "corrupt-crc")).isEqualTo(2);
    }

    @Test
    void batchAboveTopicMaxMessageBytesIsTooLarge() throws IOException {
        // A topic created with max.message.bytes=1024 receives a single 4 KiB batch and must refuse it.
        RawKafkaClient client = client();
        createTopic(client, "small-messages", Map.of("max.message.bytes", "1024"));
        PartitionProduceResponse result = produce(client, "small-messages",
                records("x".repeat(4096)), (short) 1);

        assertThat(Errors.forCode(result.errorCode())).isEqualTo(Errors.MESSAGE_TOO_LARGE);
        assertThat(latestOffset(client, "small-messages")).isZero();
        assertThat(produceOk(client, "small-messages", records("fits"))).isZero();
    }

    @Test
    void invalidTopicNamesAreRejectedByMetadataAndCreateTopics() throws IOException {
        // A client asks for metadata of, and tries to create, topics with illegal characters and a 300-character name.
        RawKafkaClient client = client();
        String longName = "t".repeat(300);
        MetadataResponseData metadata = client.send(new MetadataRequestData().setAllowAutoTopicCreation(true)
                .setTopics(List.of(new MetadataRequestData.MetadataRequestTopic().setName("bad name!"),
                        new MetadataRequestData.MetadataRequestTopic().setName(longName))), METADATA_V);
        assertThat(metadata.topics()).hasSize(2);
        assertThat(Errors.forCode(metadata.topics().find("bad name!").errorCode())).isEqualTo(Errors.INVALID_TOPIC_EXCEPTION);
        assertThat(Errors.forCode(metadata.topics().find(longName).errorCode())).isEqualTo(Errors.INVALID_TOPIC_EXCEPTION);

        CreateTopicsRequestData create = new CreateTopicsRequestData().setTimeoutMs(10_000);
        create.topics().add(new CreatableTopic().setName("bad name!").setNumPartitions(1).setReplicationFactor((short) 1));
        create.topics().add(new CreatableTopic().setName(longName).setNumPartitions(1).setReplicationFactor((short) 1));
        CreateTopicsResponseData created = client.send(create, CREATE_TOPICS_V);
        assertThat(Errors.forCode(created.topics().find("bad name!").errorCode())).isEqualTo(Errors.INVALID_TOPIC_EXCEPTION);
        assertThat(Errors.forCode(created.topics().find(longName).errorCode())).isEqualTo(Errors.INVALID_TOPIC_EXCEPTION);
    }

    @Test
    void unknownTopicWithoutAutoCreationIsUnknown() throws IOException {
        // With auto.create.topics.enable=false a client asks for, then produces to, a topic nobody created.
        RawKafkaClient client = client();
        MetadataResponseData metadata = client.send(new MetadataRequestData().setAllowAutoTopicCreation(true)
                .setTopics(List.of(new MetadataRequestData.MetadataRequestTopic().setName("never-created"))), METADATA_V);
        assertThat(Errors.forCode(metadata.topics().find("never-created").errorCode()))
                .isEqualTo(Errors.UNKNOWN_TOPIC_OR_PARTITION);

        PartitionProduceResponse result = produce(client, "never-created", records("lost"), (short) 1);
        assertThat(Errors.forCode(result.errorCode())).isEqualTo(Errors.UNKNOWN_TOPIC_OR_PARTITION);

        MetadataResponseData again = client.send(new MetadataRequestData().setTopics(null), METADATA_V);
        assertThat(again.topics().find("never-created")).as("produce must not create the topic").isNull();
    }

    @Test
    void fetchOutsideTheLogIsOffsetOutOfRange() throws IOException {
        // A consumer of a 3-record partition fetches at offset 100 (beyond the log end) and at negative offsets.
        RawKafkaClient client = client();
        createTopic(client, "fetch-range", Map.of());
        produceOk(client, "fetch-range", records("a", "b", "c"));

        assertThat(fetch(client, "fetch-range", 3).errorCode()).as("at the log end").isEqualTo(Errors.NONE.code());
        assertThat(Errors.forCode(fetch(client, "fetch-range", 100).errorCode())).isEqualTo(Errors.OFFSET_OUT_OF_RANGE);
        assertThat(Errors.forCode(fetch(client, "fetch-range", -1).errorCode())).isEqualTo(Errors.OFFSET_OUT_OF_RANGE);
        assertThat(Errors.forCode(fetch(client, "fetch-range", Long.MIN_VALUE).errorCode())).isEqualTo(Errors.OFFSET_OUT_OF_RANGE);
        FetchResponseData.PartitionData ok = fetch(client, "fetch-range", 0);
        assertThat(ok.errorCode()).isZero();
        assertThat(ok.highWatermark()).isEqualTo(3);
    }

    @Test
    void apiVersionsNewerThanKnownGetsV0ResponseWithKeys() throws IOException {
        // KIP-511: a client sends ApiVersions v99; the broker answers in v0 with UNSUPPORTED_VERSION and its ranges.
        RawKafkaClient client = client();
        int correlationId = client.write(new ApiVersionsRequestData().setClientSoftwareName("future-client")
                .setClientSoftwareVersion("99.0"), (short) 99, API_VERSIONS_V);
        ApiVersionsResponseData response = (ApiVersionsResponseData) client.receive(ApiKeys.API_VERSIONS, (short) 0, correlationId);

        assertThat(Errors.forCode(response.errorCode())).isEqualTo(Errors.UNSUPPORTED_VERSION);
        ApiVersionsResponseData.ApiVersion apiVersions = response.apiKeys().find(ApiKeys.API_VERSIONS.id);
        assertThat(apiVersions).isNotNull();
        assertThat(apiVersions.maxVersion()).isGreaterThanOrEqualTo((short) 3).isLessThan((short) 99);
        assertThat(response.apiKeys().find(ApiKeys.PRODUCE.id)).isNotNull();
        assertThat(response.apiKeys().find(ApiKeys.FETCH.id)).isNotNull();
        // The client retries with a version the broker knows, on the same connection.
        ApiVersionsResponseData retried = client.send(new ApiVersionsRequestData().setClientSoftwareName("future-client")
                .setClientSoftwareVersion("99.0"), API_VERSIONS_V);
        assertThat(retried.errorCode()).isZero();
    }

    @Test
    void unsupportedVersionOfOtherApisClosesTheConnection() throws IOException {
        // Versions above anything the broker knows: Kafka closes the connection (legacy versions are in LegacyProtocolIT).
        RawKafkaClient produceClient = client();
        ProduceRequestData produce = produceRequest("fetch-range-unused", records("old"), (short) 1);
        produceClient.write(produce, (short) 99, ProduceRequestData.HIGHEST_SUPPORTED_VERSION);
        assertThat(produceClient.awaitClosedByBroker()).as("Produce v99 closes the connection").isTrue();

        RawKafkaClient fetchClient = client();
        fetchClient.write(fetchRequest("fetch-range-unused", 0), (short) 99, FETCH_V);
        assertThat(fetchClient.awaitClosedByBroker()).as("Fetch v99 closes the connection").isTrue();

        RawKafkaClient tooNew = client();
        tooNew.write(new MetadataRequestData().setTopics(null), (short) 99, METADATA_V);
        assertThat(tooNew.awaitClosedByBroker()).as("Metadata v99 closes the connection").isTrue();
    }

    @Test
    void oversizedNegativeAndGarbageFramesCloseTheConnection() throws IOException {
        // Hand-made frames: a 2 MiB length above socket.request.max.bytes, a negative length, then random bytes.
        RawKafkaClient oversized = client();
        oversized.sendRaw(concat(ByteBuffer.allocate(4).putInt(2 << 20).array(), new byte[] {0, 18, 0, 3, 0, 0}));
        assertThat(oversized.awaitClosedByBroker()).as("2 MiB frame").isTrue();
        assertBrokerStillServes();

        RawKafkaClient negative = client();
        negative.sendRaw(concat(ByteBuffer.allocate(4).putInt(-7).array(), new byte[] {1, 2, 3, 4, 5, 6, 7, 8}));
        assertThat(negative.awaitClosedByBroker()).as("negative length").isTrue();
        assertBrokerStillServes();

        Random random = new Random(42);
        byte[] garbage = new byte[200];
        random.nextBytes(garbage);
        garbage[0] = (byte) 0x7f; // an API key no Kafka version has, so the frame cannot accidentally parse
        RawKafkaClient junk = client();
        junk.sendRaw(concat(ByteBuffer.allocate(4).putInt(garbage.length).array(), garbage));
        assertThat(junk.awaitClosedByBroker()).as("garbage frame").isTrue();
        assertBrokerStillServes();

        // A valid header for a known API followed by a body that cannot be decoded (string length beyond the frame).
        RawKafkaClient badBody = client();
        ByteBuffer frame = ByteBuffer.allocate(4 + 14 + 6);
        frame.putInt(14 + 6).putShort(ApiKeys.METADATA.id).putShort((short) 4).putInt(77).putShort((short) 4)
                .put("junk".getBytes(StandardCharsets.US_ASCII))
                .putInt(1).putShort((short) 30_000); // one topic whose name claims 30000 bytes
        badBody.sendRaw(frame.array());
        assertThat(badBody.awaitClosedByBroker()).as("truncated body").isTrue();
    }

    @Test
    void invalidAcksIsRejected() throws IOException {
        // A producer sends acks=5, which no Kafka version accepts.
        RawKafkaClient client = client();
        createTopic(client, "bad-acks", Map.of());
        PartitionProduceResponse result = produce(client, "bad-acks", records("v"), (short) 5);
        assertThat(Errors.forCode(result.errorCode())).isEqualTo(Errors.INVALID_REQUIRED_ACKS);
        assertThat(produceOk(client, "bad-acks", records("v"))).as("nothing was appended").isZero();
    }

    @Test
    void diskFullIsAStorageErrorAndTheLogStaysValid() throws Exception {
        // The disk fills up mid-stream (appends throw ENOSPC), then space comes back: only acknowledged records remain.
        RawKafkaClient client = client();
        createTopic(client, DISK_FULL_TOPIC, Map.of());
        produceOk(client, DISK_FULL_TOPIC, records("ok-1", "ok-2"));

        diskFull.set(true);
        PartitionProduceResponse failed = produce(client, DISK_FULL_TOPIC, records("lost-1", "lost-2", "lost-3"), (short) 1);
        assertThat(Errors.forCode(failed.errorCode())).isEqualTo(Errors.KAFKA_STORAGE_ERROR);
        PartitionProduceResponse failedAll = produce(client, DISK_FULL_TOPIC, records("lost-4"), (short) -1);
        assertThat(Errors.forCode(failedAll.errorCode())).isEqualTo(Errors.KAFKA_STORAGE_ERROR);
        assertThat(failedAppends.get()).isGreaterThanOrEqualTo(2);
        diskFull.set(false);

        assertThat(produceOk(client, DISK_FULL_TOPIC, records("ok-3"), (short) 1)).isEqualTo(2);
        PartitionProduceResponse all = produce(client, DISK_FULL_TOPIC, records("ok-4", "ok-5"), (short) -1);
        assertThat(all.errorCode()).isZero();
        assertThat(all.baseOffset()).isEqualTo(3);
        assertThat(latestOffset(client, DISK_FULL_TOPIC)).isEqualTo(5);

        Properties props = new Properties();
        props.put("bootstrap.servers", broker.bootstrapServers());
        props.put("enable.auto.commit", "false");
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer())) {
            TopicPartition tp = new TopicPartition(DISK_FULL_TOPIC, 0);
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            List<String> values = new ArrayList<>();
            List<Long> offsets = new ArrayList<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (values.size() < 5 && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(100))) {
                    values.add(r.value());
                    offsets.add(r.offset());
                }
            }
            assertThat(values).containsExactly("ok-1", "ok-2", "ok-3", "ok-4", "ok-5");
            assertThat(offsets).containsExactly(0L, 1L, 2L, 3L, 4L);
            assertThat(consumer.poll(Duration.ofMillis(200))).isEmpty();
        }
    }

    @Test
    void acksAllBelowMinInsyncReplicasIsNotEnoughReplicas() throws IOException {
        // A topic on a one-node cluster demands min.insync.replicas=2; acks=all must fail, acks=1 still works.
        RawKafkaClient client = client();
        createTopic(client, "min-isr-2", Map.of("min.insync.replicas", "2"));
        PartitionProduceResponse result = produce(client, "min-isr-2", records("v"), (short) -1);
        assertThat(Errors.forCode(result.errorCode())).isEqualTo(Errors.NOT_ENOUGH_REPLICAS);
        assertThat(latestOffset(client, "min-isr-2")).isZero();
        assertThat(produceOk(client, "min-isr-2", records("acks-1"), (short) 1)).as("nothing was appended").isZero();
    }

    // ---- helpers ----

    private static InetSocketAddress address() {
        return new InetSocketAddress("127.0.0.1", broker.boundPort());
    }

    private RawKafkaClient client() throws IOException {
        RawKafkaClient client = new RawKafkaClient(address(), Duration.ofSeconds(5));
        clients.add(client);
        return client;
    }

    /** The long-lived bystander and a brand-new connection both still get ApiVersions and Metadata answered. */
    private static void assertBrokerStillServes() throws IOException {
        try (RawKafkaClient fresh = new RawKafkaClient(address(), Duration.ofSeconds(5))) {
            for (RawKafkaClient c : List.of(bystander, fresh)) {
                ApiVersionsResponseData versions = c.send(new ApiVersionsRequestData()
                        .setClientSoftwareName("bystander").setClientSoftwareVersion("1"), API_VERSIONS_V);
                assertThat(versions.errorCode()).isZero();
                MetadataResponseData metadata = c.send(new MetadataRequestData().setTopics(null), METADATA_V);
                assertThat(metadata.brokers()).hasSize(1);
                assertThat(metadata.brokers().iterator().next().port()).isEqualTo(broker.boundPort());
            }
        }
    }

    private static MemoryRecords records(String... values) {
        SimpleRecord[] records = new SimpleRecord[values.length];
        for (int i = 0; i < values.length; i++) {
            records[i] = new SimpleRecord(System.currentTimeMillis(), ("k" + i).getBytes(StandardCharsets.UTF_8),
                    values[i].getBytes(StandardCharsets.UTF_8));
        }
        return MemoryRecords.withRecords(Compression.NONE, records);
    }

    private static void createTopic(RawKafkaClient client, String name, Map<String, String> configs) throws IOException {
        CreatableTopic topic = new CreatableTopic().setName(name).setNumPartitions(1).setReplicationFactor((short) 1);
        configs.forEach((k, v) -> topic.configs().add(new CreatableTopicConfig().setName(k).setValue(v)));
        CreateTopicsRequestData request = new CreateTopicsRequestData().setTimeoutMs(10_000);
        request.topics().add(topic);
        CreateTopicsResponseData response = client.send(request, CREATE_TOPICS_V);
        CreateTopicsResponseData.CreatableTopicResult result = response.topics().find(name);
        assertThat(result.errorCode()).as("create %s: %s", name, result.errorMessage()).isZero();
    }

    private static ProduceRequestData produceRequest(String topic, MemoryRecords records, short acks) {
        ProduceRequestData request = new ProduceRequestData().setAcks(acks).setTimeoutMs(10_000);
        request.topicData().add(new ProduceRequestData.TopicProduceData().setName(topic)
                .setPartitionData(List.of(new ProduceRequestData.PartitionProduceData().setIndex(0).setRecords(records))));
        return request;
    }

    private static PartitionProduceResponse produce(RawKafkaClient client, String topic, MemoryRecords records, short acks)
            throws IOException {
        ProduceResponseData response = client.send(produceRequest(topic, records, acks), PRODUCE_V);
        assertThat(response.responses()).hasSize(1);
        ProduceResponseData.TopicProduceResponse topicResponse = response.responses().iterator().next();
        assertThat(topicResponse.name()).isEqualTo(topic);
        assertThat(topicResponse.partitionResponses()).hasSize(1);
        return topicResponse.partitionResponses().get(0);
    }

    /**
     * Produces with acks=all: Gregor exposes records (high watermark, ListOffsets latest, Fetch) once they are fsynced,
     * and only an acks=all answer guarantees that has happened, so offsets checked right after are deterministic.
     */
    private static long produceOk(RawKafkaClient client, String topic, MemoryRecords records) throws IOException {
        return produceOk(client, topic, records, (short) -1);
    }

    /** Returns the base offset the broker assigned. */
    private static long produceOk(RawKafkaClient client, String topic, MemoryRecords records, short acks) throws IOException {
        PartitionProduceResponse result = produce(client, topic, records, acks);
        assertThat(result.errorCode()).as("produce to %s: %s", topic, result.errorMessage()).isZero();
        return result.baseOffset();
    }

    private static long latestOffset(RawKafkaClient client, String topic) throws IOException {
        ListOffsetsRequestData request = new ListOffsetsRequestData().setReplicaId(-1).setIsolationLevel((byte) 0)
                .setTopics(List.of(new ListOffsetsRequestData.ListOffsetsTopic().setName(topic)
                        .setPartitions(List.of(new ListOffsetsRequestData.ListOffsetsPartition()
                                .setPartitionIndex(0).setTimestamp(-1L)))));
        ListOffsetsResponseData response = client.send(request, LIST_OFFSETS_V);
        ListOffsetsResponseData.ListOffsetsPartitionResponse p = response.topics().get(0).partitions().get(0);
        assertThat(p.errorCode()).isZero();
        return p.offset();
    }

    private static FetchRequestData fetchRequest(String topic, long offset) {
        return new FetchRequestData().setReplicaId(-1).setMaxWaitMs(0).setMinBytes(0).setMaxBytes(1 << 20)
                .setIsolationLevel((byte) 0).setSessionId(0).setSessionEpoch(-1)
                .setTopics(List.of(new FetchRequestData.FetchTopic().setTopic(topic)
                        .setPartitions(List.of(new FetchRequestData.FetchPartition().setPartition(0)
                                .setFetchOffset(offset).setLogStartOffset(-1).setPartitionMaxBytes(1 << 20)
                                .setCurrentLeaderEpoch(-1)))));
    }

    private static FetchResponseData.PartitionData fetch(RawKafkaClient client, String topic, long offset) throws IOException {
        FetchResponseData response = client.send(fetchRequest(topic, offset), FETCH_V);
        assertThat(response.errorCode()).isZero();
        return response.responses().get(0).partitions().get(0);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] result = new byte[a.length + b.length];
        System.arraycopy(a, 0, result, 0, a.length);
        System.arraycopy(b, 0, result, a.length, b.length);
        return result;
    }
}
