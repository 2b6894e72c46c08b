package io.gregor.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.gregor.testkit.GregorCluster;
import java.net.InetSocketAddress;
import java.util.List;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.message.CreateTopicsRequestData;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.message.InitProducerIdRequestData;
import org.apache.kafka.common.message.InitProducerIdResponseData;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.SimpleRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Connection-level behaviour over a raw socket: response order with parked requests, long-poll wake-up, acks=0; and
 * an idempotent producer's retries, gaps and fenced epochs as the wire shows them.
 */
class ProtocolIT {
    static GregorCluster gregor;

    @BeforeAll
    static void start() throws Exception {
        gregor = GregorCluster.single().start();
        try (RawKafkaClient client = client()) {
            CreateTopicsRequestData create = new CreateTopicsRequestData().setTimeoutMs(10_000);
            for (String name : List.of("ordered", "wakeup", "acks0", "idempotent")) {
                create.topics().add(new CreateTopicsRequestData.CreatableTopic().setName(name).setNumPartitions(1)
                        .setReplicationFactor((short) 1));
            }
            client.send(create, (short) 7);
        }
    }

    @AfterAll
    static void stop() {
        gregor.close();
    }

    static RawKafkaClient client() throws Exception {
        return new RawKafkaClient(new InetSocketAddress("127.0.0.1", gregor.broker().boundPort()));
    }

    static FetchRequestData fetch(String topic, long offset, int maxWaitMs) {
        FetchRequestData request = new FetchRequestData().setMaxWaitMs(maxWaitMs).setMinBytes(1).setMaxBytes(1 << 20)
                .setReplicaId(-1).setSessionEpoch(-1);
        request.topics().add(new FetchRequestData.FetchTopic().setTopic(topic).setPartitions(List.of(
                new FetchRequestData.FetchPartition().setPartition(0).setFetchOffset(offset).setPartitionMaxBytes(1 << 20)
                        .setCurrentLeaderEpoch(-1).setLogStartOffset(-1))));
        return request;
    }

    static ProduceRequestData produce(String topic, short acks, String... values) {
        SimpleRecord[] records = java.util.Arrays.stream(values).map(v -> new SimpleRecord(v.getBytes())).toArray(SimpleRecord[]::new);
        ProduceRequestData request = new ProduceRequestData().setAcks(acks).setTimeoutMs(10_000);
        ProduceRequestData.TopicProduceData topicData = new ProduceRequestData.TopicProduceData().setName(topic);
        topicData.partitionData().add(new ProduceRequestData.PartitionProduceData().setIndex(0)
                .setRecords(MemoryRecords.withRecords(Compression.NONE, records)));
        request.topicData().add(topicData);
        return request;
    }

    @Test
    void responsesLeaveInRequestOrderBehindAParkedFetch() throws Exception {
        // A long-poll fetch on an empty partition, then ApiVersions and Metadata pipelined behind it: the quick
        // answers wait for the fetch, and all three come back in request order.
        try (RawKafkaClient client = client()) {
            long start = System.nanoTime();
            int fetchId = client.write(fetch("ordered", 0, 1500), (short) 12, (short) 12);
            int versionsId = client.write(new ApiVersionsRequestData().setClientSoftwareName("raw").setClientSoftwareVersion("1"),
                    (short) 3, (short) 3);
            int metadataId = client.write(new MetadataRequestData().setTopics(null), (short) 12, (short) 12);
            FetchResponseData fetched = (FetchResponseData) client.receive(ApiKeys.FETCH, (short) 12, fetchId);
            long waitedMs = (System.nanoTime() - start) / 1_000_000;
            ApiVersionsResponseData versions = (ApiVersionsResponseData) client.receive(ApiKeys.API_VERSIONS, (short) 3, versionsId);
            MetadataResponseData metadata = (MetadataResponseData) client.receive(ApiKeys.METADATA, (short) 12, metadataId);
            assertThat(waitedMs).as("fetch parked for max wait").isGreaterThanOrEqualTo(1200);
            assertThat(fetched.responses().get(0).partitions().get(0).records().sizeInBytes()).isZero();
            assertThat(versions.errorCode()).isZero();
            assertThat(metadata.topics().find("ordered")).isNotNull();
        }
    }

    @Test
    void parkedFetchWakesUpWhenRecordsArrive() throws Exception {
        // A fetch waiting up to 20 s returns as soon as another connection produces (acks=all) to the partition.
        try (RawKafkaClient consumer = client(); RawKafkaClient producer = client()) {
            long start = System.nanoTime();
            int fetchId = consumer.write(fetch("wakeup", 0, 20_000), (short) 12, (short) 12);
            Thread.sleep(300);
            producer.send(produce("wakeup", (short) -1, "hello"), (short) 9);
            FetchResponseData fetched = (FetchResponseData) consumer.receive(ApiKeys.FETCH, (short) 12, fetchId);
            long waitedMs = (System.nanoTime() - start) / 1_000_000;
            var partition = fetched.responses().get(0).partitions().get(0);
            assertThat(partition.records().sizeInBytes()).isPositive();
            assertThat(partition.highWatermark()).isEqualTo(1);
            assertThat(waitedMs).isLessThan(10_000);
        }
    }

