package io.gregor.coordinator.group;

import static org.assertj.core.api.Assertions.assertThat;

import io.gregor.coordinator.group.ClassicGroupManager.JoinRequest;
import io.gregor.coordinator.group.ClassicGroupManager.JoinResult;
import io.gregor.coordinator.group.ClassicGroupManager.LeaveResult;
import io.gregor.coordinator.group.ClassicGroupManager.LeavingMember;
import io.gregor.coordinator.group.ClassicGroupManager.Protocol;
import io.gregor.coordinator.group.ClassicGroupManager.SyncResult;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.KafkaStorageException;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.coordinator.group.generated.CoordinatorRecordType;
import org.apache.kafka.coordinator.group.generated.GroupMetadataValue;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The classic group state machine stepped by hand: manual clock, in-memory log (see {@link TestCoordinator}). */
class ClassicGroupManagerTest {
    private static final int SESSION_MS = 10_000;
    private static final int REBALANCE_MS = 30_000;
    private static final int INITIAL_DELAY_MS = 3_000;

    private final TestCoordinator test = new TestCoordinator(new GroupConfig(INITIAL_DELAY_MS, 1_000, 60_000, 3), 3);
    private final ManualTime timer = new ManualTime(test);

    /** The test's clock, advanced by hand. */
    private record ManualTime(TestCoordinator test) {
        void advance(long ms) {
            test.time.advance(ms);
        }

        long milliseconds() {
            return test.time.milliseconds();
        }
    }

    {
        test.topics.put("t", new ServerAssignor.Topic("t", org.apache.kafka.common.Uuid.randomUuid(), 2));
    }

    @AfterEach
    void close() {
        test.close();
    }

    private GroupCoordinatorService coordinator() {
        return test.service;
    }

    private CompletableFuture<JoinResult> join(String memberId, String protocol) {
        return join(memberId, null, protocol);
    }

    private CompletableFuture<JoinResult> join(String memberId, String instanceId, String protocol) {
        return coordinator().join(new JoinRequest("g", memberId, instanceId, "consumer",
                List.of(new Protocol(protocol, new byte[] {1})), SESSION_MS, REBALANCE_MS, "client", "/127.0.0.1", true, true));
    }

    /** Joins with MEMBER_ID_REQUIRED and the rejoin it asks for; returns the parked join. */
    private CompletableFuture<JoinResult> joinNew(String protocol) {
        JoinResult first = join("", protocol).join();
        assertThat(first.error()).isEqualTo(Errors.MEMBER_ID_REQUIRED);
        assertThat(first.memberId()).startsWith("client-");
        return join(first.memberId(), protocol);
    }

    private SyncResult sync(JoinResult joined, Map<String, byte[]> assignments) {
        return coordinator().sync("g", joined.generationId(), joined.memberId(), null, "consumer", joined.protocolName(),
                assignments).join();
    }

    private Errors heartbeat(int generation, String memberId, String instanceId) {
        return coordinator().heartbeat("g", generation, memberId, instanceId).join();
    }

    private String state() {
        return coordinator().describe("g").join().state();
    }

    @Test
    void shouldFormAGroupAfterTheInitialDelayAndHandOutTheLeadersAssignment() {
        // Two members join an empty group: both wait out the initial delay, then get generation 1 with one leader.
        CompletableFuture<JoinResult> a = joinNew("range");
        CompletableFuture<JoinResult> b = joinNew("range");
        timer.advance(INITIAL_DELAY_MS - 1);
        assertThat(a).isNotDone();
        timer.advance(1);
        JoinResult ja = a.join();
        JoinResult jb = b.join();
        assertThat(ja.error()).isEqualTo(Errors.NONE);
        assertThat(ja.generationId()).isEqualTo(1).isEqualTo(jb.generationId());
        assertThat(ja.leaderId()).isEqualTo(ja.memberId()).isEqualTo(jb.leaderId());
        assertThat(ja.members()).hasSize(2);
        assertThat(jb.members()).isEmpty();
        assertThat(ja.protocolName()).isEqualTo("range");

        CompletableFuture<SyncResult> followerSync = coordinator().sync("g", 1, jb.memberId(), null, null, null, Map.of());
        assertThat(followerSync).isNotDone();
        SyncResult leaderSync = sync(ja, Map.of(ja.memberId(), bytes(7), jb.memberId(), bytes(8)));
        assertThat(leaderSync.assignment()).isEqualTo(bytes(7));
        assertThat(followerSync.join().assignment()).isEqualTo(bytes(8));
        assertThat(state()).isEqualTo("Stable");
        assertThat(test.stored()).anyMatch(r -> r.type() == CoordinatorRecordType.GROUP_METADATA
                && ((GroupMetadataValue) r.value()).generation() == 1 && ((GroupMetadataValue) r.value()).members().size() == 2);
    }

