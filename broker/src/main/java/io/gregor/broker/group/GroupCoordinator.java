package io.gregor.broker.group;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.protocol.Errors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The classic-protocol group coordinator: membership state machine (Empty → PreparingRebalance →
 * CompletingRebalance → Stable; Dead once deleted), join and sync barriers, session expiry. Offsets are in
 * {@link OffsetManager}, which shares this coordinator's groups and lock.
 *
 * <p>Join and sync requests are parked as futures, completed when every known member rejoined (or the rebalance
 * timeout passed) and when the leader's assignment is durable; no thread waits. All state is guarded by this object's
 * monitor; timer tasks and append completions take it too.
 */
public final class GroupCoordinator {
    private static final Logger log = LoggerFactory.getLogger(GroupCoordinator.class);

    /** One protocol a member supports, with its subscription metadata. */
    public record Protocol(String name, byte[] metadata) {
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

    final GroupConfig config;
    final GroupTimer timer;
    final GroupLog groupLog;
    final Map<String, Group> groups = new HashMap<>();
    private boolean loaded;
    private ConsumerGroups consumerGroups;

    public GroupCoordinator(GroupConfig config, GroupTimer timer, GroupLog groupLog) {
        this.config = config;
        this.timer = timer;
        this.groupLog = groupLog;
    }

    /**
     * Marks replay done; until then every call answers COORDINATOR_LOAD_IN_PROGRESS. Restored members get a fresh
     * session timeout from now: those that do not come back in time leave their group.
     */
    public synchronized void loaded() {
        loaded = true;
        for (Group g : groups.values()) {
            if (g instanceof ClassicGroup c) {
                c.members.values().forEach(m -> scheduleExpiry(c, m));
            } else if (consumerGroups != null) {
                consumerGroups.restored((ConsumerGroup) g);
            }
        }
    }

    /** Before an upgrade to the consumer protocol: stops the group's timers and answers its parked requests. */
    void releaseForUpgrade(ClassicGroup group) {
        cancelJoinTimer(group);
        for (GroupMember m : group.members.values()) {
            if (m.cancelExpiry != null) {
                m.cancelExpiry.run();
            }
            if (m.awaitingJoin != null) {
                m.awaitingJoin.complete(JoinResult.error(Errors.REBALANCE_IN_PROGRESS, m.memberId));
                m.awaitingJoin = null;
            }
            completeSync(m, SyncResult.error(Errors.REBALANCE_IN_PROGRESS));
        }
    }

    /** Takes over a group that came back from the consumer protocol with classic members only, and rebalances it. */
    void adoptDowngraded(ClassicGroup group) {
        groups.put(group.groupId, group);
        group.members.values().forEach(m -> scheduleExpiry(group, m));
        prepareRebalance(group, "it came back from the consumer protocol");
    }

    /** The KIP-848 side, told about restored consumer groups when loading ends. */
    void attach(ConsumerGroups consumerGroups) {
        this.consumerGroups = consumerGroups;
    }

    public synchronized boolean isLoaded() {
        return loaded;
    }

    /** Applies one replayed record (startup). */
    public synchronized void replay(GroupRecord record) {
        switch (record) {
            case GroupRecord.Offset o -> {
                Group group = groups.computeIfAbsent(o.groupId(), ClassicGroup::new);
                var tp = new org.apache.kafka.common.TopicPartition(o.topic(), o.partition());
                if (o.commit() == null) {
                    group.offsets.remove(tp);
                } else {
                    group.offsets.put(tp, o.commit());
                }
            }
            case GroupRecord.Group g -> {
                Group existing = groups.get(g.groupId());
                if (g.metadata() == null) {
                    if (existing instanceof ClassicGroup) {
                        groups.remove(g.groupId());
                    }
                } else {
                    ClassicGroup group = existing instanceof ClassicGroup c ? c : adopt(new ClassicGroup(g.groupId()), existing);
                    restore(group, g.metadata());
                }
            }
            case GroupRecord.ConsumerMemberState m -> {
                if (groups.get(m.groupId()) instanceof ConsumerGroup group) {
                    ConsumerGroups.restore(group, m);
                }
            }
            case GroupRecord.ConsumerGroupEpoch e -> {
                Group existing = groups.get(e.groupId());
                if (e.deleted()) {
                    if (existing instanceof ConsumerGroup) {
                        groups.remove(e.groupId());
                    }
                } else {
                    ConsumerGroup group = existing instanceof ConsumerGroup c ? c : adopt(new ConsumerGroup(e.groupId()), existing);
                    group.groupEpoch = e.groupEpoch();
                    group.assignmentEpoch = e.groupEpoch();
                    group.emptySinceMs = e.empty() ? e.timestampMs() : timer.milliseconds();
                }
            }
        }
    }

