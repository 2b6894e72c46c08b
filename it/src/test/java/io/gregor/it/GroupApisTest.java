package io.gregor.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.gregor.testkit.Await;
import io.gregor.testkit.GregorCluster;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.DeleteGroupsRequestData;
import org.apache.kafka.common.message.DescribeGroupsRequestData;
import org.apache.kafka.common.message.FindCoordinatorRequestData;
import org.apache.kafka.common.message.HeartbeatRequestData;
import org.apache.kafka.common.message.JoinGroupRequestData;
import org.apache.kafka.common.message.JoinGroupResponseData;
import org.apache.kafka.common.message.LeaveGroupRequestData;
import org.apache.kafka.common.message.ListGroupsRequestData;
import org.apache.kafka.common.message.ListGroupsResponseData;
import org.apache.kafka.common.message.OffsetCommitRequestData;
import org.apache.kafka.common.message.OffsetCommitResponseData;
import org.apache.kafka.common.message.OffsetFetchRequestData;
import org.apache.kafka.common.message.OffsetFetchResponseData;
import org.apache.kafka.common.message.SyncGroupRequestData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The group APIs at every version the client library knows, as raw requests against one real broker. */
class GroupApisTest {
    private static final List<ApiKeys> KEYS = List.of(ApiKeys.FIND_COORDINATOR, ApiKeys.JOIN_GROUP, ApiKeys.SYNC_GROUP,
            ApiKeys.HEARTBEAT, ApiKeys.LEAVE_GROUP, ApiKeys.OFFSET_COMMIT, ApiKeys.OFFSET_FETCH, ApiKeys.LIST_GROUPS,
            ApiKeys.DESCRIBE_GROUPS, ApiKeys.DELETE_GROUPS, ApiKeys.OFFSET_DELETE, ApiKeys.CONSUMER_GROUP_HEARTBEAT,
            ApiKeys.CONSUMER_GROUP_DESCRIBE);

    private static GregorCluster gregor;

    @BeforeAll
    static void start() {
        gregor = GregorCluster.single().with("group.initial.rebalance.delay.ms", "0").start();
        gregor.createTopic("t", 1);
        Await.until("coordinator loaded", Duration.ofSeconds(30), () ->
                ((ListGroupsResponseData) send(ApiKeys.LIST_GROUPS, (short) 0, new ListGroupsRequestData())).errorCode() == 0);
    }

    @AfterAll
    static void stop() {
        if (gregor != null) {
            gregor.close();
        }
    }

    static Stream<Arguments> everyVersion() {
        List<Arguments> cases = new ArrayList<>();
        for (ApiKeys key : KEYS) {
            for (short v = key.messageType.lowestSupportedVersion(); v <= key.messageType.highestSupportedVersion(true); v++) {
                cases.add(Arguments.of(key, v));
            }
        }
        return cases.stream();
    }

    @ParameterizedTest
    @MethodSource("everyVersion")
    void testEveryVersionEncodes(ApiKeys key, short version) throws Exception {
        // A minimal request at each version is answered and decodes; errors are only the expected ones.
        String group = "versions-" + key.name().toLowerCase() + "-" + version;
        ApiMessage response = send(key, version, minimalRequest(key, version, group));
        List<Short> errors = RawKafkaClient.errorCodes(response);
        switch (key) {
            case JOIN_GROUP -> assertThat(((JoinGroupResponseData) response).errorCode())
                    .isEqualTo(version >= 4 ? Errors.MEMBER_ID_REQUIRED.code() : Errors.NONE.code());
            case SYNC_GROUP, HEARTBEAT, LEAVE_GROUP -> assertThat(errors).contains(Errors.UNKNOWN_MEMBER_ID.code());
            case DELETE_GROUPS -> assertThat(errors).containsOnly(Errors.GROUP_ID_NOT_FOUND.code());
            case DESCRIBE_GROUPS -> assertThat(errors).containsOnly(version >= 6 ? Errors.GROUP_ID_NOT_FOUND.code() : 0);
            case OFFSET_DELETE, CONSUMER_GROUP_DESCRIBE -> assertThat(errors).contains(Errors.GROUP_ID_NOT_FOUND.code());
            case CONSUMER_GROUP_HEARTBEAT -> {
                var heartbeat = (org.apache.kafka.common.message.ConsumerGroupHeartbeatResponseData) response;
                assertThat(heartbeat.errorCode()).isZero();
                assertThat(heartbeat.memberEpoch()).isEqualTo(1);
                assertThat(heartbeat.heartbeatIntervalMs()).isPositive();
                assertThat(heartbeat.assignment()).isNotNull();
            }
            default -> assertThat(errors).allMatch(code -> code == 0);
        }
    }