    @Test
    void acksZeroGetsNoResponseButIsWritten() throws Exception {
        // acks=0 produces take no response slot: the next request's answer is the next frame, and the records land.
        try (RawKafkaClient client = client()) {
            client.write(produce("acks0", (short) 0, "a", "b"), (short) 9, (short) 9);
            client.write(produce("acks0", (short) 0, "c"), (short) 9, (short) 9);
            ApiVersionsResponseData versions = client.send(new ApiVersionsRequestData(), (short) 0);
            assertThat(versions.errorCode()).isZero();
            long deadline = System.currentTimeMillis() + 10_000;
            long hw = 0;
            while (hw < 3 && System.currentTimeMillis() < deadline) {
                FetchResponseData fetched = client.send(fetch("acks0", 0, 100), (short) 12);
                hw = fetched.responses().get(0).partitions().get(0).highWatermark();
            }
            assertThat(hw).isEqualTo(3);
        }
    }

    private static ProduceResponseData.PartitionProduceResponse produceIdempotent(RawKafkaClient client, long producerId,
                                                                                  short epoch, int sequence, int count)
            throws Exception {
        SimpleRecord[] records = new SimpleRecord[count];
        for (int i = 0; i < count; i++) {
            records[i] = new SimpleRecord(("e" + epoch + "-s" + (sequence + i)).getBytes());
        }
        ProduceRequestData request = new ProduceRequestData().setAcks((short) -1).setTimeoutMs(10_000);
        ProduceRequestData.TopicProduceData topicData = new ProduceRequestData.TopicProduceData().setName("idempotent");
        topicData.partitionData().add(new ProduceRequestData.PartitionProduceData().setIndex(0)
                .setRecords(MemoryRecords.withIdempotentRecords(Compression.NONE, producerId, epoch, sequence, records)));
        request.topicData().add(topicData);
        ProduceResponseData response = client.send(request, (short) 9);
        return response.responses().iterator().next().partitionResponses().get(0);
    }

    @Test
    void anIdempotentProducersRetryIsStoredOnceAndGapsAndFencedEpochsAreRefused() throws Exception {
        try (RawKafkaClient client = client()) {
            InitProducerIdResponseData init = client.send(new InitProducerIdRequestData().setTransactionalId(null).setTransactionTimeoutMs(60_000)
                    .setProducerId(-1).setProducerEpoch((short) -1), (short) 4);
            assertThat(init.errorCode()).isZero();
            long pid = init.producerId();
            short epoch = init.producerEpoch();
            assertThat(produceIdempotent(client, pid, epoch, 0, 3).baseOffset()).isZero();
            assertThat(produceIdempotent(client, pid, epoch, 3, 2).baseOffset()).isEqualTo(3);
            // The same batch again (its acknowledgement was lost): the original offset, and nothing stored.
            ProduceResponseData.PartitionProduceResponse retry = produceIdempotent(client, pid, epoch, 0, 3);
            assertThat(Errors.forCode(retry.errorCode())).isEqualTo(Errors.NONE);
            assertThat(retry.baseOffset()).isZero();
            ProduceResponseData.PartitionProduceResponse gap = produceIdempotent(client, pid, epoch, 9, 1);
            assertThat(Errors.forCode(gap.errorCode())).isEqualTo(Errors.OUT_OF_ORDER_SEQUENCE_NUMBER);
            // KIP-360: a producer that asks again with its id and epoch gets a new producer id (as from Kafka: a claimed
            // id is not taken on trust) and starts at sequence 0.
            InitProducerIdResponseData again = client.send(new InitProducerIdRequestData().setTransactionalId(null)
                    .setTransactionTimeoutMs(60_000).setProducerId(pid).setProducerEpoch(epoch), (short) 4);
            assertThat(again.errorCode()).isZero();
            assertThat(again.producerId()).isNotEqualTo(pid);
            assertThat(again.producerEpoch()).isZero();
            assertThat(produceIdempotent(client, again.producerId(), again.producerEpoch(), 0, 1).baseOffset()).isEqualTo(5);
            // Claiming an id that was never issued gets a fresh one too, not the claim.
            InitProducerIdResponseData claimed = client.send(new InitProducerIdRequestData().setTransactionalId(null)
                    .setTransactionTimeoutMs(60_000).setProducerId(987_654_321L).setProducerEpoch((short) 7), (short) 4);
            assertThat(claimed.producerId()).isNotIn(987_654_321L, pid, again.producerId());
            assertThat(claimed.producerEpoch()).isZero();
            FetchResponseData fetched = client.send(fetch("idempotent", 0, 100), (short) 12);
            assertThat(fetched.responses().get(0).partitions().get(0).highWatermark()).isEqualTo(6);
        }
    }

