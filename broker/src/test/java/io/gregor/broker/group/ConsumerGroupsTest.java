package io.gregor.broker.group;

import static org.assertj.core.api.Assertions.assertThat;

import io.gregor.broker.group.ConsumerGroups.Heartbeat;
import io.gregor.broker.group.ConsumerGroups.HeartbeatResult;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The KIP-848 coordinator stepped by hand: manual clock, in-memory topics and log. */
class ConsumerGroupsTest {
    private static final Uuid T = Uuid.randomUuid();
    private static final Uuid U = Uuid.randomUuid();

    private final ManualGroupTimer timer = new ManualGroupTimer();
    private final List<GroupRecord> stored = new ArrayList<>();
    private final Map<String, ServerAssignor.Topic> topics = new TreeMap<>();
    private long topicsVersion;
    private GroupCoordinator coordinator;
    private ConsumerGroups groups;
    private OffsetManager offsets;

    @BeforeEach
    void setUp() {
        topics.put("t", new ServerAssignor.Topic("t", T, 4));
        topics.put("u", new ServerAssignor.Topic("u", U, 2));
        coordinator = new GroupCoordinator(new GroupConfig(0, 1_000, 60_000, 100), timer, records -> {
            stored.addAll(records);
            return CompletableFuture.completedFuture(null);
        });
        coordinator.loaded();
        groups = new ConsumerGroups(coordinator, catalog());
        offsets = new OffsetManager(coordinator, topics::containsKey);
    }

    private TopicCatalog catalog() {
        return new TopicCatalog() {
            @Override
            public ServerAssignor.Topic topic(String name) {
                return topics.get(name);
            }

            @Override
            public ServerAssignor.Topic topic(Uuid id) {
                return topics.values().stream().filter(t -> t.id().equals(id)).findFirst().orElse(null);
            }

            @Override
            public Collection<String> names() {
                return topics.keySet();
            }

            @Override
            public long version() {
                return topicsVersion;
            }
        };
    }

    private HeartbeatResult join(String member, List<String> subscription) {
        return groups.heartbeat(new Heartbeat("g", member, 0, null, null, 30_000, subscription, null, null, Map.of(),
                "client", "/127.0.0.1", true)).join();
    }

