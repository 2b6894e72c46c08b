package io.gregor.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.gregor.testkit.GregorCluster;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.message.AddOffsetsToTxnRequestData;
import org.apache.kafka.common.message.AddOffsetsToTxnResponseData;
import org.apache.kafka.common.message.AddPartitionsToTxnRequestData;
import org.apache.kafka.common.message.AddPartitionsToTxnResponseData;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.message.CreateTopicsRequestData;
import org.apache.kafka.common.message.CreateTopicsResponseData;
import org.apache.kafka.common.message.DescribeProducersRequestData;
import org.apache.kafka.common.message.DescribeProducersResponseData;
import org.apache.kafka.common.message.DescribeTransactionsRequestData;
import org.apache.kafka.common.message.DescribeTransactionsResponseData;
import org.apache.kafka.common.message.EndTxnRequestData;
import org.apache.kafka.common.message.EndTxnResponseData;
import org.apache.kafka.common.message.InitProducerIdRequestData;
import org.apache.kafka.common.message.InitProducerIdResponseData;
import org.apache.kafka.common.message.ListOffsetsRequestData;
import org.apache.kafka.common.message.ListOffsetsResponseData;
import org.apache.kafka.common.message.ListTransactionsRequestData;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.message.TxnOffsetCommitRequestData;
import org.apache.kafka.common.message.WriteTxnMarkersRequestData;
import org.apache.kafka.common.message.WriteTxnMarkersResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.SimpleRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Bad input on the transaction APIs, sent raw: truncated and random bodies close the connection (as Kafka does for a
 * request it cannot parse) and leave the broker serving; well-formed requests that name unknown transactional ids,
 * stale epochs, wrong producer ids, too long timeouts or partitions outside the transaction get Kafka's error codes,
 * and nothing of them reaches a log.
 */
class TransactionBadInputIT {
    private static final short INIT_PRODUCER_ID_V = 4;
    private static final short ADD_PARTITIONS_V = 3;
    private static final short ADD_OFFSETS_V = 3;
    private static final short END_TXN_V = 4;
    private static final short TXN_OFFSET_COMMIT_V = 3;
    private static final short WRITE_TXN_MARKERS_V = 1;
    private static final short PRODUCE_V = 11;
    private static final String TOPIC = "txn-bad-input";

    private static GregorCluster gregor;
    private static InetSocketAddress address;
    /** Opened before any bad input, used after each: it must never be disturbed. */
    private static RawKafkaClient bystander;

    @BeforeAll
    static void startBroker() throws IOException {
        gregor = GregorCluster.single().with("auto.create.topics.enable", "false")
                .with("transaction.max.timeout.ms", "900000").start();
        String[] hostPort = gregor.bootstrapServers().split(":");
        address = new InetSocketAddress(hostPort[0], Integer.parseInt(hostPort[1]));
        bystander = new RawKafkaClient(address, Duration.ofSeconds(10));
        CreateTopicsRequestData create = new CreateTopicsRequestData().setTimeoutMs(10_000);
        create.topics().add(new CreateTopicsRequestData.CreatableTopic().setName(TOPIC).setNumPartitions(1)
                .setReplicationFactor((short) 1));
        CreateTopicsResponseData created = bystander.send(create, (short) 7);
        assertThat(created.topics().find(TOPIC).errorCode()).isZero();
    }

    @AfterAll
    static void stopBroker() throws IOException {
        if (bystander != null) {
            bystander.close();
        }
        if (gregor != null) {
            gregor.close();
        }
    }

    /** Well-formed requests of every transaction API, at the versions the tests send. */
    private static List<Object[]> wellFormed() {
        return List.of(
                new Object[] {new InitProducerIdRequestData().setTransactionalId("t-garbage").setTransactionTimeoutMs(60_000)
                        .setProducerId(-1).setProducerEpoch((short) -1), INIT_PRODUCER_ID_V},
                new Object[] {addPartitions("t-garbage", 1, (short) 0), ADD_PARTITIONS_V},
                new Object[] {new AddOffsetsToTxnRequestData().setTransactionalId("t-garbage").setProducerId(1)
                        .setProducerEpoch((short) 0).setGroupId("g"), ADD_OFFSETS_V},
                new Object[] {endTxn("t-garbage", 1, (short) 0, true), END_TXN_V},
                new Object[] {new TxnOffsetCommitRequestData().setTransactionalId("t-garbage").setGroupId("g")
                        .setProducerId(1).setProducerEpoch((short) 0).setTopics(List.of(
                                new TxnOffsetCommitRequestData.TxnOffsetCommitRequestTopic().setName(TOPIC).setPartitions(List.of(
                                        new TxnOffsetCommitRequestData.TxnOffsetCommitRequestPartition().setPartitionIndex(0)
                                                .setCommittedOffset(5))))), TXN_OFFSET_COMMIT_V},
                new Object[] {marker(TOPIC, 1, (short) 0), WRITE_TXN_MARKERS_V},
                new Object[] {new DescribeTransactionsRequestData().setTransactionalIds(List.of("t-garbage")), (short) 0},
                new Object[] {new ListTransactionsRequestData(), (short) 0},
                new Object[] {new DescribeProducersRequestData().setTopics(List.of(new DescribeProducersRequestData.TopicRequest()
                        .setName(TOPIC).setPartitionIndexes(List.of(0)))), (short) 0});
    }

