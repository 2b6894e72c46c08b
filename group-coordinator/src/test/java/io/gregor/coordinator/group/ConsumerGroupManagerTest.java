package io.gregor.coordinator.group;

import static org.assertj.core.api.Assertions.assertThat;

import io.gregor.coordinator.group.ClassicGroupManager.GroupListing;
import io.gregor.coordinator.group.ConsumerGroupManager.Heartbeat;
import io.gregor.coordinator.group.ConsumerGroupManager.HeartbeatResult;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.coordinator.group.generated.CoordinatorRecordType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The KIP-848 coordinator stepped by hand: manual clock, in-memory topics and log (see {@link TestCoordinator}). */
class ConsumerGroupManagerTest {
    private static final Uuid T = Uuid.randomUuid();
    private static final Uuid U = Uuid.randomUuid();

    private final TestCoordinator test = new TestCoordinator(new GroupConfig(0, 1_000, 60_000, 100), 5);
    private final Map<String, ServerAssignor.Topic> topics = test.topics;

    @BeforeEach
    void setUp() {
        topics.put("t", new ServerAssignor.Topic("t", T, 4));
        topics.put("u", new ServerAssignor.Topic("u", U, 2));
    }

    @AfterEach
    void close() {
        test.close();
    }

    private HeartbeatResult heartbeat(Heartbeat h) {
        return test.service.consumerGroupHeartbeat(h).join();
    }

    private String state() {
        return test.service.consumerGroupDescribe(List.of("g")).join().get(0).state();
    }

    private ConsumerGroupManager.GroupDescription describe() {
        return test.service.consumerGroupDescribe(List.of("g")).join().get(0);
    }

    private List<GroupListing> list(List<String> types) {
        return test.service.list(List.of(), types).join().groups();
    }

    private HeartbeatResult join(String member, List<String> subscription) {
        return test.service.consumerGroupHeartbeat(new Heartbeat("g", member, 0, null, null, 30_000, subscription, null, null, Map.of(),
                "client", "/127.0.0.1", true)).join();
    }

    private HeartbeatResult beat(String member, int epoch, Map<Uuid, Set<Integer>> owned) {
        return test.service.consumerGroupHeartbeat(new Heartbeat("g", member, epoch, null, null, -1, null, null, null, owned,
                "client", "/127.0.0.1", true)).join();
    }

    @Test
    void shouldMovePartitionsOnlyAfterThePreviousOwnerRevokedThem() {
        // A owns all of t; B joins. B gets nothing until A confirms the revocation of the two partitions that move,
        // so no partition is ever owned by both.
        HeartbeatResult a1 = join("A", List.of("t"));
        assertThat(a1.error()).isEqualTo(Errors.NONE);
        assertThat(a1.memberEpoch()).isEqualTo(1);
        assertThat(a1.assignment()).isEqualTo(Map.of(T, Set.of(0, 1, 2, 3)));

        HeartbeatResult b1 = join("B", List.of("t"));
        assertThat(b1.memberEpoch()).isEqualTo(2);
        assertThat(b1.assignment()).isEmpty();
        assertThat(state()).isEqualTo("Reconciling");

        HeartbeatResult a2 = beat("A", 1, null);
        assertThat(a2.memberEpoch()).as("A keeps its epoch until it has revoked").isEqualTo(1);
        Set<Integer> kept = a2.assignment().get(T);
        assertThat(kept).hasSize(2);
        assertThat(beat("B", 2, Map.of()).assignment()).as("nothing free yet").isNull();

        HeartbeatResult a3 = beat("A", 1, Map.of(T, kept));
        assertThat(a3.memberEpoch()).isEqualTo(2);
        HeartbeatResult b2 = beat("B", 2, Map.of());
        Set<Integer> moved = new TreeSet<>(Set.of(0, 1, 2, 3));
        moved.removeAll(kept);
        assertThat(b2.assignment()).isEqualTo(Map.of(T, moved));
        assertThat(beat("B", 2, Map.of(T, moved)).assignment()).isNull();
        assertThat(state()).isEqualTo("Stable");
    }