    /** Rebuilds a classic group from its stored generation: Stable with its members and their assignments, or Empty. */
    private void restore(ClassicGroup group, GroupRecord.GroupMetadata metadata) {
        group.members.clear();
        group.staticMembers.clear();
        group.protocolType = metadata.protocolType();
        group.generationId = metadata.generationId();
        group.protocolName = metadata.protocolName();
        group.leaderId = metadata.leaderId();
        for (GroupRecord.ClassicMember stored : metadata.members()) {
            GroupMember m = new GroupMember(stored.memberId(), stored.instanceId());
            m.clientId = stored.clientId();
            m.clientHost = stored.clientHost();
            m.sessionTimeoutMs = stored.sessionTimeoutMs();
            m.rebalanceTimeoutMs = stored.rebalanceTimeoutMs();
            m.protocolType = metadata.protocolType();
            m.protocols = List.of(new Protocol(metadata.protocolName(), stored.subscription()));
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
            group.emptySinceMs = metadata.leaderId() == null ? metadata.timestampMs() : timer.milliseconds();
        } else {
            group.state = GroupState.STABLE;
            group.emptySinceMs = -1;
        }
    }

    /** Puts {@code group} in place of {@code previous} (a group of the other protocol, or null), keeping its offsets. */
    private <G extends Group> G adopt(G group, Group previous) {
        if (previous != null) {
            group.offsets.putAll(previous.offsets);
        }
        groups.put(group.groupId, group);
        return group;
    }

    /** The classic group {@code groupId}, or null when there is none or the group uses the consumer protocol. */
    private ClassicGroup classic(String groupId) {
        return groups.get(groupId) instanceof ClassicGroup c ? c : null;
    }