    @Test
    void testCommitToATopicOrPartitionThatDoesNotExistIsRefusedPerPartition() throws Exception {
        // Offsets are kept only for partitions that exist: the others get UNKNOWN_TOPIC_OR_PARTITION, as from Kafka.
        var commit = new OffsetCommitRequestData().setGroupId("unknown-topics").setGenerationIdOrMemberEpoch(-1).setMemberId("");
        commit.topics().add(new OffsetCommitRequestData.OffsetCommitRequestTopic().setName("t").setPartitions(List.of(
                new OffsetCommitRequestData.OffsetCommitRequestPartition().setPartitionIndex(0).setCommittedOffset(3),
                new OffsetCommitRequestData.OffsetCommitRequestPartition().setPartitionIndex(7).setCommittedOffset(3))));
        commit.topics().add(new OffsetCommitRequestData.OffsetCommitRequestTopic().setName("no-such-topic").setPartitions(
                List.of(new OffsetCommitRequestData.OffsetCommitRequestPartition().setPartitionIndex(0).setCommittedOffset(3))));
        var committed = (OffsetCommitResponseData) send(ApiKeys.OFFSET_COMMIT, (short) 9, commit);
        assertThat(committed.topics().get(0).partitions()).extracting(p -> p.partitionIndex() + ":" + p.errorCode())
                .containsExactlyInAnyOrder("0:0", "7:" + Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
        assertThat(committed.topics().get(1).partitions().get(0).errorCode()).isEqualTo(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
        var fetch = new OffsetFetchRequestData().setGroups(List.of(new OffsetFetchRequestData.OffsetFetchRequestGroup()
                .setGroupId("unknown-topics").setTopics(null)));
        var fetched = (OffsetFetchResponseData) send(ApiKeys.OFFSET_FETCH, (short) 9, fetch);
        assertThat(fetched.groups().get(0).topics()).extracting(OffsetFetchResponseData.OffsetFetchResponseTopics::name)
                .containsExactly("t");
        assertThat(fetched.groups().get(0).topics().get(0).partitions()).hasSize(1);
    }

    @Test
    void testCommitThenFetchByTopicIdAndByName() throws Exception {
        // v10 commits by topic id; v9 and v10 fetches return the same offset by name and by id.
        Uuid id = gregor.createTopic("ids", 1);
        var commit = new OffsetCommitRequestData().setGroupId("by-id").setGenerationIdOrMemberEpoch(-1).setMemberId("");
        commit.topics().add(new OffsetCommitRequestData.OffsetCommitRequestTopic().setTopicId(id).setPartitions(List.of(
                new OffsetCommitRequestData.OffsetCommitRequestPartition().setPartitionIndex(0).setCommittedOffset(17))));
        var committed = (OffsetCommitResponseData) send(ApiKeys.OFFSET_COMMIT, (short) 10, commit);
        assertThat(committed.topics().get(0).partitions().get(0).errorCode()).isZero();
        for (short v : new short[] {9, 10}) {
            var topic = new OffsetFetchRequestData.OffsetFetchRequestTopics().setPartitionIndexes(List.of(0));
            if (v >= 10) {
                topic.setTopicId(id);
            } else {
                topic.setName("ids");
            }
            var fetch = new OffsetFetchRequestData().setGroups(List.of(new OffsetFetchRequestData.OffsetFetchRequestGroup()
                    .setGroupId("by-id").setTopics(List.of(topic))));
            var fetched = (OffsetFetchResponseData) send(ApiKeys.OFFSET_FETCH, v, fetch);
            assertThat(fetched.groups().get(0).topics().get(0).partitions().get(0).committedOffset()).isEqualTo(17);
        }
    }

    private static ApiMessage minimalRequest(ApiKeys key, short version, String group) {
        return switch (key) {
            case FIND_COORDINATOR -> version >= 4
                    ? new FindCoordinatorRequestData().setKeyType((byte) 0).setCoordinatorKeys(List.of(group, group + "-2"))
                    : new FindCoordinatorRequestData().setKey(group);
            case JOIN_GROUP -> {
                var request = new JoinGroupRequestData().setGroupId(group).setMemberId("").setProtocolType("consumer")
                        .setSessionTimeoutMs(10_000).setRebalanceTimeoutMs(10_000);
                request.protocols().add(new JoinGroupRequestData.JoinGroupRequestProtocol().setName("range")
                        .setMetadata(new byte[0]));
                yield request;
            }
            case SYNC_GROUP -> new SyncGroupRequestData().setGroupId(group).setGenerationId(1).setMemberId("m")
                    .setProtocolType(version >= 5 ? "consumer" : null).setProtocolName(version >= 5 ? "range" : null);
            case HEARTBEAT -> new HeartbeatRequestData().setGroupId(group).setGenerationId(1).setMemberId("m");
            case LEAVE_GROUP -> version >= 3
                    ? new LeaveGroupRequestData().setGroupId(group).setMembers(List.of(
                            new LeaveGroupRequestData.MemberIdentity().setMemberId("m")))
                    : new LeaveGroupRequestData().setGroupId(group).setMemberId("m");
            case OFFSET_COMMIT -> {
                var request = new OffsetCommitRequestData().setGroupId(group).setGenerationIdOrMemberEpoch(-1).setMemberId("");
                if (version < 10) {
                    request.topics().add(new OffsetCommitRequestData.OffsetCommitRequestTopic().setName("t").setPartitions(
                            List.of(new OffsetCommitRequestData.OffsetCommitRequestPartition().setPartitionIndex(0)
                                    .setCommittedOffset(5))));
                }
                yield request;
            }
            case OFFSET_FETCH -> version >= 8
                    ? new OffsetFetchRequestData().setGroups(List.of(new OffsetFetchRequestData.OffsetFetchRequestGroup()
                            .setGroupId(group).setTopics(null)))
                    : new OffsetFetchRequestData().setGroupId(group).setTopics(version >= 2 ? null : List.of(
                            new OffsetFetchRequestData.OffsetFetchRequestTopic().setName("t").setPartitionIndexes(List.of(0))));
            case LIST_GROUPS -> new ListGroupsRequestData();
            case DESCRIBE_GROUPS -> new DescribeGroupsRequestData().setGroups(List.of(group));
            case DELETE_GROUPS -> new DeleteGroupsRequestData().setGroupsNames(List.of(group));
            case OFFSET_DELETE -> new org.apache.kafka.common.message.OffsetDeleteRequestData().setGroupId(group);
            case CONSUMER_GROUP_HEARTBEAT -> new org.apache.kafka.common.message.ConsumerGroupHeartbeatRequestData()
                    .setGroupId(group).setMemberId(version >= 1 ? Uuid.randomUuid().toString() : "").setMemberEpoch(0)
                    .setRebalanceTimeoutMs(30_000).setSubscribedTopicNames(List.of("t")).setTopicPartitions(List.of());
            case CONSUMER_GROUP_DESCRIBE -> new org.apache.kafka.common.message.ConsumerGroupDescribeRequestData()
                    .setGroupIds(List.of(group));
            default -> throw new IllegalArgumentException(key.name());
        };
    }

    /** Sends one request of API {@code key} at {@code version} on a connection of its own. */
    private static ApiMessage send(ApiKeys key, short version, ApiMessage body) throws IOException {
        assertThat(body.apiKey()).isEqualTo(key.id);
        return RawKafkaClient.sendOnce(new InetSocketAddress("127.0.0.1", gregor.broker().boundPort()), body, version);
    }
}