    @Test
    void shouldFenceStaleEpochsAndRejectUnknownMembers() {
        join("A", List.of("t"));
        assertThat(beat("A", 7, null).error()).isEqualTo(Errors.FENCED_MEMBER_EPOCH);
        assertThat(beat("nobody", 1, null).error()).isEqualTo(Errors.UNKNOWN_MEMBER_ID);
        assertThat(test.service.consumerGroupHeartbeat(new Heartbeat("other", "X", 3, null, null, -1, null, null, null, null, "c", "h", true))
                .join().error()).isEqualTo(Errors.GROUP_ID_NOT_FOUND);
        assertThat(test.service.consumerGroupHeartbeat(new Heartbeat("g", "C", 0, null, null, 30_000, List.of("t"), null, "sticky", Map.of(),
                "c", "h", true)).join().error()).isEqualTo(Errors.UNSUPPORTED_ASSIGNOR);
        assertThat(test.service.consumerGroupHeartbeat(new Heartbeat("g", "C", 0, null, null, 30_000, null, "([", null, Map.of(),
                "c", "h", true)).join().error()).isEqualTo(Errors.INVALID_REGULAR_EXPRESSION);
    }

    @Test
    void shouldExpireASilentMemberAndGiveItsPartitionsToTheOthers() {
        join("A", List.of("t"));
        HeartbeatResult b = join("B", List.of("t"));
        Map<Uuid, Set<Integer>> aOwned = beat("A", 1, null).assignment();
        beat("A", 1, aOwned);
        beat("B", b.memberEpoch(), Map.of());
        test.time.advance(44_000);
        HeartbeatResult a = beat("A", 2, aOwned);
        test.time.advance(2_000);
        // B missed its 45 s session; A now gets all four partitions.
        HeartbeatResult after = beat("A", a.memberEpoch(), aOwned);
        assertThat(after.memberEpoch()).isEqualTo(3);
        assertThat(after.assignment()).isEqualTo(Map.of(T, Set.of(0, 1, 2, 3)));
    }

    @Test
    void shouldAssignNewPartitionsAndRegexMatches() {
        HeartbeatResult a = test.service.consumerGroupHeartbeat(new Heartbeat("g", "A", 0, null, null, 30_000, List.of(), "t|v", null,
                Map.of(), "c", "h", true)).join();
        assertThat(a.assignment()).isEqualTo(Map.of(T, Set.of(0, 1, 2, 3)));
        Uuid v = Uuid.randomUuid();
        topics.put("v", new ServerAssignor.Topic("v", v, 1));
        topics.put("t", new ServerAssignor.Topic("t", T, 5));
        test.topicsVersion++;
        HeartbeatResult next = beat("A", 1, Map.of(T, Set.of(0, 1, 2, 3)));
        assertThat(next.memberEpoch()).isEqualTo(2);
        assertThat(next.assignment()).isEqualTo(Map.of(T, Set.of(0, 1, 2, 3, 4), v, Set.of(0)));
    }

