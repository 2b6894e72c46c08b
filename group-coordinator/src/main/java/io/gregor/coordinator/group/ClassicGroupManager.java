package io.gregor.coordinator.group;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.coordinator.group.generated.GroupMetadataValue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The classic-protocol groups of a shard: membership state machine (Empty → PreparingRebalance →
 * CompletingRebalance → Stable; Dead once deleted), join and sync barriers, session expiry.
 *
 * <p>As in Kafka, what is stored of a classic group is its generation with the members and their assignments
 * (a GroupMetadata record, written at the leader's SyncGroup and when the group empties); that part changes only by
 * replaying the record. A rebalance in progress and the parked JoinGroup and SyncGroup requests live in memory:
 * they are answered when every known member rejoined (or the rebalance timeout passed) and once the leader's
 * assignment is committed. Timers are the shard's, keyed by group and member. Runs on the shard's queue only.
 */
public final class ClassicGroupManager {
    private static final Logger log = LoggerFactory.getLogger(ClassicGroupManager.class);


    /** One protocol a member supports, with its subscription metadata. */
    public record Protocol(String name, byte[] metadata) {
        /** Whether two protocol lists name the same protocols, in order, with the same metadata (both null: same). */
        static boolean same(List<Protocol> a, List<Protocol> b) {
            if (a == null || b == null) {
                return a == b;
            }
            if (a.size() != b.size()) {
                return false;
            }
            for (int i = 0; i < a.size(); i++) {
                if (!a.get(i).name().equals(b.get(i).name()) || !java.util.Arrays.equals(a.get(i).metadata(), b.get(i).metadata())) {
                    return false;
                }
            }
            return true;
        }
    }

    /** A JoinGroup as the coordinator needs it. */
    public record JoinRequest(String groupId, String memberId, String groupInstanceId, String protocolType,
                              List<Protocol> protocols, int sessionTimeoutMs, int rebalanceTimeoutMs, String clientId,
                              String clientHost, boolean requireKnownMemberId, boolean supportsSkipAssignment) {
    }

    /** A member as the leader sees it in the JoinGroup response. */
    public record MemberMetadata(String memberId, String groupInstanceId, byte[] metadata) {
    }

    /** The JoinGroup outcome; {@code members} is filled for the leader only. */
    public record JoinResult(Errors error, int generationId, String protocolType, String protocolName, String leaderId,
                             String memberId, List<MemberMetadata> members, boolean skipAssignment) {
        static JoinResult error(Errors error, String memberId) {
            return new JoinResult(error, -1, null, null, "", memberId, List.of(), false);
        }
    }

    /** The SyncGroup outcome. */
    public record SyncResult(Errors error, String protocolType, String protocolName, byte[] assignment) {
        static SyncResult error(Errors error) {
            return new SyncResult(error, null, null, new byte[0]);
        }
    }

    /** A member's leave request: by member id, or by instance id for static members. */
    public record LeavingMember(String memberId, String groupInstanceId) {
    }

    /** The outcome for one leaving member. */
    public record LeaveResult(String memberId, String groupInstanceId, Errors error) {
    }

    /** A member as DescribeGroups shows it. */
    public record MemberDescription(String memberId, String groupInstanceId, String clientId, String clientHost,
                                    byte[] metadata, byte[] assignment) {
    }

    /** A group as DescribeGroups shows it. */
    public record GroupDescription(String groupId, Errors error, String state, String protocolType, String protocolName,
                                   List<MemberDescription> members) {
    }

    /** A group as ListGroups shows it: state as Kafka names it, type "classic" or "consumer". */
    public record GroupListing(String groupId, String protocolType, String state, String type) {
    }

    private final GroupCoordinatorShard shard;
    private final GroupConfig config;

    ClassicGroupManager(GroupCoordinatorShard shard) {
        this.shard = shard;
        this.config = shard.config;
    }

    // ---- Replay and loading --------------------------------------------------------------------------------------

    /** Applies a GroupMetadata record: the stored generation of a classic group, or (tombstone) its deletion. */
    void replay(GroupRecord record) {
        String groupId = record.groupId();
        Group existing = shard.groups.get(groupId);
        if (record.isTombstone()) {
            if (existing instanceof ClassicGroup c) {
                c.state = GroupState.DEAD;
                failParked(c, Errors.UNKNOWN_MEMBER_ID);
                shard.groups.remove(groupId);
            }
            return;
        }
        GroupMetadataValue value = (GroupMetadataValue) record.value();
        if (shard.active && existing instanceof ClassicGroup c && !c.is(GroupState.DEAD) && c.generationId == value.generation()) {
            applyStored(c, value);
            return;
        }
        if (existing instanceof ClassicGroup c) {
            failParked(c, Errors.NOT_COORDINATOR);
        }
        ClassicGroup group = new ClassicGroup(groupId);
        restore(group, value);
        shard.groups.put(groupId, group);
    }

    /** A live group's own record coming back: its members take the stored assignments; it is Stable, or Empty. */
    private static void applyStored(ClassicGroup group, GroupMetadataValue value) {
        group.protocolType = value.protocolType().isEmpty() ? null : value.protocolType();
        group.protocolName = value.protocol();
        group.leaderId = value.leader();
        for (GroupMetadataValue.MemberMetadata stored : value.members()) {
            GroupMember m = group.members.get(stored.memberId());
            if (m != null) {
                m.assignment = stored.assignment();
            }
        }
        if (value.members().isEmpty()) {
            group.state = GroupState.EMPTY;
            group.emptySinceMs = value.currentStateTimestamp();
        } else {
            group.state = GroupState.STABLE;
            group.emptySinceMs = -1;
        }
    }

    /** Rebuilds a classic group from its stored generation: Stable with its members and their assignments, or Empty. */
    private void restore(ClassicGroup group, GroupMetadataValue value) {
        group.protocolType = value.protocolType().isEmpty() ? null : value.protocolType();
        group.generationId = value.generation();
        group.protocolName = value.protocol();
        group.leaderId = value.leader();
        for (GroupMetadataValue.MemberMetadata stored : value.members()) {
            GroupMember m = new GroupMember(stored.memberId(), stored.groupInstanceId());
            m.clientId = stored.clientId();
            m.clientHost = stored.clientHost();
            m.sessionTimeoutMs = stored.sessionTimeout();
            m.rebalanceTimeoutMs = stored.rebalanceTimeout();
            m.protocolType = group.protocolType;
            m.protocols = List.of(new Protocol(value.protocol() == null ? "" : value.protocol(), stored.subscription()));
            m.assignment = stored.assignment();
            group.members.put(m.memberId, m);
            if (m.groupInstanceId != null) {
                group.staticMembers.put(m.groupInstanceId, m.memberId);
            }
        }
        if (group.members.isEmpty() || group.protocolName == null || !group.members.containsKey(group.leaderId)) {
            group.members.clear();
            group.staticMembers.clear();
            group.state = GroupState.EMPTY;
            group.protocolName = null;
            group.leaderId = null;
            // A group stored with members but none restorable is empty from this start on.
            group.emptySinceMs = value.members().isEmpty() ? value.currentStateTimestamp() : shard.time.milliseconds();
        } else {
            group.state = GroupState.STABLE;
            group.emptySinceMs = -1;
        }
    }

    /** Restored members get a fresh session timeout from now: those that do not come back in time leave their group. */
    void onLoaded() {
        for (Group g : shard.groups.values()) {
            if (g instanceof ClassicGroup c) {
                c.members.values().forEach(m -> scheduleExpiry(c, m));
            }
        }
    }

    /** The shard is dropped (or rebuilt after a failed append): parked requests go to find the coordinator again. */
    void onUnloaded() {
        for (Group g : shard.groups.values()) {
            if (g instanceof ClassicGroup c) {
                failParked(c, Errors.NOT_COORDINATOR);
            }
        }
    }

    private static void failParked(ClassicGroup group, Errors error) {
        for (GroupMember m : group.members.values()) {
            if (m.awaitingJoin != null) {
                m.awaitingJoin.complete(JoinResult.error(error, m.memberId));
                m.awaitingJoin = null;
            }
            completeSync(m, SyncResult.error(error));
        }
    }

    // ---- Protocol migration (with the consumer group manager) ----------------------------------------------------

    /** Before an upgrade to the consumer protocol: stops the group's timers and answers its parked requests. */
    void releaseForUpgrade(ClassicGroup group) {
        shard.timer.cancel(joinTimer(group));
        for (GroupMember m : group.members.values()) {
            shard.timer.cancel(sessionTimer(group, m.memberId));
            if (m.awaitingJoin != null) {
                m.awaitingJoin.complete(JoinResult.error(Errors.REBALANCE_IN_PROGRESS, m.memberId));
                m.awaitingJoin = null;
            }
            completeSync(m, SyncResult.error(Errors.REBALANCE_IN_PROGRESS));
        }
    }

    /**
     * After a group came back from the consumer protocol with classic members only (its GroupMetadata record is
     * committed and replayed): its members get sessions and it rebalances in the classic protocol.
     */
    void adoptDowngraded(String groupId) {
        if (!(shard.groups.get(groupId) instanceof ClassicGroup group) || !group.is(GroupState.STABLE)) {
            return;
        }
        group.members.values().forEach(m -> scheduleExpiry(group, m));
        prepareRebalance(group, "it came back from the consumer protocol");
    }

    /** The classic group {@code groupId}, or null when there is none or the group uses the consumer protocol. */
    private ClassicGroup classic(String groupId) {
        return shard.groups.get(groupId) instanceof ClassicGroup c ? c : null;
    }

    // ---- JoinGroup -----------------------------------------------------------------------------------------------

    /**
     * Errors: INVALID_GROUP_ID, INVALID_SESSION_TIMEOUT, MEMBER_ID_REQUIRED, UNKNOWN_MEMBER_ID,
     * INCONSISTENT_GROUP_PROTOCOL, GROUP_MAX_SIZE_REACHED, COORDINATOR_NOT_AVAILABLE, REBALANCE_IN_PROGRESS (via the
     * result of an overtaken join).
     */
    CompletableFuture<JoinResult> join(JoinRequest request) {
        if (request.groupId() == null || request.groupId().isEmpty()) {
            return done(JoinResult.error(Errors.INVALID_GROUP_ID, request.memberId()));
        }
        if (request.sessionTimeoutMs() < config.minSessionTimeoutMs() || request.sessionTimeoutMs() > config.maxSessionTimeoutMs()) {
            return done(JoinResult.error(Errors.INVALID_SESSION_TIMEOUT, request.memberId()));
        }
        boolean unknownMember = request.memberId() == null || request.memberId().isEmpty();
        Group existing = shard.groups.get(request.groupId());
        if (existing instanceof ConsumerGroup consumerGroup) {
            if (!consumerGroup.isEmpty()) {
                return shard.consumer.classicJoin(consumerGroup, request);
            }
            // An empty consumer-protocol group goes back to the classic protocol; its offsets stay.
            log.info("Empty consumer-protocol group {} becomes a classic group", consumerGroup.groupId);
            ConsumerGroupManager.tombstones(consumerGroup, shard.pending);
            existing = null;
        }
        ClassicGroup group = (ClassicGroup) existing;
        if (group == null) {
            if (!unknownMember) {
                return done(JoinResult.error(Errors.UNKNOWN_MEMBER_ID, request.memberId()));
            }
            group = new ClassicGroup(request.groupId());
            shard.groups.put(group.groupId, group);
        }
        if (group.is(GroupState.DEAD)) {
            return done(JoinResult.error(Errors.COORDINATOR_NOT_AVAILABLE, request.memberId()));
        }
        if (!group.acceptsProtocols(request.protocolType(), request.protocols())) {
            return done(JoinResult.error(Errors.INCONSISTENT_GROUP_PROTOCOL, request.memberId()));
        }
        return unknownMember ? joinNewMember(group, request) : joinKnownMember(group, request);
    }

    private CompletableFuture<JoinResult> joinNewMember(ClassicGroup group, JoinRequest request) {
        String memberId = newClassicMemberId(request.clientId());
        String instanceId = request.groupInstanceId();
        if (instanceId != null && group.staticMembers.containsKey(instanceId)) {
            GroupMember old = group.members.get(group.staticMembers.get(instanceId));
            if (old != null) {
                return replaceStaticMember(group, old, memberId, request);
            }
        } else if (instanceId == null && request.requireKnownMemberId()) {
            group.pendingMembers.add(memberId);
            shard.timer.schedule(pendingTimer(group, memberId), request.sessionTimeoutMs(),
                    () -> shard.run(() -> expirePending(group, memberId)));
            return done(JoinResult.error(Errors.MEMBER_ID_REQUIRED, memberId));
        }
        if (group.members.size() >= config.maxSize()) {
            return done(JoinResult.error(Errors.GROUP_MAX_SIZE_REACHED, memberId));
        }
        return addMemberAndRebalance(group, memberId, request);
    }

    private CompletableFuture<JoinResult> joinKnownMember(ClassicGroup group, JoinRequest request) {
        String memberId = request.memberId();
        if (group.pendingMembers.remove(memberId)) {
            shard.timer.cancel(pendingTimer(group, memberId));
            if (group.members.size() >= config.maxSize()) {
                return done(JoinResult.error(Errors.GROUP_MAX_SIZE_REACHED, memberId));
            }
            return addMemberAndRebalance(group, memberId, request);
        }
        GroupMember member = group.members.get(memberId);
        if (member == null) {
            String instanceId = request.groupInstanceId();
            boolean fenced = instanceId != null && group.staticMembers.containsKey(instanceId);
            return done(JoinResult.error(fenced ? Errors.FENCED_INSTANCE_ID : Errors.UNKNOWN_MEMBER_ID, memberId));
        }
        CompletableFuture<JoinResult> future = new CompletableFuture<>();
        switch (group.state) {
            case PREPARING_REBALANCE -> {
                update(member, request, future);
                maybeCompleteJoin(group);
            }
            case COMPLETING_REBALANCE -> {
                if (member.sameProtocols(request.protocols())) {
                    // The member lost its JoinGroup response: answer it again.
                    future.complete(joinResult(group, member));
                } else {
                    update(member, request, future);
                    prepareRebalance(group, "member " + memberId + " changed its protocols");
                }
            }
            case STABLE -> {
                if (memberId.equals(group.leaderId) || !member.sameProtocols(request.protocols())) {
                    update(member, request, future);
                    prepareRebalance(group, "leader or changed member " + memberId + " rejoined");
                } else {
                    future.complete(joinResult(group, member));
                }
            }
            default -> future.complete(JoinResult.error(Errors.UNKNOWN_MEMBER_ID, memberId));
        }
        scheduleExpiry(group, member);
        return future;
    }

    /**
     * A static member restarted (KIP-345): the new member id takes over the old member's place and assignment, and
     * the old id is fenced from now on. A stable group keeps its generation unless the rejoin changes the protocol
     * the group would select; a group in the middle of a rebalance goes on with the new member id.
     */
    private CompletableFuture<JoinResult> replaceStaticMember(ClassicGroup group, GroupMember member, String newMemberId,
                                                              JoinRequest request) {
        String oldMemberId = member.memberId;
        if (member.awaitingJoin != null) {
            member.awaitingJoin.complete(JoinResult.error(Errors.FENCED_INSTANCE_ID, oldMemberId));
            member.awaitingJoin = null;
        }
        completeSync(member, SyncResult.error(Errors.FENCED_INSTANCE_ID));
        shard.timer.cancel(sessionTimer(group, oldMemberId));
        group.members.remove(oldMemberId);
        member.memberId = newMemberId;
        group.members.put(newMemberId, member);
        group.staticMembers.put(member.groupInstanceId, newMemberId);
        boolean wasLeader = oldMemberId.equals(group.leaderId);
        if (wasLeader) {
            group.leaderId = newMemberId;
        }
        log.info("Static member {} of group {} rejoined: member id {} replaces {}", member.groupInstanceId,
                group.groupId, newMemberId, oldMemberId);
        CompletableFuture<JoinResult> future = new CompletableFuture<>();
        update(member, request, future);
        scheduleExpiry(group, member);
        switch (group.state) {
            case STABLE -> {
                String selected = group.selectProtocol();
                if (selected == null || !selected.equals(group.protocolName)) {
                    prepareRebalance(group, "static member " + member.groupInstanceId + " rejoined with other protocols");
                    return future;
                }
                member.awaitingJoin = null;
                // The new member id is stored before it is answered (the runtime answers after the commit).
                shard.pending.add(groupRecord(group, null));
                return done(staticRejoinResult(group, member, group.generationId, wasLeader, oldMemberId,
                        request.supportsSkipAssignment()));
            }
            case COMPLETING_REBALANCE -> prepareRebalance(group, "static member " + member.groupInstanceId + " rejoined");
            case PREPARING_REBALANCE -> maybeCompleteJoin(group);
            default -> future.complete(JoinResult.error(Errors.UNKNOWN_MEMBER_ID, newMemberId));
        }
        return future;
    }

    /**
     * The answer to a static member that rejoined a stable group: its generation, no rebalance. A leader that can skip
     * the assignment (JoinGroup v9) is told it leads and gets the members for its metadata tracking; an older leader is
     * given the replaced id as leader so it does not compute an assignment nobody would sync.
     */
    private static JoinResult staticRejoinResult(ClassicGroup group, GroupMember member, int generation, boolean wasLeader,
                                                 String oldMemberId, boolean skipAssignment) {
        List<MemberMetadata> members = new ArrayList<>();
        String leader = group.leaderId;
        if (wasLeader && skipAssignment) {
            for (GroupMember m : group.members.values()) {
                members.add(new MemberMetadata(m.memberId, m.groupInstanceId, m.metadata(group.protocolName)));
            }
        } else if (wasLeader) {
            leader = oldMemberId;
        }
        return new JoinResult(Errors.NONE, generation, group.protocolType, group.protocolName, leader, member.memberId,
                members, wasLeader && skipAssignment);
    }

    private CompletableFuture<JoinResult> addMemberAndRebalance(ClassicGroup group, String memberId, JoinRequest request) {
        GroupMember member = new GroupMember(memberId, request.groupInstanceId());
        CompletableFuture<JoinResult> future = new CompletableFuture<>();
        update(member, request, future);
        if (group.members.isEmpty()) {
            group.protocolType = request.protocolType();
        }
        group.members.put(memberId, member);
        group.emptySinceMs = -1;
        if (member.groupInstanceId != null) {
            group.staticMembers.put(member.groupInstanceId, memberId);
        }
        if (group.leaderId == null) {
            group.leaderId = memberId;
        }
        scheduleExpiry(group, member);
        if (group.is(GroupState.PREPARING_REBALANCE)) {
            maybeCompleteJoin(group);
        } else {
            prepareRebalance(group, "member " + memberId + " joined");
        }
        return future;
    }

    private static void update(GroupMember member, JoinRequest request, CompletableFuture<JoinResult> future) {
        member.clientId = request.clientId();
        member.clientHost = request.clientHost();
        member.sessionTimeoutMs = request.sessionTimeoutMs();
        member.rebalanceTimeoutMs = request.rebalanceTimeoutMs();
        member.protocolType = request.protocolType();
        member.protocols = List.copyOf(request.protocols());
        if (member.awaitingJoin != null && member.awaitingJoin != future) {
            member.awaitingJoin.complete(JoinResult.error(Errors.REBALANCE_IN_PROGRESS, member.memberId));
        }
        member.awaitingJoin = future;
    }

    private void prepareRebalance(ClassicGroup group, String reason) {
        if (group.is(GroupState.COMPLETING_REBALANCE)) {
            for (GroupMember m : group.members.values()) {
                m.assignment = new byte[0];
                completeSync(m, SyncResult.error(Errors.REBALANCE_IN_PROGRESS));
            }
        }
        boolean initial = group.is(GroupState.EMPTY);
        group.state = GroupState.PREPARING_REBALANCE;
        log.info("Preparing to rebalance group {} in generation {}: {}", group.groupId, group.generationId, reason);
        if (initial) {
            // Even without a delay the first join completes on a timer, after the joins already queued: a group whose
            // consumers start together forms in one generation.
            group.initialDelay = true;
            long delay = Math.min(config.initialRebalanceDelayMs(), group.maxRebalanceTimeoutMs());
            shard.timer.schedule(joinTimer(group), delay, () -> shard.run(() -> onJoinTimeout(group, true)));
        } else {
            shard.timer.schedule(joinTimer(group), group.maxRebalanceTimeoutMs(), () -> shard.run(() -> onJoinTimeout(group, false)));
            maybeCompleteJoin(group);
        }
    }

    private Void onJoinTimeout(ClassicGroup group, boolean initialDelayOver) {
        if (!group.is(GroupState.PREPARING_REBALANCE) || shard.groups.get(group.groupId) != group) {
            return null;
        }
        if (initialDelayOver) {
            group.initialDelay = false;
            // The rest of the rebalance timeout still applies to members that have not rejoined.
            shard.timer.schedule(joinTimer(group), Math.max(0, group.maxRebalanceTimeoutMs() - config.initialRebalanceDelayMs()),
                    () -> shard.run(() -> onJoinTimeout(group, false)));
            maybeCompleteJoin(group);
            return null;
        }
        completeJoin(group);
        return null;
    }

    private void maybeCompleteJoin(ClassicGroup group) {
        if (group.is(GroupState.PREPARING_REBALANCE) && !group.initialDelay && group.allMembersJoined()) {
            completeJoin(group);
        }
    }

    /**
     * Ends the join phase: members that did not rejoin are dropped, the generation advances and joins are answered.
     * A group left without members is stored empty.
     */
    private void completeJoin(ClassicGroup group) {
        shard.timer.cancel(joinTimer(group));
        group.pendingMembers.forEach(id -> shard.timer.cancel(pendingTimer(group, id)));
        group.pendingMembers.clear();
        for (GroupMember m : List.copyOf(group.members.values())) {
            if (m.awaitingJoin == null) {
                log.info("Member {} of group {} did not rejoin in time; removing it", m.memberId, group.groupId);
                removeMember(group, m, Errors.UNKNOWN_MEMBER_ID);
            }
        }
        group.generationId++;
        if (group.members.isEmpty()) {
            group.state = GroupState.EMPTY;
            group.emptySinceMs = shard.time.milliseconds();
            group.protocolName = null;
            group.leaderId = null;
            shard.pending.add(groupRecord(group, null));
            return;
        }
        group.protocolName = group.selectProtocol();
        if (group.leaderId == null || !group.members.containsKey(group.leaderId)) {
            group.leaderId = group.members.keySet().iterator().next();
        }
        group.state = GroupState.COMPLETING_REBALANCE;
        log.info("Group {} stabilising generation {} with {} members (protocol {})", group.groupId, group.generationId,
                group.members.size(), group.protocolName);
        for (GroupMember m : group.members.values()) {
            CompletableFuture<JoinResult> join = m.awaitingJoin;
            m.awaitingJoin = null;
            join.complete(joinResult(group, m));
            scheduleExpiry(group, m);
        }
    }

    private static JoinResult joinResult(ClassicGroup group, GroupMember member) {
        List<MemberMetadata> members = new ArrayList<>();
        if (member.memberId.equals(group.leaderId)) {
            for (GroupMember m : group.members.values()) {
                members.add(new MemberMetadata(m.memberId, m.groupInstanceId, m.metadata(group.protocolName)));
            }
        }
        return new JoinResult(Errors.NONE, group.generationId, group.protocolType, group.protocolName, group.leaderId,
                member.memberId, members, false);
    }

    // ---- SyncGroup, Heartbeat, LeaveGroup ------------------------------------------------------------------------

    /**
     * Errors: UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION, INCONSISTENT_GROUP_PROTOCOL, REBALANCE_IN_PROGRESS,
     * FENCED_INSTANCE_ID. The leader's assignment is stored; every member is answered once it is committed.
     */
    CompletableFuture<SyncResult> sync(String groupId, int generationId, String memberId, String groupInstanceId,
                                       String protocolType, String protocolName, Map<String, byte[]> assignments) {
        if (shard.groups.get(groupId) instanceof ConsumerGroup consumerGroup) {
            return done(shard.consumer.classicSync(consumerGroup, generationId, memberId, groupInstanceId, protocolType,
                    protocolName));
        }
        ClassicGroup group = classic(groupId);
        Errors invalid = validateMember(group, memberId, groupInstanceId);
        if (invalid != Errors.NONE) {
            return done(SyncResult.error(invalid));
        }
        if (generationId != group.generationId) {
            return done(SyncResult.error(Errors.ILLEGAL_GENERATION));
        }
        if (protocolType != null && !protocolType.equals(group.protocolType)
                || protocolName != null && !protocolName.equals(group.protocolName)) {
            return done(SyncResult.error(Errors.INCONSISTENT_GROUP_PROTOCOL));
        }
        GroupMember member = group.members.get(memberId);
        scheduleExpiry(group, member);
        switch (group.state) {
            case PREPARING_REBALANCE:
                return done(SyncResult.error(Errors.REBALANCE_IN_PROGRESS));
            case STABLE:
                return done(syncResult(group, member));
            case COMPLETING_REBALANCE:
                break;
            default:
                return done(SyncResult.error(Errors.UNKNOWN_MEMBER_ID));
        }
        CompletableFuture<SyncResult> future = new CompletableFuture<>();
        completeSync(member, SyncResult.error(Errors.REBALANCE_IN_PROGRESS));
        member.awaitingSync = future;
        if (memberId.equals(group.leaderId)) {
            int generation = group.generationId;
            // Replaying the record makes the group Stable with these assignments; members hear of it after the commit.
            shard.pending.add(groupRecord(group, assignments));
            shard.afterCommit(() -> onAssignmentStored(group, generation));
        }
        return future;
    }

    private void onAssignmentStored(ClassicGroup group, int generation) {
        if (shard.groups.get(group.groupId) != group || !group.is(GroupState.STABLE) || group.generationId != generation) {
            return;
        }
        for (GroupMember m : group.members.values()) {
            completeSync(m, syncResult(group, m));
        }
    }

    private static SyncResult syncResult(ClassicGroup group, GroupMember member) {
        return new SyncResult(Errors.NONE, group.protocolType, group.protocolName, member.assignment);
    }

    private static void completeSync(GroupMember member, SyncResult result) {
        CompletableFuture<SyncResult> sync = member.awaitingSync;
        member.awaitingSync = null;
        if (sync != null) {
            sync.complete(result);
        }
    }

    /** Errors: UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION, REBALANCE_IN_PROGRESS, FENCED_INSTANCE_ID. */
    Errors heartbeat(String groupId, int generationId, String memberId, String groupInstanceId) {
        if (shard.groups.get(groupId) instanceof ConsumerGroup consumerGroup) {
            return shard.consumer.classicHeartbeat(consumerGroup, generationId, memberId, groupInstanceId);
        }
        ClassicGroup group = classic(groupId);
        Errors invalid = validateMember(group, memberId, groupInstanceId);
        if (invalid != Errors.NONE) {
            return invalid;
        }
        if (generationId != group.generationId) {
            return Errors.ILLEGAL_GENERATION;
        }
        scheduleExpiry(group, group.members.get(memberId));
        return group.is(GroupState.PREPARING_REBALANCE) ? Errors.REBALANCE_IN_PROGRESS : Errors.NONE;
    }

    /** Per member: UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID. */
    List<LeaveResult> leave(String groupId, List<LeavingMember> leaving) {
        List<LeaveResult> results = new ArrayList<>();
        if (shard.groups.get(groupId) instanceof ConsumerGroup consumerGroup) {
            // Classic members inside a consumer group: answered once their removal is committed.
            for (LeavingMember l : leaving) {
                results.add(new LeaveResult(l.memberId(), l.groupInstanceId(),
                        shard.consumer.classicLeave(consumerGroup.groupId, l.memberId(), l.groupInstanceId())));
            }
            return results;
        }
        ClassicGroup group = classic(groupId);
        for (LeavingMember l : leaving) {
            Errors error;
            if (group == null || group.is(GroupState.DEAD)) {
                error = Errors.UNKNOWN_MEMBER_ID;
            } else {
                String memberId = l.memberId();
                if (l.groupInstanceId() != null) {
                    String current = group.staticMembers.get(l.groupInstanceId());
                    boolean known = current != null && (memberId == null || memberId.isEmpty() || memberId.equals(current));
                    error = current == null ? Errors.UNKNOWN_MEMBER_ID : known ? Errors.NONE : Errors.FENCED_INSTANCE_ID;
                    memberId = current;
                } else if (group.members.containsKey(memberId)) {
                    error = Errors.NONE;
                } else if (group.pendingMembers.remove(memberId)) {
                    shard.timer.cancel(pendingTimer(group, memberId));
                    error = Errors.NONE;
                } else {
                    error = Errors.UNKNOWN_MEMBER_ID;
                }
                GroupMember member = memberId == null ? null : group.members.get(memberId);
                if (error == Errors.NONE && member != null) {
                    log.info("Member {} leaves group {}", memberId, groupId);
                    removeMemberAndRebalance(group, member, Errors.UNKNOWN_MEMBER_ID);
                }
            }
            results.add(new LeaveResult(l.memberId(), l.groupInstanceId(), error));
        }
        return results;
    }

    private static Errors validateMember(ClassicGroup group, String memberId, String groupInstanceId) {
        if (group == null || group.is(GroupState.DEAD)) {
            return Errors.UNKNOWN_MEMBER_ID;
        }
        if (groupInstanceId != null) {
            String current = group.staticMembers.get(groupInstanceId);
            if (current != null && !current.equals(memberId)) {
                return Errors.FENCED_INSTANCE_ID;
            }
        }
        return group.members.containsKey(memberId) ? Errors.NONE : Errors.UNKNOWN_MEMBER_ID;
    }

    private void removeMemberAndRebalance(ClassicGroup group, GroupMember member, Errors error) {
        removeMember(group, member, error);
        switch (group.state) {
            case STABLE, COMPLETING_REBALANCE -> prepareRebalance(group, "member " + member.memberId + " left");
            case PREPARING_REBALANCE -> maybeCompleteJoin(group);
            default -> {
            }
        }
    }

    private void removeMember(ClassicGroup group, GroupMember member, Errors error) {
        group.members.remove(member.memberId);
        if (member.groupInstanceId != null && member.memberId.equals(group.staticMembers.get(member.groupInstanceId))) {
            group.staticMembers.remove(member.groupInstanceId);
        }
        shard.timer.cancel(sessionTimer(group, member.memberId));
        if (member.awaitingJoin != null) {
            member.awaitingJoin.complete(JoinResult.error(error, member.memberId));
            member.awaitingJoin = null;
        }
        completeSync(member, SyncResult.error(error));
        if (member.memberId.equals(group.leaderId)) {
            group.leaderId = group.members.isEmpty() ? null : group.members.keySet().iterator().next();
        }
    }

    /** Restarts the member's session timer: it is removed when no heartbeat, join or sync arrives in time. */
    private void scheduleExpiry(ClassicGroup group, GroupMember member) {
        shard.timer.schedule(sessionTimer(group, member.memberId), member.sessionTimeoutMs,
                () -> shard.run(() -> expire(group, member)));
    }

    private Void expire(ClassicGroup group, GroupMember member) {
        if (shard.groups.get(group.groupId) != group || group.members.get(member.memberId) != member
                || member.awaitingJoin != null && group.is(GroupState.PREPARING_REBALANCE)) {
            return null;
        }
        log.info("Member {} of group {} missed its session timeout of {} ms; removing it", member.memberId,
                group.groupId, member.sessionTimeoutMs);
        removeMemberAndRebalance(group, member, Errors.UNKNOWN_MEMBER_ID);
        return null;
    }

    private Void expirePending(ClassicGroup group, String memberId) {
        if (group.pendingMembers.remove(memberId)) {
            maybeCompleteJoin(group);
        }
        return null;
    }

    private static String joinTimer(ClassicGroup group) {
        return "classic-join:" + group.groupId;
    }

    private static String sessionTimer(ClassicGroup group, String memberId) {
        return "classic-session:" + group.groupId + ":" + memberId;
    }

    private static String pendingTimer(ClassicGroup group, String memberId) {
        return "classic-pending:" + group.groupId + ":" + memberId;
    }

    /**
     * The group's GroupMetadata record with its members and their assignments: the current ones, or when
     * {@code assignments} is given (the leader's SyncGroup), those (a member the leader left out gets none).
     */
    GroupRecord groupRecord(ClassicGroup group, Map<String, byte[]> assignments) {
        List<GroupMetadataValue.MemberMetadata> members = new ArrayList<>();
        if (group.protocolName != null) {
            for (GroupMember m : group.members.values()) {
                byte[] assignment = assignments == null ? m.assignment : assignments.get(m.memberId);
                members.add(new GroupMetadataValue.MemberMetadata().setMemberId(m.memberId)
                        .setGroupInstanceId(m.groupInstanceId).setClientId(m.clientId == null ? "" : m.clientId)
                        .setClientHost(m.clientHost == null ? "" : m.clientHost).setRebalanceTimeout(m.rebalanceTimeoutMs)
                        .setSessionTimeout(m.sessionTimeoutMs).setSubscription(m.metadata(group.protocolName))
                        .setAssignment(assignment == null ? new byte[0] : assignment));
            }
        }
        return GroupRecord.groupMetadata(group.groupId, new GroupMetadataValue()
                .setProtocolType(group.protocolType == null ? "" : group.protocolType).setGeneration(group.generationId)
                .setProtocol(group.protocolName).setLeader(group.leaderId)
                .setCurrentStateTimestamp(shard.time.milliseconds()).setMembers(members));
    }

    // ---- ListGroups, DescribeGroups, DeleteGroups ----------------------------------------------------------------

    /** Groups matching the filters (empty filter = all, case-insensitive): states as Kafka names them, types classic/consumer. */
    List<GroupListing> list(List<String> states, List<String> types) {
        List<GroupListing> result = new ArrayList<>();
        for (Group g : shard.groups.values()) {
            String state = g.stateName();
            boolean stateOk = states.isEmpty() || states.stream().anyMatch(state::equalsIgnoreCase);
            boolean typeOk = types.isEmpty() || types.stream().anyMatch(g.type()::equalsIgnoreCase);
            if (stateOk && typeOk && !state.equals(GroupState.DEAD.toString())) {
                result.add(new GroupListing(g.groupId, g.protocolType(), state, g.type()));
            }
        }
        return result;
    }

    /** A group's description; an unknown group is Dead with GROUP_ID_NOT_FOUND (the handler maps it for old versions). */
    GroupDescription describe(String groupId) {
        ClassicGroup g = classic(groupId);
        if (g == null || g.is(GroupState.DEAD)) {
            return new GroupDescription(groupId, Errors.GROUP_ID_NOT_FOUND, GroupState.DEAD.toString(), "", "", List.of());
        }
        List<MemberDescription> members = new ArrayList<>();
        for (GroupMember m : g.members.values()) {
            boolean stable = g.is(GroupState.STABLE);
            members.add(new MemberDescription(m.memberId, m.groupInstanceId, m.clientId, m.clientHost,
                    stable ? m.metadata(g.protocolName) : new byte[0], stable ? m.assignment : new byte[0]));
        }
        return new GroupDescription(groupId, Errors.NONE, g.state.toString(), g.protocolType == null ? "" : g.protocolType,
                g.is(GroupState.STABLE) && g.protocolName != null ? g.protocolName : "", members);
    }

    /**
     * Deletes empty groups with their offsets; they are gone once the tombstones are replayed (and answered after the
     * commit). Errors per group: GROUP_ID_NOT_FOUND, NON_EMPTY_GROUP.
     */
    Map<String, Errors> delete(List<String> groupIds) {
        Map<String, Errors> results = new LinkedHashMap<>();
        for (String id : groupIds) {
            Group g = shard.groups.get(id);
            if (g == null || g instanceof ClassicGroup c && c.is(GroupState.DEAD)) {
                results.put(id, Errors.GROUP_ID_NOT_FOUND);
            } else if (!g.isEmpty() || g instanceof ClassicGroup c && !c.is(GroupState.EMPTY)) {
                results.put(id, Errors.NON_EMPTY_GROUP);
            } else if (!results.containsKey(id)) {
                shard.deleteGroupRecords(g, shard.pending);
                results.put(id, Errors.NONE);
            }
        }
        return results;
    }

    /** A member id as Kafka hands them to classic members: the client id, a dash and a random UUID. */
    static String newClassicMemberId(String clientId) {
        return (clientId == null ? "" : clientId) + "-" + UUID.randomUUID();
    }

    static <T> CompletableFuture<T> done(T value) {
        return CompletableFuture.completedFuture(value);
    }
}