    private HeartbeatResult beat(String member, int epoch, Map<Uuid, Set<Integer>> owned) {
        return groups.heartbeat(new Heartbeat("g", member, epoch, null, null, -1, null, null, null, owned,
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
        assertThat(groups.describe(List.of("g")).get(0).state()).isEqualTo("Reconciling");

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
        assertThat(groups.describe(List.of("g")).get(0).state()).isEqualTo("Stable");
    }

    @Test
    void shouldFenceStaleEpochsAndRejectUnknownMembers() {
        join("A", List.of("t"));
        assertThat(beat("A", 7, null).error()).isEqualTo(Errors.FENCED_MEMBER_EPOCH);
        assertThat(beat("nobody", 1, null).error()).isEqualTo(Errors.UNKNOWN_MEMBER_ID);
        assertThat(groups.heartbeat(new Heartbeat("other", "X", 3, null, null, -1, null, null, null, null, "c", "h", true))
                .join().error()).isEqualTo(Errors.GROUP_ID_NOT_FOUND);
        assertThat(groups.heartbeat(new Heartbeat("g", "C", 0, null, null, 30_000, List.of("t"), null, "sticky", Map.of(),
                "c", "h", true)).join().error()).isEqualTo(Errors.UNSUPPORTED_ASSIGNOR);
        assertThat(groups.heartbeat(new Heartbeat("g", "C", 0, null, null, 30_000, null, "([", null, Map.of(),
                "c", "h", true)).join().error()).isEqualTo(Errors.INVALID_REGULAR_EXPRESSION);
    }

    @Test
    void shouldExpireASilentMemberAndGiveItsPartitionsToTheOthers() {
        join("A", List.of("t"));
        HeartbeatResult b = join("B", List.of("t"));
        Map<Uuid, Set<Integer>> aOwned = beat("A", 1, null).assignment();
        beat("A", 1, aOwned);
        beat("B", b.memberEpoch(), Map.of());
        timer.advance(44_000);
        HeartbeatResult a = beat("A", 2, aOwned);
        timer.advance(2_000);
        // B missed its 45 s session; A now gets all four partitions.
        HeartbeatResult after = beat("A", a.memberEpoch(), aOwned);
        assertThat(after.memberEpoch()).isEqualTo(3);
        assertThat(after.assignment()).isEqualTo(Map.of(T, Set.of(0, 1, 2, 3)));
    }

    @Test
    void shouldAssignNewPartitionsAndRegexMatches() {
        HeartbeatResult a = groups.heartbeat(new Heartbeat("g", "A", 0, null, null, 30_000, List.of(), "t|v", null,
                Map.of(), "c", "h", true)).join();
        assertThat(a.assignment()).isEqualTo(Map.of(T, Set.of(0, 1, 2, 3)));
        Uuid v = Uuid.randomUuid();
        topics.put("v", new ServerAssignor.Topic("v", v, 1));
        topics.put("t", new ServerAssignor.Topic("t", T, 5));
        topicsVersion++;
        HeartbeatResult next = beat("A", 1, Map.of(T, Set.of(0, 1, 2, 3)));
        assertThat(next.memberEpoch()).isEqualTo(2);
        assertThat(next.assignment()).isEqualTo(Map.of(T, Set.of(0, 1, 2, 3, 4), v, Set.of(0)));
    }

    @Test
    void shouldLetARestartedStaticMemberTakeBackItsAssignment() {
        HeartbeatResult a = groups.heartbeat(new Heartbeat("g", "A", 0, "instance-a", null, 30_000, List.of("t"), null,
                null, Map.of(), "c", "h", true)).join();
        join("B", List.of("t"));
        Map<Uuid, Set<Integer>> kept = beat("A", 1, null).assignment();
        beat("A", 1, kept);
        HeartbeatResult left = groups.heartbeat(new Heartbeat("g", "A", -2, "instance-a", null, -1, null, null, null,
                null, "c", "h", true)).join();
        assertThat(left.memberEpoch()).isEqualTo(-2);
        assertThat(groups.describe(List.of("g")).get(0).groupEpoch()).as("no new epoch while it is away").isEqualTo(2);
        HeartbeatResult back = groups.heartbeat(new Heartbeat("g", "A2", 0, "instance-a", null, 30_000, List.of("t"),
                null, null, Map.of(), "c", "h", true)).join();
        assertThat(back.error()).isEqualTo(Errors.NONE);
        assertThat(back.memberEpoch()).isEqualTo(2);
        assertThat(back.assignment()).isEqualTo(kept);
        HeartbeatResult again = groups.heartbeat(new Heartbeat("g", "A4", 0, "instance-a", null, 30_000, List.of("t"),
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
        assertThat(offsets.commit("g", a.memberEpoch(), "A", null, commit).join()).containsEntry(t0, Errors.NONE);
        assertThat(offsets.commit("g", 9, "A", null, commit).join()).containsEntry(t0, Errors.STALE_MEMBER_EPOCH);
        assertThat(offsets.commit("g", -1, "", null, commit).join()).containsEntry(t0, Errors.UNKNOWN_MEMBER_ID);
        assertThat(offsets.commit("g", 1, "B", null, commit).join()).containsEntry(t0, Errors.UNKNOWN_MEMBER_ID);
        assertThat(offsets.fetch("g", "A", 9, null).error()).isEqualTo(Errors.STALE_MEMBER_EPOCH);
        assertThat(offsets.fetch("g", "A", 1, null).offsets()).containsKey(t0);
        // An offset of a topic the group does not subscribe to can be deleted; one it subscribes to cannot.
        offsets.commit("g", 1, "A", null, Map.of(u0, new OffsetAndMetadata(3, -1, "", -1))).join();
        var deleted = offsets.delete("g", List.of(t0, u0)).join();
        assertThat(deleted.partitions()).containsEntry(t0, Errors.GROUP_SUBSCRIBED_TO_TOPIC).containsEntry(u0, Errors.NONE);
        assertThat(offsets.fetch("g", null).offsets()).containsOnlyKeys(t0);
        assertThat(offsets.delete("missing", List.of(t0)).join().error()).isEqualTo(Errors.GROUP_ID_NOT_FOUND);
    }

    @Test
    void shouldExpireOffsetsOfAGroupEmptyForTheRetentionTimeAndSurviveReplay() {
        join("A", List.of("t"));
        TopicPartition t0 = new TopicPartition("t", 0);
        offsets.commit("g", 1, "A", null, Map.of(t0, new OffsetAndMetadata(5, -1, "", -1))).join();
        groups.heartbeat(new Heartbeat("g", "A", -1, null, null, -1, null, null, null, null, "c", "h", true)).join();
        assertThat(coordinator.list(List.of(), List.of("consumer"))).extracting(GroupCoordinator.GroupListing::state)
                .containsExactly("Empty");

        // Replaying the records rebuilds the empty consumer group with its epoch and offset.
        GroupCoordinator replayed = new GroupCoordinator(new GroupConfig(0, 1_000, 60_000, 100), timer, r -> null);
        for (GroupRecord r : stored) {
            replayed.replay(GroupRecord.decode(ByteBuffer.wrap(r.key()), r.value() == null ? null : ByteBuffer.wrap(r.value())));
        }
        replayed.loaded();
        assertThat(replayed.list(List.of(), List.of()).get(0).type()).isEqualTo("consumer");
        assertThat(new OffsetManager(replayed, n -> true).fetch("g", null).offsets()).containsKey(t0);

        long retention = coordinator.config.offsetsRetentionMs();
        timer.advance(retention - 1);
        assertThat(offsets.expireOffsets()).isZero();
        timer.advance(1);
        assertThat(offsets.expireOffsets()).isEqualTo(1);
        assertThat(offsets.fetch("g", null).offsets()).isEmpty();
        assertThat(coordinator.list(List.of(), List.of())).isEmpty();
        assertThat(stored.get(stored.size() - 1)).isEqualTo(GroupRecord.ConsumerGroupEpoch.tombstone("g"));
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

        GroupCoordinator before = coordinator;
        setUpReplay();
        assertThat(groups.describe(List.of("g")).get(0).members()).hasSize(2);
        HeartbeatResult a = beat("A", 2, aOwned);
        assertThat(a.error()).isEqualTo(Errors.NONE);
        assertThat(a.memberEpoch()).isEqualTo(2);
        assertThat(a.assignment()).isNull();
        assertThat(offsets.commit("g", 2, "A", null, Map.of(new TopicPartition("t", 0),
                new OffsetAndMetadata(1, -1, "", -1))).join()).containsValue(Errors.NONE);
        timer.advance(30_000);
        beat("A", 2, aOwned);
        timer.advance(16_000);
        HeartbeatResult alone = beat("A", 2, aOwned);
        assertThat(alone.memberEpoch()).isEqualTo(3);
        assertThat(alone.assignment()).isEqualTo(Map.of(T, Set.of(0, 1, 2, 3)));
        assertThat(before).isNotSameAs(coordinator);
    }

    /** A new coordinator rebuilt from the records stored so far, as after a restart. */
    private void setUpReplay() {
        List<GroupRecord> records = List.copyOf(stored);
        GroupCoordinator fresh = new GroupCoordinator(new GroupConfig(0, 1_000, 60_000, 100), timer, r -> {
            stored.addAll(r);
            return CompletableFuture.completedFuture(null);
        });
        TopicCatalog catalog = catalog();
        groups = new ConsumerGroups(fresh, catalog);
        for (GroupRecord r : records) {
            fresh.replay(GroupRecord.decode(ByteBuffer.wrap(r.key()), r.value() == null ? null : ByteBuffer.wrap(r.value())));
        }
        fresh.loaded();
        coordinator = fresh;
        offsets = new OffsetManager(fresh, topics::containsKey);
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
