package io.gregor.protocol.legacy;

import static org.assertj.core.api.Assertions.assertThat;

import io.gregor.legacy.kafka.common.protocol.ByteBufferAccessor;
import io.gregor.legacy.kafka.common.protocol.ObjectSerializationCache;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.apache.kafka.common.message.DescribeConfigsResponseData;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.message.ListOffsetsRequestData;
import org.apache.kafka.common.message.ListOffsetsResponseData;
import org.apache.kafka.common.message.OffsetCommitRequestData;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.record.MemoryRecords;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class LegacyCodecTest {

    /** Every (key, version) that kafka-clients 4.x dropped but 3.9.1 still has. */
    static Stream<Arguments> legacyVersions() {
        List<Arguments> all = new ArrayList<>();
        for (ApiKeys key : ApiKeys.values()) {
            for (short v = 0; v < key.messageType.lowestSupportedVersion(); v++) {
                if (LegacyCodec.isLegacy(key, v)) {
                    all.add(Arguments.of(key, v));
                }
            }
        }
        return all.stream();
    }

    @Test
    void theVersionsKip896RemovedAreLegacy() {
        assertThat(LegacyCodec.legacyLowest(ApiKeys.PRODUCE)).isZero();
        assertThat(LegacyCodec.legacyLowest(ApiKeys.FETCH)).isZero();
        assertThat(LegacyCodec.legacyLowest(ApiKeys.LIST_OFFSETS)).isZero();
        assertThat(LegacyCodec.legacyLowest(ApiKeys.OFFSET_COMMIT)).isZero();
        assertThat(LegacyCodec.legacyLowest(ApiKeys.OFFSET_FETCH)).isZero();
        assertThat(LegacyCodec.legacyLowest(ApiKeys.CREATE_TOPICS)).isZero();
        assertThat(LegacyCodec.legacyLowest(ApiKeys.DELETE_TOPICS)).isZero();
        assertThat(LegacyCodec.legacyLowest(ApiKeys.DESCRIBE_CONFIGS)).isZero();
        assertThat(LegacyCodec.legacyLowest(ApiKeys.DESCRIBE_LOG_DIRS)).isZero();
        assertThat(LegacyCodec.legacyLowest(ApiKeys.OFFSET_FOR_LEADER_EPOCH)).isZero();
        assertThat(LegacyCodec.isLegacy(ApiKeys.PRODUCE, (short) 3)).isFalse();
        assertThat(LegacyCodec.isLegacy(ApiKeys.METADATA, (short) 0)).isFalse();
        assertThat(legacyVersions().count()).isGreaterThanOrEqualTo(15);
    }

    /** A default request and response of every legacy version survive the bridge in both directions. */
    @ParameterizedTest
    @MethodSource("legacyVersions")
    void everyLegacyVersionBridges(ApiKeys key, short version) {
        var oldRequest = io.gregor.legacy.kafka.common.protocol.ApiKeys.forId(key.id).messageType.newRequest();
        ApiMessage modern = LegacyCodec.readRequest(key, version, write(oldRequest, version));
        assertThat(modern.apiKey()).isEqualTo(key.id);
        ApiMessage response = key.messageType.newResponse();
        ByteBuffer body = body(key, version, response);
        var back = io.gregor.legacy.kafka.common.protocol.ApiKeys.forId(key.id).messageType.newResponse();
        back.read(new ByteBufferAccessor(body), version);
        assertThat(body.remaining()).isZero();
    }

    @Test
    void produceV0KeepsTopicsAcksTimeoutAndRecordBytes() {
        byte[] records = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 0, 0};
        var old = new io.gregor.legacy.kafka.common.message.ProduceRequestData().setAcks((short) -1).setTimeoutMs(1234);
        var topic = new io.gregor.legacy.kafka.common.message.ProduceRequestData.TopicProduceData().setName("t");
        topic.partitionData().add(new io.gregor.legacy.kafka.common.message.ProduceRequestData.PartitionProduceData()
                .setIndex(2).setRecords(io.gregor.legacy.kafka.common.record.MemoryRecords.readableRecords(ByteBuffer.wrap(records))));
        old.topicData().add(topic);
        var modern = (ProduceRequestData) LegacyCodec.readRequest(ApiKeys.PRODUCE, (short) 0, write(old, (short) 0));
        assertThat(modern.acks()).isEqualTo((short) -1);
        assertThat(modern.timeoutMs()).isEqualTo(1234);
        assertThat(modern.transactionalId()).isNull();
        var p = modern.topicData().iterator().next().partitionData().get(0);
        assertThat(p.index()).isEqualTo(2);
        ByteBuffer got = ((MemoryRecords) p.records()).buffer();
        byte[] bytes = new byte[got.remaining()];
        got.duplicate().get(bytes);
        assertThat(bytes).isEqualTo(records);

        var response = new ProduceResponseData();
        var tr = new ProduceResponseData.TopicProduceResponse().setName("t");
        tr.partitionResponses().add(new ProduceResponseData.PartitionProduceResponse().setIndex(2).setBaseOffset(77)
                .setLogAppendTimeMs(-1).setLogStartOffset(-1));
        response.responses().add(tr);
        for (short v = 0; v <= 2; v++) {
            var back = new io.gregor.legacy.kafka.common.message.ProduceResponseData();
            back.read(new ByteBufferAccessor(body(ApiKeys.PRODUCE, v, response)), v);
            assertThat(back.responses().iterator().next().partitionResponses().get(0).baseOffset()).isEqualTo(77);
        }
    }

    @Test
    void fetchV0ReadsAsUncommittedWithoutResponseLimit() {
        var old = new io.gregor.legacy.kafka.common.message.FetchRequestData().setReplicaId(-1).setMaxWaitMs(500).setMinBytes(1);
        var topic = new io.gregor.legacy.kafka.common.message.FetchRequestData.FetchTopic().setTopic("t");
        topic.partitions().add(new io.gregor.legacy.kafka.common.message.FetchRequestData.FetchPartition()
                .setPartition(0).setFetchOffset(42).setPartitionMaxBytes(1000));
        old.topics().add(topic);
        var modern = (FetchRequestData) LegacyCodec.readRequest(ApiKeys.FETCH, (short) 0, write(old, (short) 0));
        assertThat(modern.isolationLevel()).isZero();
        assertThat(modern.maxBytes()).isEqualTo(Integer.MAX_VALUE);
        assertThat(modern.maxWaitMs()).isEqualTo(500);
        assertThat(modern.topics().get(0).partitions().get(0).fetchOffset()).isEqualTo(42);
        assertThat(modern.topics().get(0).partitions().get(0).partitionMaxBytes()).isEqualTo(1000);

        var response = new FetchResponseData();
        var tr = new FetchResponseData.FetchableTopicResponse().setTopic("t");
        tr.partitions().add(new FetchResponseData.PartitionData().setPartitionIndex(0).setHighWatermark(50)
                .setLastStableOffset(50).setRecords(MemoryRecords.readableRecords(ByteBuffer.wrap(new byte[] {9, 9, 9}))));
        response.responses().add(tr);
        var back = new io.gregor.legacy.kafka.common.message.FetchResponseData();
        back.read(new ByteBufferAccessor(body(ApiKeys.FETCH, (short) 0, response)), (short) 0);
        var p = back.responses().get(0).partitions().get(0);
        assertThat(p.highWatermark()).isEqualTo(50);
        assertThat(p.records().sizeInBytes()).isEqualTo(3);
    }

    @Test
    void listOffsetsV0AnswersWithTheOldStyleOffsetList() {
        var old = new io.gregor.legacy.kafka.common.message.ListOffsetsRequestData().setReplicaId(-1);
        var topic = new io.gregor.legacy.kafka.common.message.ListOffsetsRequestData.ListOffsetsTopic().setName("t");
        topic.partitions().add(new io.gregor.legacy.kafka.common.message.ListOffsetsRequestData.ListOffsetsPartition()
                .setPartitionIndex(0).setTimestamp(-2).setMaxNumOffsets(1));
        old.topics().add(topic);
        var modern = (ListOffsetsRequestData) LegacyCodec.readRequest(ApiKeys.LIST_OFFSETS, (short) 0, write(old, (short) 0));
        assertThat(modern.topics().get(0).partitions().get(0).timestamp()).isEqualTo(-2);

        var response = new ListOffsetsResponseData();
        var tr = new ListOffsetsResponseData.ListOffsetsTopicResponse().setName("t");
        tr.partitions().add(new ListOffsetsResponseData.ListOffsetsPartitionResponse().setPartitionIndex(0)
                .setOffset(17).setTimestamp(-1));
        tr.partitions().add(new ListOffsetsResponseData.ListOffsetsPartitionResponse().setPartitionIndex(1)
                .setErrorCode((short) 3).setOffset(-1).setTimestamp(-1));
        response.topics().add(tr);
        var back = new io.gregor.legacy.kafka.common.message.ListOffsetsResponseData();
        back.read(new ByteBufferAccessor(body(ApiKeys.LIST_OFFSETS, (short) 0, response)), (short) 0);
        assertThat(back.topics().get(0).partitions().get(0).oldStyleOffsets()).containsExactly(17L);
        assertThat(back.topics().get(0).partitions().get(1).oldStyleOffsets()).isEmpty();
        assertThat(back.topics().get(0).partitions().get(1).errorCode()).isEqualTo((short) 3);
    }

    @Test
    void offsetCommitV0IsASimpleCommitWithoutGeneration() {
        var old = new io.gregor.legacy.kafka.common.message.OffsetCommitRequestData().setGroupId("g");
        var topic = new io.gregor.legacy.kafka.common.message.OffsetCommitRequestData.OffsetCommitRequestTopic().setName("t");
        topic.partitions().add(new io.gregor.legacy.kafka.common.message.OffsetCommitRequestData.OffsetCommitRequestPartition()
                .setPartitionIndex(0).setCommittedOffset(99).setCommittedMetadata("m"));
        old.topics().add(topic);
        var modern = (OffsetCommitRequestData) LegacyCodec.readRequest(ApiKeys.OFFSET_COMMIT, (short) 0, write(old, (short) 0));
        assertThat(modern.groupId()).isEqualTo("g");
        assertThat(modern.generationIdOrMemberEpoch()).isEqualTo(-1);
        assertThat(modern.memberId()).isEmpty();
        assertThat(modern.retentionTimeMs()).isEqualTo(-1);
        assertThat(modern.topics().get(0).partitions().get(0).committedOffset()).isEqualTo(99);
        assertThat(modern.topics().get(0).partitions().get(0).committedMetadata()).isEqualTo("m");
    }

    @Test
    void describeConfigsV0ReportsIsDefault() {
        var response = new DescribeConfigsResponseData();
        var result = new DescribeConfigsResponseData.DescribeConfigsResult().setResourceType((byte) 2).setResourceName("t");
        result.configs().add(new DescribeConfigsResponseData.DescribeConfigsResourceResult().setName("a").setValue("1")
                .setConfigSource((byte) 5));
        result.configs().add(new DescribeConfigsResponseData.DescribeConfigsResourceResult().setName("b").setValue("2")
                .setConfigSource((byte) 1));
        response.results().add(result);
        var back = new io.gregor.legacy.kafka.common.message.DescribeConfigsResponseData();
        back.read(new ByteBufferAccessor(body(ApiKeys.DESCRIBE_CONFIGS, (short) 0, response)), (short) 0);
        assertThat(back.results().get(0).configs().get(0).isDefault()).isTrue();
        assertThat(back.results().get(0).configs().get(1).isDefault()).isFalse();
        assertThat(back.results().get(0).configs().get(1).value()).isEqualTo("2");
    }

    @Test
    void legacyOnlyRequestFieldsAreDropped() {
        var commit = new io.gregor.legacy.kafka.common.message.OffsetCommitRequestData().setGroupId("g").setGenerationIdOrMemberEpoch(3)
                .setMemberId("m");
        var topic = new io.gregor.legacy.kafka.common.message.OffsetCommitRequestData.OffsetCommitRequestTopic().setName("t");
        topic.partitions().add(new io.gregor.legacy.kafka.common.message.OffsetCommitRequestData.OffsetCommitRequestPartition()
                .setPartitionIndex(0).setCommittedOffset(5).setCommitTimestamp(1_700_000_000_000L));
        commit.topics().add(topic);
        var modern = (OffsetCommitRequestData) LegacyCodec.readRequest(ApiKeys.OFFSET_COMMIT, (short) 1, write(commit, (short) 1));
        assertThat(modern.generationIdOrMemberEpoch()).isEqualTo(3);
        assertThat(modern.memberId()).isEqualTo("m");
        assertThat(modern.topics().get(0).partitions().get(0).committedOffset()).isEqualTo(5);

        var offsets = new io.gregor.legacy.kafka.common.message.ListOffsetsRequestData().setReplicaId(-1);
        var ot = new io.gregor.legacy.kafka.common.message.ListOffsetsRequestData.ListOffsetsTopic().setName("t");
        ot.partitions().add(new io.gregor.legacy.kafka.common.message.ListOffsetsRequestData.ListOffsetsPartition()
                .setPartitionIndex(0).setTimestamp(-1).setMaxNumOffsets(10));
        offsets.topics().add(ot);
        var modernOffsets = (ListOffsetsRequestData) LegacyCodec.readRequest(ApiKeys.LIST_OFFSETS, (short) 0, write(offsets, (short) 0));
        assertThat(modernOffsets.topics().get(0).partitions().get(0).timestamp()).isEqualTo(-1);
    }

    @Test
    void responseFieldsNewerThanTheClientAreLeftOut() {
        var produce = new ProduceResponseData();
        var tr = new ProduceResponseData.TopicProduceResponse().setName("t");
        tr.partitionResponses().add(new ProduceResponseData.PartitionProduceResponse().setIndex(0).setBaseOffset(1)
                .setLogAppendTimeMs(123));
        produce.responses().add(tr);
        produce.setThrottleTimeMs(5);
        for (short v = 0; v <= 2; v++) {
            assertThat(body(ApiKeys.PRODUCE, v, produce).remaining()).isPositive();
        }
        var create = new org.apache.kafka.common.message.CreateTopicsResponseData().setThrottleTimeMs(7);
        create.topics().add(new org.apache.kafka.common.message.CreateTopicsResponseData.CreatableTopicResult().setName("t")
                .setErrorCode((short) 36).setErrorMessage("Topic 't' already exists."));
        for (short v = 0; v <= 1; v++) {
            var back = new io.gregor.legacy.kafka.common.message.CreateTopicsResponseData();
            back.read(new ByteBufferAccessor(body(ApiKeys.CREATE_TOPICS, v, create)), v);
            assertThat(back.topics().find("t").errorCode()).isEqualTo((short) 36);
        }
        var epochs = new org.apache.kafka.common.message.OffsetForLeaderEpochResponseData();
        var et = new org.apache.kafka.common.message.OffsetForLeaderEpochResponseData.OffsetForLeaderTopicResult().setTopic("t");
        et.partitions().add(new org.apache.kafka.common.message.OffsetForLeaderEpochResponseData.EpochEndOffset()
                .setPartition(0).setLeaderEpoch(4).setEndOffset(99));
        epochs.topics().add(et);
        for (short v = 0; v <= 1; v++) {
            var back = new io.gregor.legacy.kafka.common.message.OffsetForLeaderEpochResponseData();
            back.read(new ByteBufferAccessor(body(ApiKeys.OFFSET_FOR_LEADER_EPOCH, v, epochs)), v);
            assertThat(back.topics().iterator().next().partitions().get(0).endOffset()).isEqualTo(99);
        }
        var deleted = new org.apache.kafka.common.message.DeleteTopicsResponseData().setThrottleTimeMs(3);
        deleted.responses().add(new org.apache.kafka.common.message.DeleteTopicsResponseData.DeletableTopicResult().setName("t"));
        assertThat(body(ApiKeys.DELETE_TOPICS, (short) 0, deleted).remaining()).isPositive();
        var fetched = new org.apache.kafka.common.message.OffsetFetchResponseData().setThrottleTimeMs(2);
        var ft = new org.apache.kafka.common.message.OffsetFetchResponseData.OffsetFetchResponseTopic().setName("t");
        ft.partitions().add(new org.apache.kafka.common.message.OffsetFetchResponseData.OffsetFetchResponsePartition()
                .setPartitionIndex(0).setCommittedOffset(8).setMetadata(""));
        fetched.topics().add(ft);
        var back = new io.gregor.legacy.kafka.common.message.OffsetFetchResponseData();
        back.read(new ByteBufferAccessor(body(ApiKeys.OFFSET_FETCH, (short) 0, fetched)), (short) 0);
        assertThat(back.topics().get(0).partitions().get(0).committedOffset()).isEqualTo(8);
    }

    /** The parts of a legacy response, joined as they go on the wire. */
    private static ByteBuffer body(ApiKeys key, short version, ApiMessage response) {
        List<Object> parts = LegacyCodec.writeResponse(key, version, response);
        ByteBuffer joined = ByteBuffer.allocate(parts.stream().mapToInt(part -> ((ByteBuffer) part).remaining()).sum());
        parts.forEach(part -> joined.put(((ByteBuffer) part).duplicate()));
        return joined.flip();
    }

    private static ByteBuffer write(io.gregor.legacy.kafka.common.protocol.ApiMessage message, short version) {
        ObjectSerializationCache cache = new ObjectSerializationCache();
        ByteBuffer buffer = ByteBuffer.allocate(message.size(cache, version));
        message.write(new ByteBufferAccessor(buffer), cache, version);
        return buffer.flip();
    }
}