    @Test
    void truncatedAndRandomBodiesOfTransactionRequestsCloseTheConnection() throws IOException {
        ApiVersionsResponseData versions = bystander.send(new ApiVersionsRequestData().setClientSoftwareName("it")
                .setClientSoftwareVersion("1"), (short) 3);
        Random random = new Random(23);
        int checked = 0;
        for (Object[] entry : wellFormed()) {
            ApiMessage request = (ApiMessage) entry[0];
            short version = (Short) entry[1];
            ApiKeys key = ApiKeys.forId(request.apiKey());
            assertThat(versions.apiKeys().find(key.id)).as("%s advertised", key).isNotNull();
            assertThat(versions.apiKeys().find(key.id).maxVersion()).as("%s max version", key).isGreaterThanOrEqualTo(version);
            byte[] frame = RawKafkaClient.encode(request, version, version, 1);
            int headerBytes = headerBytes(key, version);
            int bodyBytes = frame.length - 4 - headerBytes;
            assertThat(bodyBytes).as("%s body", key).isPositive();
            // The body cut short: a string or array whose length reaches past the frame's end.
            for (int keep : new int[] {0, bodyBytes / 2, bodyBytes - 1}) {
                ByteBuffer cut = ByteBuffer.allocate(4 + headerBytes + keep);
                cut.putInt(headerBytes + keep).put(frame, 4, headerBytes + keep);
                assertClosed(cut.array(), "%s v%d cut to %d of %d body bytes".formatted(key, version, keep, bodyBytes));
                checked++;
            }
            // Random bytes where the body should be, long length prefixes first so the parse runs out of frame.
            byte[] junk = new byte[bodyBytes];
            random.nextBytes(junk);
            junk[0] = (byte) 0x7f;
            ByteBuffer garbage = ByteBuffer.allocate(4 + headerBytes + junk.length);
            garbage.putInt(headerBytes + junk.length).put(frame, 4, headerBytes).put(junk);
            assertClosedOrAnswered(garbage.array(), key + " v" + version + " with a random body");
            checked++;
        }
        assertThat(checked).isGreaterThan(20);
    }