    @Test
    void shouldRebalanceWhenAMemberJoinsAStableGroupAndDropMembersThatDoNotRejoin() {
        // A third member triggers a rebalance; the heartbeat tells the others; one of them never rejoins and is dropped
        // when the rebalance timeout passes.
        CompletableFuture<JoinResult> a = joinNew("range");
        CompletableFuture<JoinResult> b = joinNew("range");
        timer.advance(INITIAL_DELAY_MS);
        JoinResult ja = a.join();
        JoinResult jb = b.join();
        sync(ja, Map.of());
        CompletableFuture<JoinResult> c = joinNew("range");
        assertThat(heartbeat(1, ja.memberId(), null)).isEqualTo(Errors.REBALANCE_IN_PROGRESS);
        CompletableFuture<JoinResult> a2 = join(ja.memberId(), "range");
        timer.advance(SESSION_MS);
        assertThat(a2.join().generationId()).isEqualTo(2);
        assertThat(c.join().generationId()).isEqualTo(2);
        assertThat(a2.join().members()).hasSize(2);
        assertThat(heartbeat(1, jb.memberId(), null)).isEqualTo(Errors.UNKNOWN_MEMBER_ID);
        assertThat(heartbeat(1, ja.memberId(), null)).isEqualTo(Errors.ILLEGAL_GENERATION);
    }

    @Test
    void shouldExpireAMemberThatStopsHeartbeating() {
        // A stable single-member group becomes Empty once its member misses the session timeout: with no member left
        // the rebalance it triggers completes at once.
        CompletableFuture<JoinResult> a = joinNew("range");
        timer.advance(INITIAL_DELAY_MS);
        sync(a.join(), Map.of());
        timer.advance(SESSION_MS - 1);
        assertThat(heartbeat(1, a.join().memberId(), null)).isEqualTo(Errors.NONE);
        timer.advance(SESSION_MS - 1);
        assertThat(state()).isEqualTo("Stable");
        timer.advance(1);
        assertThat(state()).isEqualTo("Empty");
        assertThat(heartbeat(1, a.join().memberId(), null)).isEqualTo(Errors.UNKNOWN_MEMBER_ID);
    }

    @Test
    void shouldRefuseAMemberWithoutACommonProtocolAndABadSessionTimeout() {
        // A member whose only protocol the group lacks gets INCONSISTENT_GROUP_PROTOCOL; timeouts outside the bounds
        // get INVALID_SESSION_TIMEOUT; more members than group.max.size get GROUP_MAX_SIZE_REACHED.
        joinNew("range");
        assertThat(join("", "roundrobin").join().error()).isEqualTo(Errors.INCONSISTENT_GROUP_PROTOCOL);
        JoinResult bad = coordinator().join(new JoinRequest("g", "", null, "consumer", List.of(new Protocol("range", new byte[0])),
                500, REBALANCE_MS, "client", "", true, true)).join();
        assertThat(bad.error()).isEqualTo(Errors.INVALID_SESSION_TIMEOUT);
        joinNew("range");
        joinNew("range");
        String fourth = join("", "range").join().memberId();
        assertThat(join(fourth, "range").join().error()).isEqualTo(Errors.GROUP_MAX_SIZE_REACHED);
    }

    @Test
    void shouldLetALeavingMemberTriggerARebalanceAndDeleteOnlyEmptyGroups() {
        // Batch leave of both members empties the group; it cannot be deleted while it has members, afterwards it can.
        CompletableFuture<JoinResult> a = joinNew("range");
        CompletableFuture<JoinResult> b = joinNew("range");
        timer.advance(INITIAL_DELAY_MS);
        sync(a.join(), Map.of());
        assertThat(coordinator().delete(List.of("g")).join()).containsEntry("g", Errors.NON_EMPTY_GROUP);
        var results = coordinator().leave("g", List.of(new LeavingMember(a.join().memberId(), null),
                new LeavingMember(b.join().memberId(), null), new LeavingMember("nobody", null))).join();
        assertThat(results).extracting(LeaveResult::error)
                .containsExactly(Errors.NONE, Errors.NONE, Errors.UNKNOWN_MEMBER_ID);
        assertThat(state()).isEqualTo("Empty");
        assertThat(coordinator().delete(List.of("g", "other")).join())
                .containsEntry("g", Errors.NONE).containsEntry("other", Errors.GROUP_ID_NOT_FOUND);
        assertThat(coordinator().describe("g").join().error()).isEqualTo(Errors.GROUP_ID_NOT_FOUND);
    }