    @Test
    void shouldLetARestartedStaticMemberTakeBackItsAssignment() {
        HeartbeatResult a = test.service.consumerGroupHeartbeat(new Heartbeat("g", "A", 0, "instance-a", null, 30_000, List.of("t"), null,
                null, Map.of(), "c", "h", true)).join();
        join("B", List.of("t"));
        Map<Uuid, Set<Integer>> kept = beat("A", 1, null).assignment();
        beat("A", 1, kept);
        HeartbeatResult left = test.service.consumerGroupHeartbeat(new Heartbeat("g", "A", -2, "instance-a", null, -1, null, null, null,
                null, "c", "h", true)).join();
        assertThat(left.memberEpoch()).isEqualTo(-2);
        assertThat(describe().groupEpoch()).as("no new epoch while it is away").isEqualTo(2);
        HeartbeatResult back = test.service.consumerGroupHeartbeat(new Heartbeat("g", "A2", 0, "instance-a", null, 30_000, List.of("t"),
                null, null, Map.of(), "c", "h", true)).join();
        assertThat(back.error()).isEqualTo(Errors.NONE);
        assertThat(back.memberEpoch()).isEqualTo(2);
        assertThat(back.assignment()).isEqualTo(kept);
        HeartbeatResult again = test.service.consumerGroupHeartbeat(new Heartbeat("g", "A4", 0, "instance-a", null, 30_000, List.of("t"),
                null, null, Map.of(), "c", "h", true)).join();
        assertThat(again.error()).isEqualTo(Errors.UNRELEASED_INSTANCE_ID);
        assertThat(a.memberEpoch()).isEqualTo(1);
    }

    @Test
    void shouldCheckMemberEpochsOfCommitsAndDeleteUnsubscribedOffsets() {
        HeartbeatResult a = join("A", List.of("t"));
        TopicPartition t0 = new TopicPartition("t", 0);
        TopicPartition u0 = new TopicPartition("u", 0);
        var commit = Map.of(t0, new OffsetAndMetadata(5, -1, "", -1));
        assertThat(test.service.commitOffsets("g", a.memberEpoch(), "A", null, commit).join()).containsEntry(t0, Errors.NONE);
        assertThat(test.service.commitOffsets("g", 9, "A", null, commit).join()).containsEntry(t0, Errors.STALE_MEMBER_EPOCH);
        assertThat(test.service.commitOffsets("g", -1, "", null, commit).join()).containsEntry(t0, Errors.UNKNOWN_MEMBER_ID);
        assertThat(test.service.commitOffsets("g", 1, "B", null, commit).join()).containsEntry(t0, Errors.UNKNOWN_MEMBER_ID);
        assertThat(test.service.fetchOffsets("g", "A", 9, null).join().error()).isEqualTo(Errors.STALE_MEMBER_EPOCH);
        assertThat(test.service.fetchOffsets("g", "A", 1, null).join().offsets()).containsKey(t0);
        // An offset of a topic the group does not subscribe to can be deleted; one it subscribes to cannot.
        test.service.commitOffsets("g", 1, "A", null, Map.of(u0, new OffsetAndMetadata(3, -1, "", -1))).join();
        var deleted = test.service.deleteOffsets("g", List.of(t0, u0)).join();
        assertThat(deleted.partitions()).containsEntry(t0, Errors.GROUP_SUBSCRIBED_TO_TOPIC).containsEntry(u0, Errors.NONE);
        assertThat(test.service.fetchOffsets("g", null, -1, null).join().offsets()).containsOnlyKeys(t0);
        assertThat(test.service.deleteOffsets("missing", List.of(t0)).join().error()).isEqualTo(Errors.GROUP_ID_NOT_FOUND);
    }

