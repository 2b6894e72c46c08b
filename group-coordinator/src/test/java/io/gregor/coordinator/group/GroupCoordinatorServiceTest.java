package io.gregor.coordinator.group;

import static org.assertj.core.api.Assertions.assertThat;

import io.gregor.coordinator.group.ClassicGroupManager.GroupListing;
import io.gregor.coordinator.group.ConsumerGroupManager.Heartbeat;
import io.gregor.coordinator.group.ConsumerGroupManager.HeartbeatResult;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.NotLeaderOrFollowerException;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.utils.Utils;
import org.apache.kafka.coordinator.common.runtime.CoordinatorRecord;
import org.apache.kafka.coordinator.group.GroupCoordinatorRecordSerde;
import org.apache.kafka.coordinator.group.generated.OffsetCommitValue;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Groups spread over the partitions of __consumer_offsets, in Kafka's record format. */
class GroupCoordinatorServiceTest {
    private static final Uuid T = Uuid.randomUuid();
    private final TestCoordinator test = new TestCoordinator(new GroupConfig(0, 1_000, 60_000, 100), 50);

    {
        test.topics.put("t", new ServerAssignor.Topic("t", T, 4));
    }

    @AfterEach
    void close() {
        test.close();
    }

    private Map<TopicPartition, Errors> commit(String group, long offset) {
        return test.service.commitOffsets(group, -1, "", null, Map.of(new TopicPartition("t", 0),
                new OffsetAndMetadata(offset, 3, "m-" + offset, -1))).join();
    }

    @Test
    void groupsLiveInThePartitionKafkaHashesThemToAndAreListedAcrossAllOfThem() {
        Set<Integer> used = new HashSet<>();
        for (int i = 0; i < 200; i++) {
            String group = "group-" + i;
            int before = test.log.records.size();
            assertThat(commit(group, i)).containsValue(Errors.NONE);
            int partition = test.log.records.get(before).partition();
            assertThat(partition).isEqualTo(Utils.abs(group.hashCode()) % 50).isEqualTo(test.service.partitionFor(group));
            used.add(partition);
        }
        assertThat(used).as("200 groups spread over many of the 50 partitions").hasSizeGreaterThan(40);
        assertThat(test.service.list(List.of(), List.of()).join().groups()).hasSize(200);

        test.restart();
        List<GroupListing> listed = test.service.list(List.of(), List.of()).join().groups();
        assertThat(listed).hasSize(200).allMatch(g -> g.state().equals("Empty") && g.type().equals("classic"));
        for (int i = 0; i < 200; i += 37) {
            var offsets = test.service.fetchOffsets("group-" + i, null, -1, null).join().offsets();
            assertThat(offsets.get(new TopicPartition("t", 0))).isEqualTo(
                    new OffsetAndMetadata(i, 3, "m-" + i, test.time.milliseconds()));
        }
    }

    @Test
    void kafkasOwnReaderReadsEveryRecordWrittenHere() {
        // Offsets, a classic group through a rebalance, and a consumer group through join, reconcile and leave.
        commit("standalone", 7);
        var joined = test.service.join(new ClassicGroupManager.JoinRequest("classic", "", null, "consumer",
                List.of(new ClassicGroupManager.Protocol("range", new byte[] {1})), 10_000, 30_000, "c", "/h", false, true));
        test.time.advance(1);
        var join = joined.join();
        assertThat(test.service.sync("classic", join.generationId(), join.memberId(), null, null, null,
                Map.of(join.memberId(), new byte[] {9})).join().error()).isEqualTo(Errors.NONE);
        HeartbeatResult a = test.service.consumerGroupHeartbeat(new Heartbeat("kip848", "A", 0, "inst", "rack", 30_000,
                List.of("t"), null, "uniform", Map.of(), "c", "/h", true)).join();
        assertThat(a.error()).isEqualTo(Errors.NONE);
        test.service.consumerGroupHeartbeat(new Heartbeat("kip848", "A", a.memberEpoch(), null, null, -1, null, null, null,
                a.assignment(), "c", "/h", true)).join();
        test.service.consumerGroupHeartbeat(new Heartbeat("kip848", "A", -1, null, null, -1, null, null, null, null, "c",
                "/h", true)).join();

        GroupCoordinatorRecordSerde kafka = new GroupCoordinatorRecordSerde();
        List<CoordinatorRecord> read = new ArrayList<>();
        for (TestCoordinator.MemoryLog.Stored s : test.log.records) {
            read.add(kafka.deserialize(ByteBuffer.wrap(s.key()), s.value() == null ? null : ByteBuffer.wrap(s.value())));
        }
        assertThat(read).hasSize(test.log.records.size()).hasSizeGreaterThan(10);
        assertThat(read).anyMatch(r -> r.value() != null && r.value().message() instanceof OffsetCommitValue v && v.offset() == 7);
        // Kafka writes the same bytes for what it reads back.
        for (int i = 0; i < read.size(); i++) {
            assertThat(kafka.serializeKey(read.get(i))).isEqualTo(test.log.records.get(i).key());
            assertThat(kafka.serializeValue(read.get(i))).isEqualTo(test.log.records.get(i).value());
        }
    }

    @Test
    void aConsumerGroupHeartbeatThatIsNotWrittenLeavesTheGroupAsItWas() {
        HeartbeatResult a = test.service.consumerGroupHeartbeat(new Heartbeat("g", "A", 0, null, null, 30_000, List.of("t"),
                null, null, Map.of(), "c", "/h", true)).join();
        assertThat(a.memberEpoch()).isEqualTo(1);
        int stored = test.log.records.size();
        test.log.failNext = new NotLeaderOrFollowerException("moved");
        HeartbeatResult b = test.service.consumerGroupHeartbeat(new Heartbeat("g", "B", 0, null, null, 30_000, List.of("t"),
                null, null, Map.of(), "c", "/h", true)).join();
        assertThat(b.error()).isEqualTo(Errors.NOT_COORDINATOR);
        assertThat(test.log.records).hasSize(stored);
        var group = test.service.consumerGroupDescribe(List.of("g")).join().get(0);
        assertThat(group.groupEpoch()).isEqualTo(1);
        assertThat(group.members()).extracting(ConsumerGroupManager.MemberDescription::memberId).containsExactly("A");
    }
}