    @Test
    void shouldLetARestartedStaticMemberTakeItsPlaceBackWithoutARebalance() {
        // Two static members form generation 1. The follower restarts (no member id, same instance id): it gets a new
        // member id, the same generation and its old assignment, the group stays Stable and the leader's heartbeat
        // sees no rebalance; the old id is fenced. The leader restarting is told the old id leads (JoinGroup < v9) or
        // that it leads with skipAssignment (v9), again without a new generation.
        CompletableFuture<JoinResult> a = join("", "leader", "range");
        CompletableFuture<JoinResult> b = join("", "follower", "range");
        timer.advance(INITIAL_DELAY_MS);
        JoinResult leader = a.join();
        JoinResult follower = b.join();
        CompletableFuture<SyncResult> followerSync = coordinator().sync("g", 1, follower.memberId(), "follower", null, null, Map.of());
        sync(leader, Map.of(leader.memberId(), bytes(1), follower.memberId(), bytes(2)));
        assertThat(followerSync.join().assignment()).isEqualTo(bytes(2));

        JoinResult rejoined = join("", "follower", "range").join();
        assertThat(rejoined.error()).isEqualTo(Errors.NONE);
        assertThat(rejoined.generationId()).isEqualTo(1);
        assertThat(rejoined.memberId()).isNotEqualTo(follower.memberId());
        assertThat(rejoined.leaderId()).isEqualTo(leader.memberId());
        assertThat(rejoined.members()).isEmpty();
        assertThat(state()).isEqualTo("Stable");
        assertThat(heartbeat(1, leader.memberId(), "leader")).isEqualTo(Errors.NONE);
        assertThat(coordinator().sync("g", 1, rejoined.memberId(), "follower", null, null, Map.of()).join().assignment())
                .isEqualTo(bytes(2));
        assertThat(heartbeat(1, follower.memberId(), "follower")).isEqualTo(Errors.FENCED_INSTANCE_ID);
        assertThat(join(follower.memberId(), "follower", "range").join().error()).isEqualTo(Errors.FENCED_INSTANCE_ID);

        JoinResult leaderOld = coordinator().join(new JoinRequest("g", "", "leader", "consumer",
                List.of(new Protocol("range", new byte[] {1})), SESSION_MS, REBALANCE_MS, "client", "/127.0.0.1", true,
                false)).join();
        assertThat(leaderOld.generationId()).isEqualTo(1);
        assertThat(leaderOld.leaderId()).isEqualTo(leader.memberId()).isNotEqualTo(leaderOld.memberId());
        assertThat(leaderOld.members()).isEmpty();
        JoinResult leaderNew = join("", "leader", "range").join();
        assertThat(leaderNew.generationId()).isEqualTo(1);
        assertThat(leaderNew.skipAssignment()).isTrue();
        assertThat(leaderNew.leaderId()).isEqualTo(leaderNew.memberId());
        assertThat(leaderNew.members()).hasSize(2);
        assertThat(coordinator().sync("g", 1, leaderNew.memberId(), "leader", null, null, Map.of()).join().assignment())
                .isEqualTo(bytes(1));
        assertThat(state()).isEqualTo("Stable");
    }

    @Test
    void shouldRebalanceWhenARestartedStaticMemberChangesTheSelectedProtocol() {
        // The only member supported range and roundrobin (range selected); it restarts supporting roundrobin only.
        CompletableFuture<JoinResult> a = coordinator().join(new JoinRequest("g", "", "only", "consumer",
                List.of(new Protocol("range", new byte[0]), new Protocol("roundrobin", new byte[0])), SESSION_MS,
                REBALANCE_MS, "client", "/127.0.0.1", true, true));
        timer.advance(INITIAL_DELAY_MS);
        sync(a.join(), Map.of());
        CompletableFuture<JoinResult> again = join("", "only", "roundrobin");
        timer.advance(1);
        JoinResult second = again.join();
        assertThat(second.error()).isEqualTo(Errors.NONE);
        assertThat(second.generationId()).isEqualTo(2);
        assertThat(second.protocolName()).isEqualTo("roundrobin");
    }