    @Test
    void unknownIdsStaleEpochsAndPartitionsOutsideTheTransactionGetKafkasErrors() throws IOException {
        try (RawKafkaClient client = new RawKafkaClient(address, Duration.ofSeconds(15))) {
            // __transaction_state is created on first use: until then the coordinator is not available (retriable).
            // A producer finds its coordinator first (FindCoordinator creates the topic), then initialises.
            io.gregor.testkit.Await.until("the transaction coordinator is up", Duration.ofSeconds(30), () -> {
                org.apache.kafka.common.message.FindCoordinatorResponseData found = client.send(
                        new org.apache.kafka.common.message.FindCoordinatorRequestData().setKeyType((byte) 1)
                                .setCoordinatorKeys(List.of("t-warm")), (short) 4);
                if (found.coordinators().get(0).errorCode() != Errors.NONE.code()) {
                    return false;
                }
                InitProducerIdResponseData warm = client.send(new InitProducerIdRequestData().setTransactionalId("t-warm")
                        .setTransactionTimeoutMs(60_000).setProducerId(-1).setProducerEpoch((short) -1), INIT_PRODUCER_ID_V);
                return warm.errorCode() == Errors.NONE.code();
            });
            // A transaction timeout above transaction.max.timeout.ms.
            InitProducerIdResponseData tooLong = client.send(new InitProducerIdRequestData().setTransactionalId("t-long")
                    .setTransactionTimeoutMs(900_001).setProducerId(-1).setProducerEpoch((short) -1), INIT_PRODUCER_ID_V);
            assertThat(Errors.forCode(tooLong.errorCode())).isEqualTo(Errors.INVALID_TRANSACTION_TIMEOUT);

            // A transactional id nobody initialised.
            AddPartitionsToTxnResponseData unknownAdd = client.send(addPartitions("t-nobody", 4711, (short) 0), ADD_PARTITIONS_V);
            assertThat(unknownAdd.resultsByTopicV3AndBelow().find(TOPIC).resultsByPartition().find(0).partitionErrorCode())
                    .isEqualTo(Errors.INVALID_PRODUCER_ID_MAPPING.code());
            AddOffsetsToTxnResponseData unknownOffsets = client.send(new AddOffsetsToTxnRequestData().setTransactionalId("t-nobody")
                    .setProducerId(4711).setProducerEpoch((short) 0).setGroupId("g"), ADD_OFFSETS_V);
            assertThat(Errors.forCode(unknownOffsets.errorCode())).isEqualTo(Errors.INVALID_PRODUCER_ID_MAPPING);
            EndTxnResponseData unknownEnd = client.send(endTxn("t-nobody", 4711, (short) 0, true), END_TXN_V);
            assertThat(Errors.forCode(unknownEnd.errorCode())).isEqualTo(Errors.INVALID_PRODUCER_ID_MAPPING);
            DescribeTransactionsResponseData described = client.send(new DescribeTransactionsRequestData()
                    .setTransactionalIds(List.of("t-nobody")), (short) 0);
            assertThat(Errors.forCode(described.transactionStates().get(0).errorCode())).isEqualTo(Errors.TRANSACTIONAL_ID_NOT_FOUND);

            // An id initialised twice: epoch 1 is current, epoch 0 is a zombie.
            InitProducerIdResponseData first = initProducerId(client, "t-real");
            InitProducerIdResponseData second = initProducerId(client, "t-real");
            long producerId = second.producerId();
            short epoch = second.producerEpoch();
            assertThat(epoch).isGreaterThan(first.producerEpoch());
            EndTxnResponseData zombie = client.send(endTxn("t-real", producerId, first.producerEpoch(), true), END_TXN_V);
            assertThat(Errors.forCode(zombie.errorCode())).isEqualTo(Errors.PRODUCER_FENCED);
            EndTxnResponseData wrongId = client.send(endTxn("t-real", producerId + 1, epoch, true), END_TXN_V);
            assertThat(Errors.forCode(wrongId.errorCode())).isEqualTo(Errors.INVALID_PRODUCER_ID_MAPPING);
            // Nothing is open: a commit has nothing to commit.
            EndTxnResponseData nothingOpen = client.send(endTxn("t-real", producerId, epoch, true), END_TXN_V);
            assertThat(Errors.forCode(nothingOpen.errorCode())).isEqualTo(Errors.INVALID_TXN_STATE);
            AddPartitionsToTxnResponseData staleAdd = client.send(addPartitions("t-real", producerId, first.producerEpoch()),
                    ADD_PARTITIONS_V);
            assertThat(staleAdd.resultsByTopicV3AndBelow().find(TOPIC).resultsByPartition().find(0).partitionErrorCode())
                    .isEqualTo(Errors.PRODUCER_FENCED.code());

            // A transactional batch for a partition its transaction never added: refused, not appended.
            MemoryRecords batch = MemoryRecords.withTransactionalRecords(Compression.NONE, producerId, epoch, 0,
                    new SimpleRecord("k".getBytes(StandardCharsets.UTF_8), "outside".getBytes(StandardCharsets.UTF_8)));
            ProduceRequestData produce = new ProduceRequestData().setAcks((short) -1).setTimeoutMs(10_000)
                    .setTransactionalId("t-real");
            produce.topicData().add(new ProduceRequestData.TopicProduceData().setName(TOPIC).setPartitionData(List.of(
                    new ProduceRequestData.PartitionProduceData().setIndex(0).setRecords(batch))));
            ProduceResponseData produced = client.send(produce, PRODUCE_V);
            assertThat(Errors.forCode(produced.responses().iterator().next().partitionResponses().get(0).errorCode()))
                    .isEqualTo(Errors.INVALID_TXN_STATE);
            assertThat(latestOffset(client)).as("nothing appended").isZero();

            // Markers for a topic that does not exist, and producers of one.
            WriteTxnMarkersResponseData markers = client.send(marker("no-such-topic", producerId, epoch), WRITE_TXN_MARKERS_V);
            assertThat(markers.markers().get(0).topics().get(0).partitions().get(0).errorCode())
                    .isEqualTo(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
            DescribeProducersResponseData producers = client.send(new DescribeProducersRequestData().setTopics(List.of(
                    new DescribeProducersRequestData.TopicRequest().setName("no-such-topic").setPartitionIndexes(List.of(0)))),
                    (short) 0);
            assertThat(producers.topics().get(0).partitions().get(0).errorCode()).isEqualTo(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
            assertThat(latestOffset(client)).isZero();
        }
        assertServes();
    }

    private static InitProducerIdResponseData initProducerId(RawKafkaClient client, String transactionalId) throws IOException {
        InitProducerIdResponseData response = client.send(new InitProducerIdRequestData().setTransactionalId(transactionalId)
                .setTransactionTimeoutMs(60_000).setProducerId(-1).setProducerEpoch((short) -1), INIT_PRODUCER_ID_V);
        assertThat(Errors.forCode(response.errorCode())).isEqualTo(Errors.NONE);
        return response;
    }

    private static AddPartitionsToTxnRequestData addPartitions(String transactionalId, long producerId, short epoch) {
        AddPartitionsToTxnRequestData.AddPartitionsToTxnTopicCollection topics =
                new AddPartitionsToTxnRequestData.AddPartitionsToTxnTopicCollection();
        topics.add(new AddPartitionsToTxnRequestData.AddPartitionsToTxnTopic().setName(TOPIC).setPartitions(List.of(0)));
        return new AddPartitionsToTxnRequestData().setV3AndBelowTransactionalId(transactionalId)
                .setV3AndBelowProducerId(producerId).setV3AndBelowProducerEpoch(epoch).setV3AndBelowTopics(topics);
    }

    private static EndTxnRequestData endTxn(String transactionalId, long producerId, short epoch, boolean commit) {
        return new EndTxnRequestData().setTransactionalId(transactionalId).setProducerId(producerId)
                .setProducerEpoch(epoch).setCommitted(commit);
    }

    private static WriteTxnMarkersRequestData marker(String topic, long producerId, short epoch) {
        return new WriteTxnMarkersRequestData().setMarkers(List.of(new WriteTxnMarkersRequestData.WritableTxnMarker()
                .setProducerId(producerId).setProducerEpoch(epoch).setTransactionResult(false).setCoordinatorEpoch(0)
                .setTopics(List.of(new WriteTxnMarkersRequestData.WritableTxnMarkerTopic().setName(topic)
                        .setPartitionIndexes(List.of(0))))));
    }

    private static long latestOffset(RawKafkaClient client) throws IOException {
        ListOffsetsRequestData request = new ListOffsetsRequestData().setReplicaId(-1).setIsolationLevel((byte) 0)
                .setTopics(List.of(new ListOffsetsRequestData.ListOffsetsTopic().setName(TOPIC)
                        .setPartitions(List.of(new ListOffsetsRequestData.ListOffsetsPartition()
                                .setPartitionIndex(0).setTimestamp(-1L)))));
        ListOffsetsResponseData response = client.send(request, (short) 7);
        return response.topics().get(0).partitions().get(0).offset();
    }

    /** The size of the request header {@link RawKafkaClient#encode} writes for {@code key} at {@code version}. */
    private static int headerBytes(ApiKeys key, short version) {
        return RawKafkaClient.headerSize(key, version);
    }

    private static void assertClosed(byte[] frame, String what) throws IOException {
        try (RawKafkaClient client = new RawKafkaClient(address, Duration.ofSeconds(10))) {
            client.sendRaw(frame);
            assertThat(client.awaitClosedByBroker()).as(what).isTrue();
        }
        assertServes();
    }

    /** Random bytes may happen to parse: then the broker answers (any error); else it closes. Either way it serves. */
    private static void assertClosedOrAnswered(byte[] frame, String what) throws IOException {
        try (RawKafkaClient client = new RawKafkaClient(address, Duration.ofSeconds(10))) {
            client.sendRaw(frame);
            try {
                assertThat(client.awaitClosedByBroker()).as(what + ": neither closed nor answered").isTrue();
            } catch (IOException answered) {
                // It sent a response instead of closing: the request parsed.
                assertThat(answered.getMessage()).as(what).contains("instead of closing");
            }
        }
        assertServes();
    }

    private static void assertServes() throws IOException {
        MetadataResponseData metadata = bystander.send(new MetadataRequestData().setTopics(null), (short) 12);
        assertThat(metadata.brokers()).hasSize(1);
        assertThat(metadata.topics().find(TOPIC)).isNotNull();
    }
}