    /**
     * Errors: COORDINATOR_LOAD_IN_PROGRESS, INVALID_GROUP_ID, INVALID_SESSION_TIMEOUT, MEMBER_ID_REQUIRED,
     * UNKNOWN_MEMBER_ID, INCONSISTENT_GROUP_PROTOCOL, GROUP_MAX_SIZE_REACHED, COORDINATOR_NOT_AVAILABLE,
     * REBALANCE_IN_PROGRESS (via the result of an overtaken join).
     */
    public synchronized CompletableFuture<JoinResult> join(JoinRequest request) {
        if (!loaded) {
            return done(JoinResult.error(Errors.COORDINATOR_LOAD_IN_PROGRESS, request.memberId()));
        }
        if (request.groupId() == null || request.groupId().isEmpty()) {
            return done(JoinResult.error(Errors.INVALID_GROUP_ID, request.memberId()));
        }
        if (request.sessionTimeoutMs() < config.minSessionTimeoutMs() || request.sessionTimeoutMs() > config.maxSessionTimeoutMs()) {
            return done(JoinResult.error(Errors.INVALID_SESSION_TIMEOUT, request.memberId()));
        }
        boolean unknownMember = request.memberId() == null || request.memberId().isEmpty();
        Group existing = groups.get(request.groupId());
        if (existing instanceof ConsumerGroup consumerGroup) {
            if (!consumerGroup.isEmpty()) {
                return consumerGroups.classicJoin(consumerGroup, request);
            }
            // An empty consumer-protocol group goes back to the classic protocol, offsets and all.
            log.info("Empty consumer-protocol group {} becomes a classic group", consumerGroup.groupId);
            ClassicGroup converted = adopt(new ClassicGroup(consumerGroup.groupId), consumerGroup);
            groupLog.append(List.of(GroupRecord.ConsumerGroupEpoch.tombstone(converted.groupId))).exceptionally(e -> null);
            existing = converted;
        }
        ClassicGroup group = (ClassicGroup) existing;
        if (group == null) {
            if (!unknownMember) {
                return done(JoinResult.error(Errors.UNKNOWN_MEMBER_ID, request.memberId()));
            }
            group = new ClassicGroup(request.groupId());
            groups.put(group.groupId, group);
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
            timer.schedule(request.sessionTimeoutMs(), () -> expirePending(group, memberId));
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
                int generation = group.generationId;
                groupLog.append(List.of(groupRecord(group))).whenComplete((v, error) -> {
                    synchronized (this) {
                        if (error != null) {
                            log.warn("Storing group {} after a static member rejoined failed: {}", group.groupId, error.toString());
                            future.complete(JoinResult.error(Errors.UNKNOWN_SERVER_ERROR, newMemberId));
                        } else {
                            future.complete(staticRejoinResult(group, member, generation, wasLeader, oldMemberId,
                                    request.supportsSkipAssignment()));
                        }
                    }
                });
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
    private JoinResult staticRejoinResult(ClassicGroup group, GroupMember member, int generation, boolean wasLeader,
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
        cancelJoinTimer(group);
        if (initial) {
            // Even without a delay the first join completes on the timer thread, after the joins already queued: a
            // group whose consumers start together forms in one generation.
            group.initialDelay = true;
            long delay = Math.min(config.initialRebalanceDelayMs(), group.maxRebalanceTimeoutMs());
            group.cancelJoinTimer = timer.schedule(delay, () -> onJoinTimeout(group, true));
        } else {
            group.cancelJoinTimer = timer.schedule(group.maxRebalanceTimeoutMs(), () -> onJoinTimeout(group, false));
            maybeCompleteJoin(group);
        }
    }

    private synchronized void onJoinTimeout(ClassicGroup group, boolean initialDelayOver) {
        if (!group.is(GroupState.PREPARING_REBALANCE) || groups.get(group.groupId) != group) {
            return;
        }
        if (initialDelayOver) {
            group.initialDelay = false;
            // The rest of the rebalance timeout still applies to members that have not rejoined.
            group.cancelJoinTimer = timer.schedule(Math.max(0, group.maxRebalanceTimeoutMs() - config.initialRebalanceDelayMs()),
                    () -> onJoinTimeout(group, false));
            maybeCompleteJoin(group);
            return;
        }
        completeJoin(group);
    }

    private void maybeCompleteJoin(ClassicGroup group) {
        if (group.is(GroupState.PREPARING_REBALANCE) && !group.initialDelay && group.allMembersJoined()) {
            completeJoin(group);
        }
    }

    /** Ends the join phase: members that did not rejoin are dropped, the generation advances and joins are answered. */
    private void completeJoin(ClassicGroup group) {
        cancelJoinTimer(group);
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
            group.emptySinceMs = timer.milliseconds();
            group.protocolName = null;
            group.leaderId = null;
            persistGroup(group);
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

    private JoinResult joinResult(ClassicGroup group, GroupMember member) {
        List<MemberMetadata> members = new ArrayList<>();
        if (member.memberId.equals(group.leaderId)) {
            for (GroupMember m : group.members.values()) {
                members.add(new MemberMetadata(m.memberId, m.groupInstanceId, m.metadata(group.protocolName)));
            }
        }
        return new JoinResult(Errors.NONE, group.generationId, group.protocolType, group.protocolName, group.leaderId,
                member.memberId, members, false);
    }

    /**
     * Errors: COORDINATOR_LOAD_IN_PROGRESS, UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION, INCONSISTENT_GROUP_PROTOCOL,
     * REBALANCE_IN_PROGRESS, FENCED_INSTANCE_ID.
     */
    public synchronized CompletableFuture<SyncResult> sync(String groupId, int generationId, String memberId,
                                                           String groupInstanceId, String protocolType,
                                                           String protocolName, Map<String, byte[]> assignments) {
        if (!loaded) {
            return done(SyncResult.error(Errors.COORDINATOR_LOAD_IN_PROGRESS));
        }
        if (groups.get(groupId) instanceof ConsumerGroup consumerGroup) {
            return done(consumerGroups.classicSync(consumerGroup, generationId, memberId, groupInstanceId, protocolType,
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
            groupLog.append(List.of(groupRecord(group, assignments))).whenComplete((v, error) -> onAssignmentStored(group, generation,
                    assignments, error));
        }
        return future;
    }

    private synchronized void onAssignmentStored(ClassicGroup group, int generation, Map<String, byte[]> assignments,
                                                 Throwable error) {
        if (!group.is(GroupState.COMPLETING_REBALANCE) || group.generationId != generation) {
            return;
        }
        if (error != null) {
            log.warn("Storing the assignment of group {} failed: {}", group.groupId, error.toString());
            for (GroupMember m : group.members.values()) {
                completeSync(m, SyncResult.error(Errors.COORDINATOR_NOT_AVAILABLE));
            }
            prepareRebalance(group, "storing the assignment failed");
            return;
        }
        for (GroupMember m : group.members.values()) {
            byte[] assignment = assignments.get(m.memberId);
            m.assignment = assignment == null ? new byte[0] : assignment;
        }
        group.state = GroupState.STABLE;
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

    /** Errors: COORDINATOR_LOAD_IN_PROGRESS, UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION, REBALANCE_IN_PROGRESS, FENCED_INSTANCE_ID. */
    public synchronized Errors heartbeat(String groupId, int generationId, String memberId, String groupInstanceId) {
        if (!loaded) {
            return Errors.COORDINATOR_LOAD_IN_PROGRESS;
        }
        if (groups.get(groupId) instanceof ConsumerGroup consumerGroup) {
            return consumerGroups.classicHeartbeat(consumerGroup, generationId, memberId, groupInstanceId);
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

    /** Per member: UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID; the whole call: COORDINATOR_LOAD_IN_PROGRESS, UNKNOWN_MEMBER_ID. */
    public synchronized CompletableFuture<List<LeaveResult>> leave(String groupId, List<LeavingMember> leaving) {
        List<LeaveResult> results = new ArrayList<>();
        if (loaded && groups.get(groupId) instanceof ConsumerGroup consumerGroup) {
            // Classic members inside a consumer group: answered once their removal is durable.
            List<CompletableFuture<LeaveResult>> each = new ArrayList<>();
            for (LeavingMember l : leaving) {
                each.add(consumerGroups.classicLeave(consumerGroup, l.memberId(), l.groupInstanceId())
                        .thenApply(error -> new LeaveResult(l.memberId(), l.groupInstanceId(), error)));
            }
            return CompletableFuture.allOf(each.toArray(CompletableFuture[]::new))
                    .thenApply(v -> each.stream().map(CompletableFuture::join).toList());
        }
        ClassicGroup group = classic(groupId);
        for (LeavingMember l : leaving) {
            Errors error;
            if (!loaded) {
                error = Errors.COORDINATOR_LOAD_IN_PROGRESS;
            } else if (group == null || group.is(GroupState.DEAD)) {
                error = Errors.UNKNOWN_MEMBER_ID;
            } else {
                String memberId = l.memberId();
                if (l.groupInstanceId() != null) {
                    String current = group.staticMembers.get(l.groupInstanceId());
                    boolean known = current != null && (memberId == null || memberId.isEmpty() || memberId.equals(current));
                    error = current == null ? Errors.UNKNOWN_MEMBER_ID : known ? Errors.NONE : Errors.FENCED_INSTANCE_ID;
                    memberId = current;
                } else {
                    error = group.members.containsKey(memberId) ? Errors.NONE
                            : group.pendingMembers.remove(memberId) ? Errors.NONE : Errors.UNKNOWN_MEMBER_ID;
                }
                GroupMember member = memberId == null ? null : group.members.get(memberId);
                if (error == Errors.NONE && member != null) {
                    log.info("Member {} leaves group {}", memberId, groupId);
                    removeMemberAndRebalance(group, member, Errors.UNKNOWN_MEMBER_ID);
                }
            }
            results.add(new LeaveResult(l.memberId(), l.groupInstanceId(), error));
        }
        return done(results);
    }

    private Errors validateMember(ClassicGroup group, String memberId, String groupInstanceId) {
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
        if (member.cancelExpiry != null) {
            member.cancelExpiry.run();
        }
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
        if (member.cancelExpiry != null) {
            member.cancelExpiry.run();
        }
        member.heartbeatDeadlineMs = timer.milliseconds() + member.sessionTimeoutMs;
        member.cancelExpiry = timer.schedule(member.sessionTimeoutMs, () -> expire(group, member));
    }

    private synchronized void expire(ClassicGroup group, GroupMember member) {
        if (group.members.get(member.memberId) != member || timer.milliseconds() < member.heartbeatDeadlineMs
                || member.awaitingJoin != null && group.is(GroupState.PREPARING_REBALANCE)) {
            return;
        }
        log.info("Member {} of group {} missed its session timeout of {} ms; removing it", member.memberId,
                group.groupId, member.sessionTimeoutMs);
        removeMemberAndRebalance(group, member, Errors.UNKNOWN_MEMBER_ID);
    }

    private synchronized void expirePending(ClassicGroup group, String memberId) {
        if (group.pendingMembers.remove(memberId)) {
            maybeCompleteJoin(group);
        }
    }

    private static void cancelJoinTimer(ClassicGroup group) {
        if (group.cancelJoinTimer != null) {
            group.cancelJoinTimer.run();
            group.cancelJoinTimer = null;
        }
    }

    private void persistGroup(ClassicGroup group) {
        groupLog.append(List.of(groupRecord(group))).exceptionally(e -> {
            log.warn("Storing the metadata of group {} failed: {}", group.groupId, e.toString());
            return null;
        });
    }

    GroupRecord.Group groupRecord(ClassicGroup group) {
        return groupRecord(group, null);
    }

    /**
     * The group's record with its members and their assignments: the current ones, or when {@code assignments} is given
     * (the leader's SyncGroup), those (a member the leader left out gets none).
     */
    GroupRecord.Group groupRecord(ClassicGroup group, Map<String, byte[]> assignments) {
        List<GroupRecord.ClassicMember> members = new ArrayList<>();
        if (group.protocolName != null) {
            for (GroupMember m : group.members.values()) {
                byte[] assignment = assignments == null ? m.assignment : assignments.get(m.memberId);
                members.add(new GroupRecord.ClassicMember(m.memberId, m.groupInstanceId, m.clientId, m.clientHost,
                        m.sessionTimeoutMs, m.rebalanceTimeoutMs, m.metadata(group.protocolName),
                        assignment == null ? new byte[0] : assignment));
            }
        }
        return new GroupRecord.Group(group.groupId, new GroupRecord.GroupMetadata(group.protocolType, group.generationId,
                group.protocolName, group.leaderId, timer.milliseconds(), members));
    }

    /** Groups matching the filters (empty filter = all, case-insensitive): states as Kafka names them, types classic/consumer. */
    public synchronized List<GroupListing> list(List<String> states, List<String> types) {
        List<GroupListing> result = new ArrayList<>();
        if (!loaded) {
            return result;
        }
        for (Group g : groups.values()) {
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
    public synchronized GroupDescription describe(String groupId) {
        if (!loaded) {
            return new GroupDescription(groupId, Errors.COORDINATOR_LOAD_IN_PROGRESS, "", "", "", List.of());
        }
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

    /** Deletes empty groups with their offsets. Errors per group: GROUP_ID_NOT_FOUND, NON_EMPTY_GROUP, COORDINATOR_LOAD_IN_PROGRESS. */
    public synchronized CompletableFuture<Map<String, Errors>> delete(List<String> groupIds) {
        Map<String, Errors> results = new java.util.LinkedHashMap<>();
        List<GroupRecord> records = new ArrayList<>();
        for (String id : groupIds) {
            Group g = groups.get(id);
            if (!loaded) {
                results.put(id, Errors.COORDINATOR_LOAD_IN_PROGRESS);
            } else if (g == null || g instanceof ClassicGroup c && c.is(GroupState.DEAD)) {
                results.put(id, Errors.GROUP_ID_NOT_FOUND);
            } else if (!g.isEmpty() || g instanceof ClassicGroup c && !c.is(GroupState.EMPTY)) {
                results.put(id, Errors.NON_EMPTY_GROUP);
            } else {
                g.offsets.keySet().forEach(tp -> records.add(new GroupRecord.Offset(id, tp.topic(), tp.partition(), null)));
                if (g instanceof ClassicGroup c) {
                    records.add(new GroupRecord.Group(id, null));
                    c.state = GroupState.DEAD;
                } else {
                    records.add(GroupRecord.ConsumerGroupEpoch.tombstone(id));
                }
                groups.remove(id);
                results.put(id, Errors.NONE);
            }
        }
        if (records.isEmpty()) {
            return done(results);
        }
        return groupLog.append(records).handle((v, error) -> {
            if (error != null) {
                results.replaceAll((id, e) -> e == Errors.NONE ? Errors.COORDINATOR_NOT_AVAILABLE : e);
            }
            return results;
        });
    }

    /** The group, for the offset manager; callers hold this coordinator's lock. */
    Group group(String groupId) {
        return groups.get(groupId);
    }

    /** A member id as Kafka hands them to classic members: the client id, a dash and a random UUID. */
    static String newClassicMemberId(String clientId) {
        return (clientId == null ? "" : clientId) + "-" + UUID.randomUUID();
    }

    static <T> CompletableFuture<T> done(T value) {
        return CompletableFuture.completedFuture(value);
    }
}