    @Test
    void shouldCommitOnlyForTheCurrentGenerationAndRebuildOffsetsOnReplay() {
        // Commits check member and generation; the stored records rebuild the offsets and the generation on replay.
        CompletableFuture<JoinResult> a = joinNew("range");
        timer.advance(INITIAL_DELAY_MS);
        JoinResult joined = a.join();
        TopicPartition tp = new TopicPartition("t", 0);
        sync(joined, Map.of(joined.memberId(), bytes(5)));
        var commit = Map.of(tp, new OffsetAndMetadata(42, 3, "meta", -1));
        // The coordinator stamps the commit with its own clock.
        var stamped = new OffsetAndMetadata(42, 3, "meta", timer.milliseconds());
        assertThat(coordinator().commitOffsets("g", 0, joined.memberId(), null, commit).join()).containsEntry(tp, Errors.ILLEGAL_GENERATION);
        assertThat(coordinator().commitOffsets("g", 1, "stranger", null, commit).join()).containsEntry(tp, Errors.UNKNOWN_MEMBER_ID);
        assertThat(coordinator().commitOffsets("g", 1, joined.memberId(), null, commit).join()).containsEntry(tp, Errors.NONE);
        assertThat(coordinator().fetchOffsets("g", null, -1, null).join().offsets()).containsEntry(tp, stamped);

        test.restart();
        assertThat(coordinator().fetchOffsets("g", null, -1, List.of(tp, new TopicPartition("t", 1))).join().offsets()).containsOnlyKeys(tp)
                .containsEntry(tp, stamped);
        // The stored generation comes back with its member and assignment: its heartbeats and commits go on as before.
        assertThat(state()).isEqualTo("Stable");
        assertThat(heartbeat(1, joined.memberId(), null)).isEqualTo(Errors.NONE);
        assertThat(coordinator().sync("g", 1, joined.memberId(), null, null, null, Map.of()).join().assignment())
                .isEqualTo(bytes(5));
        assertThat(coordinator().commitOffsets("g", 1, joined.memberId(), null, commit).join()).containsEntry(tp, Errors.NONE);
        // A member that does not come back within its session timeout leaves an empty group behind.
        timer.advance(SESSION_MS);
        assertThat(state()).isEqualTo("Empty");
        assertThat(coordinator().commitOffsets("g", -1, "", null, commit).join()).containsEntry(tp, Errors.NONE);
    }

    @Test
    void aLeaderAssignmentThatIsNotWrittenIsAnsweredWithAnErrorAndLeavesTheGroupAsStored() {
        // The leader's SyncGroup is appended but its append fails: neither the leader nor the parked follower hears of
        // the assignment, and the group is rebuilt from the log (which never had generation 1). Members that rejoin
        // form the group again.
        CompletableFuture<JoinResult> a = joinNew("range");
        CompletableFuture<JoinResult> b = joinNew("range");
        timer.advance(INITIAL_DELAY_MS);
        JoinResult ja = a.join();
        JoinResult jb = b.join();
        CompletableFuture<SyncResult> followerSync = coordinator().sync("g", 1, jb.memberId(), null, null, null, Map.of());
        test.log.hold = true;
        CompletableFuture<SyncResult> leaderSync = coordinator().sync("g", 1, ja.memberId(), null, null, null,
                Map.of(ja.memberId(), bytes(1), jb.memberId(), bytes(2)));
        assertThat(leaderSync).isNotDone();
        assertThat(followerSync).as("answered only after the commit").isNotDone();
        test.log.failHeld(new KafkaStorageException("disk failed"), 1);
        assertThat(leaderSync.join().error()).isEqualTo(Errors.NOT_COORDINATOR);
        assertThat(followerSync.join().error()).isEqualTo(Errors.NOT_COORDINATOR);
        assertThat(coordinator().describe("g").join().error()).isEqualTo(Errors.GROUP_ID_NOT_FOUND);

        CompletableFuture<JoinResult> again = joinNew("range");
        timer.advance(INITIAL_DELAY_MS);
        JoinResult rejoined = again.join();
        assertThat(rejoined.error()).isEqualTo(Errors.NONE);
        assertThat(sync(rejoined, Map.of(rejoined.memberId(), bytes(3))).assignment()).isEqualTo(bytes(3));
        assertThat(state()).isEqualTo("Stable");
    }

    @Test
    void aCommitThatCannotBeAppendedIsRefusedAndStoresNothing() {
        TopicPartition tp = new TopicPartition("t", 0);
        test.log.failNext = new IllegalStateException("log refused the batch");
        assertThat(coordinator().commitOffsets("g", -1, "", null, Map.of(tp, new OffsetAndMetadata(9, -1, "", -1))).join())
                .containsEntry(tp, Errors.COORDINATOR_NOT_AVAILABLE);
        assertThat(coordinator().fetchOffsets("g", null, -1, null).join().offsets()).isEmpty();
        assertThat(test.stored()).isEmpty();
        assertThat(coordinator().commitOffsets("g", -1, "", null, Map.of(tp, new OffsetAndMetadata(9, -1, "", -1))).join())
                .containsEntry(tp, Errors.NONE);
        assertThat(coordinator().fetchOffsets("g", null, -1, null).join().offsets().get(tp).offset()).isEqualTo(9);
    }

    private static byte[] bytes(int value) {
        return new byte[] {(byte) value};
    }
}