    @Test
    void shouldExpireOffsetsOfAGroupEmptyForTheRetentionTimeAndSurviveReplay() {
        join("A", List.of("t"));
        TopicPartition t0 = new TopicPartition("t", 0);
        test.service.commitOffsets("g", 1, "A", null, Map.of(t0, new OffsetAndMetadata(5, -1, "", -1))).join();
        test.service.consumerGroupHeartbeat(new Heartbeat("g", "A", -1, null, null, -1, null, null, null, null, "c", "h", true)).join();
        assertThat(list(List.of("consumer"))).extracting(GroupListing::state).containsExactly("Empty");

        // Replaying the records rebuilds the empty consumer group with its epoch and offset.
        test.restart();
        assertThat(list(List.of())).extracting(GroupListing::type).containsExactly("consumer");
        assertThat(describe().groupEpoch()).isEqualTo(2);
        assertThat(test.service.fetchOffsets("g", null, -1, null).join().offsets()).containsKey(t0);

        // The retention check runs every offsets.retention.check.interval.ms; the commit expires once it is older
        // than offsets.retention.minutes, and the empty group without offsets goes with it.
        long retention = test.config.offsetsRetentionMs();
        long interval = test.config.offsetsRetentionCheckIntervalMs();
        test.time.advance(retention - interval);
        assertThat(test.service.fetchOffsets("g", null, -1, null).join().offsets()).containsKey(t0);
        test.time.advance(2 * interval);
        assertThat(test.service.fetchOffsets("g", null, -1, null).join().offsets()).isEmpty();
        assertThat(list(List.of())).isEmpty();
        GroupRecord last = test.stored().get(test.stored().size() - 1);
        assertThat(last.type()).isEqualTo(CoordinatorRecordType.CONSUMER_GROUP_METADATA);
        assertThat(last.isTombstone()).isTrue();
    }

    @Test
    void shouldRestoreMembersAndTheirAssignmentsOnReplay() {
        // After a restart the members are back with their epochs and partitions: heartbeats and commits go on without
        // a new epoch or moved partitions; a member that never comes back times out.
        join("A", List.of("t"));
        HeartbeatResult b = join("B", List.of("t"));
        Map<Uuid, Set<Integer>> aOwned = beat("A", 1, null).assignment();
        beat("A", 1, aOwned);
        Map<Uuid, Set<Integer>> bOwned = beat("B", b.memberEpoch(), Map.of()).assignment();
        beat("B", 2, bOwned);

        test.restart();
        assertThat(describe().members()).hasSize(2);
        HeartbeatResult a = beat("A", 2, aOwned);
        assertThat(a.error()).isEqualTo(Errors.NONE);
        assertThat(a.memberEpoch()).isEqualTo(2);
        assertThat(a.assignment()).isNull();
        assertThat(test.service.commitOffsets("g", 2, "A", null, Map.of(new TopicPartition("t", 0),
                new OffsetAndMetadata(1, -1, "", -1))).join()).containsValue(Errors.NONE);
        test.time.advance(30_000);
        beat("A", 2, aOwned);
        test.time.advance(16_000);
        HeartbeatResult alone = beat("A", 2, aOwned);
        assertThat(alone.memberEpoch()).isEqualTo(3);
        assertThat(alone.assignment()).isEqualTo(Map.of(T, Set.of(0, 1, 2, 3)));
    }

    @Test
    void uniformAssignorIsBalancedAndStickyAndRangeGivesContiguousRanges() {
        var uniform = ServerAssignor.named("uniform");
        Map<String, Set<String>> subs = new TreeMap<>(Map.of("a", Set.of("t"), "b", Set.of("t"), "c", Set.of("t")));
        Map<String, ServerAssignor.Topic> ts = Map.of("t", new ServerAssignor.Topic("t", T, 7));
        var first = uniform.assign(subs, ts, Map.of());
        assertThat(first.values()).extracting(m -> m.get(T).size()).containsExactlyInAnyOrder(3, 2, 2);
        subs.remove("c");
        var second = uniform.assign(subs, ts, first);
        assertThat(second.get("a").get(T)).containsAll(first.get("a").get(T));
        assertThat(second.get("b").get(T)).containsAll(first.get("b").get(T));
        assertThat(second.values()).extracting(m -> m.get(T).size()).containsExactlyInAnyOrder(4, 3);

        var range = ServerAssignor.named("org.apache.kafka.coordinator.group.assignor.RangeAssignor");
        Map<String, Set<String>> both = new HashMap<>(Map.of("a", Set.of("t"), "b", Set.of("t")));
        var ranges = range.assign(both, ts, Map.of());
        assertThat(ranges.get("a").get(T)).containsExactly(0, 1, 2, 3);
        assertThat(ranges.get("b").get(T)).containsExactly(4, 5, 6);
    }
}