    private static FetchRequestData sessionFetch(int sessionId, int epoch, long... offsets) {
        FetchRequestData request = new FetchRequestData().setMaxWaitMs(50).setMinBytes(1).setMaxBytes(1 << 20)
                .setReplicaId(-1).setSessionId(sessionId).setSessionEpoch(epoch);
        if (offsets.length > 0) {
            FetchRequestData.FetchTopic topic = new FetchRequestData.FetchTopic().setTopic("sessions");
            for (int p = 0; p < offsets.length; p++) {
                if (offsets[p] >= 0) {
                    topic.partitions().add(new FetchRequestData.FetchPartition().setPartition(p).setFetchOffset(offsets[p])
                            .setPartitionMaxBytes(1 << 20).setCurrentLeaderEpoch(-1).setLogStartOffset(-1));
                }
            }
            request.topics().add(topic);
        }
        return request;
    }

    private static List<Integer> partitionsIn(FetchResponseData response) {
        return response.responses().stream().flatMap(t -> t.partitions().stream())
                .map(FetchResponseData.PartitionData::partitionIndex).toList();
    }

    private static void produceTo(RawKafkaClient client, int partition, String value) throws Exception {
        ProduceRequestData request = produce("sessions", (short) -1, value);
        request.topicData().iterator().next().partitionData().get(0).setIndex(partition);
        ProduceResponseData response = client.send(request, (short) 9);
        assertThat(response.responses().iterator().next().partitionResponses().get(0).errorCode()).isZero();
    }

    @Test
    void anIncrementalFetchSessionAnswersOnlyWhatChanged() throws Exception {
        try (RawKafkaClient client = client()) {
            client.send(new CreateTopicsRequestData().setTimeoutMs(10_000).setTopics(
                    new CreateTopicsRequestData.CreatableTopicCollection(List.of(new CreateTopicsRequestData.CreatableTopic()
                            .setName("sessions").setNumPartitions(2).setReplicationFactor((short) 1)).iterator())), (short) 7);
            produceTo(client, 0, "p0-a");
            // A full fetch opens the session and answers for both partitions.
            FetchResponseData full = client.send(sessionFetch(0, 0, 0, 0), (short) 12);
            assertThat(full.errorCode()).isZero();
            int session = full.sessionId();
            assertThat(session).isPositive();
            assertThat(partitionsIn(full)).containsExactly(0, 1);
            // The client moves partition 0 past what it read; nothing is new anywhere: an empty answer.
            FetchResponseData nothing = client.send(sessionFetch(session, 1, 1, -1), (short) 12);
            assertThat(nothing.errorCode()).isZero();
            assertThat(nothing.sessionId()).isEqualTo(session);
            assertThat(partitionsIn(nothing)).isEmpty();
            // A record on partition 1: only partition 1 is in the answer, with it, though the request names none.
            produceTo(client, 1, "p1-a");
            FetchResponseData changed = client.send(sessionFetch(session, 2), (short) 12);
            assertThat(partitionsIn(changed)).containsExactly(1);
            FetchResponseData.PartitionData p1 = changed.responses().get(0).partitions().get(0);
            assertThat(p1.highWatermark()).isEqualTo(1);
            assertThat(p1.records().sizeInBytes()).isPositive();
            // Fetches out of turn, or in a session the broker does not know, are refused as a whole.
            assertThat(client.<FetchResponseData>send(sessionFetch(session, 9), (short) 12).errorCode())
                    .isEqualTo(Errors.INVALID_FETCH_SESSION_EPOCH.code());
            assertThat(client.<FetchResponseData>send(sessionFetch(session + 1, 1), (short) 12).errorCode())
                    .isEqualTo(Errors.FETCH_SESSION_ID_NOT_FOUND.code());
            // Partition 0 forgotten: a new record there is not reported; partition 1 moved on by the client.
            FetchRequestData forget = sessionFetch(session, 3, -1, 1);
            forget.forgottenTopicsData().add(new FetchRequestData.ForgottenTopic().setTopic("sessions").setPartitions(List.of(0)));
            assertThat(partitionsIn(client.send(forget, (short) 12))).isEmpty();
            produceTo(client, 0, "p0-b");
            assertThat(partitionsIn(client.send(sessionFetch(session, 4), (short) 12))).isEmpty();
            produceTo(client, 1, "p1-b");
            assertThat(partitionsIn(client.send(sessionFetch(session, 5), (short) 12))).containsExactly(1);
            // Closing the session (epoch -1) is a full fetch without one; the session is gone after it.
            FetchResponseData closing = client.send(sessionFetch(session, -1, 0, 0), (short) 12);
            assertThat(closing.sessionId()).isZero();
            assertThat(partitionsIn(closing)).containsExactly(0, 1);
            assertThat(client.<FetchResponseData>send(sessionFetch(session, 6), (short) 12).errorCode())
                    .isEqualTo(Errors.FETCH_SESSION_ID_NOT_FOUND.code());
        }
    }
}
