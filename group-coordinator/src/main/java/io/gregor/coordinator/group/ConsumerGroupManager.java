package io.gregor.coordinator.group;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.coordinator.group.generated.ConsumerGroupCurrentMemberAssignmentKey;
import org.apache.kafka.coordinator.group.generated.ConsumerGroupCurrentMemberAssignmentValue;
import org.apache.kafka.coordinator.group.generated.ConsumerGroupMemberMetadataKey;
import org.apache.kafka.coordinator.group.generated.ConsumerGroupMemberMetadataValue;
import org.apache.kafka.coordinator.group.generated.ConsumerGroupMetadataValue;
import org.apache.kafka.coordinator.group.generated.ConsumerGroupTargetAssignmentMemberKey;
import org.apache.kafka.coordinator.group.generated.ConsumerGroupTargetAssignmentMemberValue;
import org.apache.kafka.coordinator.group.generated.ConsumerGroupTargetAssignmentMetadataValue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The consumer group protocol of KIP-848 on one shard: ConsumerGroupHeartbeat and ConsumerGroupDescribe, and the
 * classic APIs of classic members inside a consumer group. The coordinator assigns partitions with a server-side
 * assignor; each heartbeat moves its member towards the target assignment: it first revokes what it must give up
 * (keeping its epoch), then moves to the new epoch and takes the partitions nobody else holds any more.
 *
 * <p>Everything about a consumer group is stored, in Kafka's records. An operation changes working copies of the
 * groups it touches ({@link #edit}); when it ends, {@link #flush} turns what differs from the stored groups into
 * records, and replaying those is what changes the groups. A classic group becomes a consumer group when a member of
 * the new protocol joins it, online if it has members (they go on with the classic APIs inside it), and goes back once
 * only classic members are left; an empty consumer group becomes classic when a classic member joins it. Offsets are
 * kept either way (they are the offset manager's).
 */
public final class ConsumerGroupManager {
    private static final Logger log = LoggerFactory.getLogger(ConsumerGroupManager.class);

    /** A ConsumerGroupHeartbeat as the coordinator needs it; null fields did not change since the last heartbeat. */
    public record Heartbeat(String groupId, String memberId, int memberEpoch, String instanceId, String rackId,
                            int rebalanceTimeoutMs, List<String> subscribedTopicNames, String subscribedTopicRegex,
                            String serverAssignor, Map<Uuid, Set<Integer>> ownedPartitions, String clientId,
                            String clientHost, boolean memberIdFromClient) {
    }

    /** The answer; {@code assignment} is null when the member already has it. */
    public record HeartbeatResult(Errors error, String message, String memberId, int memberEpoch, int heartbeatIntervalMs,
                                  Map<Uuid, Set<Integer>> assignment) {
        static HeartbeatResult error(Errors error, String message) {
            return new HeartbeatResult(error, message, null, 0, 0, null);
        }
    }

    /** A member as ConsumerGroupDescribe shows it. */
    public record MemberDescription(String memberId, String instanceId, String rackId, boolean classic, int memberEpoch,
                                    String clientId,
                                    String clientHost, List<String> subscribedTopicNames, String subscribedTopicRegex,
                                    Map<Uuid, Set<Integer>> assignment, Map<Uuid, Set<Integer>> targetAssignment) {
    }

    /** A group as ConsumerGroupDescribe shows it. */
    public record GroupDescription(String groupId, Errors error, String message, String state, int groupEpoch,
                                   int assignmentEpoch, String assignorName, List<MemberDescription> members) {
    }

    private final GroupCoordinatorShard shard;
    private final TopicCatalog topics;
    private final GroupConfig config;
    /** The working copies of the running operation: the group as stored (null: none) and the copy being changed. */
    private final Map<String, Edit> edits = new LinkedHashMap<>();

    private static final class Edit {
        final ConsumerGroup before;
        final ConsumerGroup after;
        /** The classic group this consumer group replaces (its tombstone goes first). */
        final boolean replacesClassic;

        Edit(ConsumerGroup before, ConsumerGroup after, boolean replacesClassic) {
            this.before = before;
            this.after = after;
            this.replacesClassic = replacesClassic;
        }
    }

    ConsumerGroupManager(GroupCoordinatorShard shard) {
        this.shard = shard;
        this.topics = shard.topics;
        this.config = shard.config;
    }

    // ---- Working copies and their records ------------------------------------------------------------------------

    /** The working copy of the stored consumer group {@code group} for the running operation. */
    private ConsumerGroup edit(ConsumerGroup group) {
        return edits.computeIfAbsent(group.groupId, id -> new Edit(group, group.copy(), false)).after;
    }

    /** A new consumer group for the running operation (stored once the operation ends). */
    private ConsumerGroup create(String groupId, boolean replacesClassic) {
        ConsumerGroup group = new ConsumerGroup(groupId);
        edits.put(groupId, new Edit(null, group, replacesClassic));
        return group;
    }

    /** Drops the working copies of an operation that failed before it changed anything worth storing. */
    void discard() {
        edits.clear();
    }

    /** Turns the running operation's working copies into records: what differs from the stored groups. */
    void flush(List<GroupRecord> records) {
        for (Edit e : edits.values()) {
            if (e.replacesClassic) {
                records.add(GroupRecord.groupTombstone(e.after.groupId));
            }
            if (e.after.downgradedTo != null) {
                if (e.before != null) {
                    tombstones(e.before, records);
                }
                records.add(shard.classic.groupRecord(e.after.downgradedTo, null));
                String groupId = e.after.groupId;
                shard.afterCommit(() -> shard.classic.adoptDowngraded(groupId));
            } else {
                diff(e.before, e.after, records);
                if (e.before != null) {
                    e.before.subscriptionMetadataVersion = e.after.subscriptionMetadataVersion;
                }
            }
        }
        edits.clear();
    }

    /** The records that turn {@code before} (null: no such group) into {@code after}. */
    private static void diff(ConsumerGroup before, ConsumerGroup after, List<GroupRecord> records) {
        String id = after.groupId;
        if (before == null || before.groupEpoch != after.groupEpoch || before.metadataHash != after.metadataHash) {
            records.add(GroupRecord.consumerGroupMetadata(id, after.groupEpoch, after.metadataHash));
        }
        for (ConsumerMember m : after.members.values()) {
            ConsumerMember b = before == null ? null : before.members.get(m.memberId);
            if (b == null || !b.sameMetadata(m)) {
                records.add(GroupRecord.memberMetadata(id, m));
            }
        }
        for (Map.Entry<String, Map<Uuid, Set<Integer>>> t : after.targetAssignment.entrySet()) {
            Map<Uuid, Set<Integer>> was = before == null ? null : before.targetAssignment.get(t.getKey());
            if (was == null || !ConsumerGroup.copy(was).equals(ConsumerGroup.copy(t.getValue()))) {
                records.add(GroupRecord.targetMember(id, t.getKey(), t.getValue()));
            }
        }
        if (before != null) {
            for (String memberId : before.targetAssignment.keySet()) {
                if (!after.targetAssignment.containsKey(memberId)) {
                    records.add(GroupRecord.targetMemberTombstone(id, memberId));
                }
            }
        }
        if (before == null || before.assignmentEpoch != after.assignmentEpoch) {
            records.add(GroupRecord.targetMetadata(id, after.assignmentEpoch));
        }
        for (ConsumerMember m : after.members.values()) {
            ConsumerMember b = before == null ? null : before.members.get(m.memberId);
            if (b == null || !b.sameAssignment(m)) {
                records.add(GroupRecord.currentAssignment(id, m));
            }
        }
        if (before != null) {
            for (String memberId : before.members.keySet()) {
                if (!after.members.containsKey(memberId)) {
                    records.add(GroupRecord.currentAssignmentTombstone(id, memberId));
                    records.add(GroupRecord.memberMetadataTombstone(id, memberId));
                }
            }
        }
    }

    /** The records that delete a consumer group: its members, target assignment and metadata (as Kafka writes them). */
    static void tombstones(ConsumerGroup group, List<GroupRecord> records) {
        for (String memberId : group.members.keySet()) {
            records.add(GroupRecord.currentAssignmentTombstone(group.groupId, memberId));
        }
        for (String memberId : group.targetAssignment.keySet()) {
            records.add(GroupRecord.targetMemberTombstone(group.groupId, memberId));
        }
        for (String memberId : group.members.keySet()) {
            records.add(GroupRecord.memberMetadataTombstone(group.groupId, memberId));
        }
        records.add(GroupRecord.targetMetadataTombstone(group.groupId));
        records.add(GroupRecord.consumerGroupTombstone(group.groupId));
    }

    // ---- Replay --------------------------------------------------------------------------------------------------

    /** Applies one consumer-group record: the only way a stored consumer group changes. */
    void replay(GroupRecord record) {
        String groupId = record.groupId();
        if (record.isTombstone()) {
            if (!(shard.groups.get(groupId) instanceof ConsumerGroup group)) {
                return; // the group is classic by now (or gone): nothing of the consumer group is left to drop
            }
            switch (record.type()) {
                case CONSUMER_GROUP_METADATA -> shard.groups.remove(groupId);
                case CONSUMER_GROUP_MEMBER_METADATA -> {
                    ConsumerMember gone = group.members.remove(((ConsumerGroupMemberMetadataKey) record.key()).memberId());
                    if (gone != null && gone.instanceId != null && gone.memberId.equals(group.staticMembers.get(gone.instanceId))) {
                        group.staticMembers.remove(gone.instanceId);
                    }
                }
                case CONSUMER_GROUP_TARGET_ASSIGNMENT_MEMBER ->
                        group.targetAssignment.remove(((ConsumerGroupTargetAssignmentMemberKey) record.key()).memberId());
                default -> {
                }
            }
            return;
        }
        ConsumerGroup group = storedGroup(groupId);
        switch (record.type()) {
            case CONSUMER_GROUP_METADATA -> {
                ConsumerGroupMetadataValue v = (ConsumerGroupMetadataValue) record.value();
                group.groupEpoch = v.epoch();
                group.metadataHash = v.metadataHash();
            }
            case CONSUMER_GROUP_MEMBER_METADATA -> {
                String memberId = ((ConsumerGroupMemberMetadataKey) record.key()).memberId();
                ConsumerGroupMemberMetadataValue v = (ConsumerGroupMemberMetadataValue) record.value();
                ConsumerMember m = group.members.computeIfAbsent(memberId, ConsumerMember::new);
                if (m.instanceId != null && !m.instanceId.equals(v.instanceId()) && memberId.equals(group.staticMembers.get(m.instanceId))) {
                    group.staticMembers.remove(m.instanceId);
                }
                m.instanceId = v.instanceId();
                m.rackId = v.rackId();
                m.clientId = v.clientId();
                m.clientHost = v.clientHost();
                m.rebalanceTimeoutMs = v.rebalanceTimeoutMs();
                m.subscribedTopicNames = List.copyOf(v.subscribedTopicNames());
                m.subscribedTopicRegex = v.subscribedTopicRegex();
                m.serverAssignor = v.serverAssignor();
                var classic = v.classicMemberMetadata();
                if (classic == null) {
                    m.classicProtocols = null;
                    m.classicSessionTimeoutMs = 0;
                } else {
                    List<ClassicGroupManager.Protocol> protocols = new ArrayList<>();
                    classic.supportedProtocols().forEach(p -> protocols.add(new ClassicGroupManager.Protocol(p.name(), p.metadata())));
                    m.classicProtocols = List.copyOf(protocols);
                    m.classicSessionTimeoutMs = classic.sessionTimeoutMs();
                }
                if (m.instanceId != null) {
                    group.staticMembers.put(m.instanceId, memberId);
                }
            }
            case CONSUMER_GROUP_CURRENT_MEMBER_ASSIGNMENT -> {
                String memberId = ((ConsumerGroupCurrentMemberAssignmentKey) record.key()).memberId();
                ConsumerGroupCurrentMemberAssignmentValue v = (ConsumerGroupCurrentMemberAssignmentValue) record.value();
                ConsumerMember m = group.members.computeIfAbsent(memberId, ConsumerMember::new);
                m.memberEpoch = v.memberEpoch();
                m.previousMemberEpoch = v.previousMemberEpoch();
                ConsumerMember.State[] states = ConsumerMember.State.values();
                m.state = v.state() >= 0 && v.state() < states.length ? states[v.state()] : ConsumerMember.State.UNRELEASED_PARTITIONS;
                m.assigned = GroupRecord.partitionsOf(v.assignedPartitions());
                m.revoking = GroupRecord.partitionsOf(v.partitionsPendingRevocation());
            }
            case CONSUMER_GROUP_TARGET_ASSIGNMENT_MEMBER -> group.targetAssignment.put(
                    ((ConsumerGroupTargetAssignmentMemberKey) record.key()).memberId(),
                    GroupRecord.targetPartitionsOf((ConsumerGroupTargetAssignmentMemberValue) record.value()));
            case CONSUMER_GROUP_TARGET_ASSIGNMENT_METADATA ->
                    group.assignmentEpoch = ((ConsumerGroupTargetAssignmentMetadataValue) record.value()).assignmentEpoch();
            default -> {
            }
        }
    }

    /** The stored consumer group {@code groupId}, made (in place of a classic group of that id) when there is none. */
    private ConsumerGroup storedGroup(String groupId) {
        Group existing = shard.groups.get(groupId);
        if (existing instanceof ConsumerGroup group) {
            return group;
        }
        ConsumerGroup group = new ConsumerGroup(groupId);
        shard.groups.put(groupId, group);
        return group;
    }

    /** After loading: restored members get a fresh session, and those revoking partitions their rebalance timeout. */
    void onLoaded() {
        for (Group g : shard.groups.values()) {
            if (g instanceof ConsumerGroup group) {
                for (ConsumerMember m : group.members.values()) {
                    scheduleSession(group, m);
                    if (!m.revoking.isEmpty()) {
                        scheduleRebalanceTimeout(group, m);
                    }
                }
            }
        }
    }

    // ---- ConsumerGroupHeartbeat ----------------------------------------------------------------------------------

    /**
     * Errors: INVALID_REQUEST, GROUP_ID_NOT_FOUND, UNKNOWN_MEMBER_ID, FENCED_MEMBER_EPOCH, UNRELEASED_INSTANCE_ID,
     * FENCED_INSTANCE_ID, GROUP_MAX_SIZE_REACHED, UNSUPPORTED_ASSIGNOR, INVALID_REGULAR_EXPRESSION.
     */
    HeartbeatResult heartbeat(Heartbeat request) {
        HeartbeatResult invalid = validate(request);
        if (invalid != null) {
            return invalid;
        }
        Group existing = shard.groups.get(request.groupId());
        ConsumerGroup group;
        boolean upgraded = false;
        if (existing instanceof ConsumerGroup stored) {
            group = edit(stored);
        } else if (request.memberEpoch() != 0) {
            return HeartbeatResult.error(Errors.GROUP_ID_NOT_FOUND, "Consumer group " + request.groupId() + " not found.");
        } else if (existing instanceof ClassicGroup classic && !classic.isEmpty()) {
            String refusal = upgradeRefusal(classic);
            if (refusal != null) {
                return HeartbeatResult.error(Errors.GROUP_ID_NOT_FOUND, refusal);
            }
            group = upgrade(classic);
            upgraded = true;
        } else {
            group = create(request.groupId(), existing != null);
            if (existing != null) {
                log.info("Empty classic group {} becomes a consumer-protocol group", existing.groupId);
            }
        }
        HeartbeatResult result = request.memberEpoch() < 0 ? leave(group, request) : join(group, request);
        if (result.error() != Errors.NONE && !upgraded) {
            discard();
        } else if (upgraded) {
            // The group was upgraded even when the member is refused: the upgrade is stored either way.
            shard.classic.releaseForUpgrade((ClassicGroup) existing);
        }
        return result;
    }

    private HeartbeatResult validate(Heartbeat r) {
        if (r.groupId() == null || r.groupId().isEmpty()) {
            return HeartbeatResult.error(Errors.INVALID_REQUEST, "GroupId can't be empty.");
        }
        if (r.instanceId() != null && r.instanceId().isEmpty()) {
            return HeartbeatResult.error(Errors.INVALID_REQUEST, "InstanceId can't be empty.");
        }
        if (r.memberEpoch() < ConsumerMember.STATIC_LEAVE_EPOCH) {
            return HeartbeatResult.error(Errors.INVALID_REQUEST, "MemberEpoch " + r.memberEpoch() + " is invalid.");
        }
        if ((r.memberId() == null || r.memberId().isEmpty()) && (r.memberEpoch() != 0 || r.memberIdFromClient())) {
            return HeartbeatResult.error(Errors.INVALID_REQUEST, "MemberId can't be empty.");
        }
        if (r.memberEpoch() == ConsumerMember.STATIC_LEAVE_EPOCH && r.instanceId() == null) {
            return HeartbeatResult.error(Errors.INVALID_REQUEST, "InstanceId can't be null when leaving with epoch -2.");
        }
        if (r.memberEpoch() == 0) {
            if (r.rebalanceTimeoutMs() < 0) {
                return HeartbeatResult.error(Errors.INVALID_REQUEST, "RebalanceTimeoutMs must be provided in first request.");
            }
            if (r.ownedPartitions() == null || !r.ownedPartitions().isEmpty()) {
                return HeartbeatResult.error(Errors.INVALID_REQUEST, "TopicPartitions must be empty when (re-)joining.");
            }
            if (r.subscribedTopicNames() == null && r.subscribedTopicRegex() == null) {
                return HeartbeatResult.error(Errors.INVALID_REQUEST,
                        "SubscribedTopicNames or SubscribedTopicRegex must be set in first request.");
            }
        }
        if (r.serverAssignor() != null && !knownAssignor(r.serverAssignor())) {
            return HeartbeatResult.error(Errors.UNSUPPORTED_ASSIGNOR, "ServerAssignor " + r.serverAssignor()
                    + " is not supported. Supported assignors: " + String.join(", ", config.consumerAssignors()) + ".");
        }
        if (r.subscribedTopicRegex() != null && !r.subscribedTopicRegex().isEmpty()) {
            try {
                Pattern.compile(r.subscribedTopicRegex());
            } catch (PatternSyntaxException e) {
                return HeartbeatResult.error(Errors.INVALID_REGULAR_EXPRESSION,
                        "SubscribedTopicRegex " + r.subscribedTopicRegex() + " is not a valid regular expression.");
            }
        }
        return null;
    }

    private boolean knownAssignor(String name) {
        String shortName = ServerAssignor.shortName(name);
        return ServerAssignor.named(name) != null
                && config.consumerAssignors().stream().anyMatch(a -> ServerAssignor.shortName(a).equals(shortName));
    }

    private HeartbeatResult leave(ConsumerGroup group, Heartbeat r) {
        ConsumerMember member = group.members.get(r.memberId());
        if (member == null && r.instanceId() != null) {
            String current = group.staticMembers.get(r.instanceId());
            member = current == null ? null : group.members.get(current);
            if (member != null && !member.memberId.equals(r.memberId())) {
                return HeartbeatResult.error(Errors.FENCED_INSTANCE_ID, "Instance id " + r.instanceId()
                        + " belongs to another member.");
            }
        }
        if (member == null) {
            return HeartbeatResult.error(Errors.UNKNOWN_MEMBER_ID, "Member " + r.memberId() + " is not a member of group "
                    + group.groupId + ".");
        }
        if (r.memberEpoch() == ConsumerMember.STATIC_LEAVE_EPOCH) {
            // A static member going away for a restart keeps its place until its session times out.
            log.info("Static member {} ({}) of group {} leaves for a restart", member.memberId, member.instanceId, group.groupId);
            member.previousMemberEpoch = member.memberEpoch;
            member.memberEpoch = ConsumerMember.STATIC_LEAVE_EPOCH;
            scheduleSession(group, member);
        } else {
            log.info("Member {} leaves consumer group {}", member.memberId, group.groupId);
            removeMember(group, member);
            maybeDowngrade(group);
        }
        return new HeartbeatResult(Errors.NONE, null, r.memberId(), r.memberEpoch(), 0, null);
    }

    private HeartbeatResult join(ConsumerGroup group, Heartbeat r) {
        ConsumerMember member = group.members.get(r.memberId());
        boolean sendAssignment = false;
        if (r.memberEpoch() == 0) {
            sendAssignment = true;
            String takenBy = r.instanceId() == null ? null : group.staticMembers.get(r.instanceId());
            ConsumerMember previous = takenBy == null ? null : group.members.get(takenBy);
            if (previous != null && previous != member) {
                if (previous.memberEpoch != ConsumerMember.STATIC_LEAVE_EPOCH) {
                    return HeartbeatResult.error(Errors.UNRELEASED_INSTANCE_ID, "Static member " + r.instanceId()
                            + " is still in use by member " + previous.memberId + ".");
                }
                // The restarted static member takes the place, epoch and assignment of its previous incarnation.
                member = replaceStatic(group, previous, newMemberId(r));
            } else if (member == null) {
                if (group.members.size() >= config.consumerMaxSize()) {
                    return HeartbeatResult.error(Errors.GROUP_MAX_SIZE_REACHED, "The consumer group has reached its maximum capacity of "
                            + config.consumerMaxSize() + " members.");
                }
                member = new ConsumerMember(newMemberId(r));
                group.members.put(member.memberId, member);
                bumpEpoch(group, "member " + member.memberId + " joined");
            } else {
                // A known member rejoining from scratch has given up everything it held.
                member.assigned = new TreeMap<>();
                member.revoking = new TreeMap<>();
                member.memberEpoch = 0;
                member.state = ConsumerMember.State.STABLE;
                bumpEpoch(group, "member " + member.memberId + " rejoined");
            }
            if (r.instanceId() != null) {
                member.instanceId = r.instanceId();
                group.staticMembers.put(r.instanceId(), member.memberId);
            }
        } else {
            if (member == null) {
                return HeartbeatResult.error(Errors.UNKNOWN_MEMBER_ID, "Member " + r.memberId()
                        + " is not a member of group " + group.groupId + ".");
            }
            if (member.instanceId != null && r.instanceId() != null && !member.instanceId.equals(r.instanceId())) {
                return HeartbeatResult.error(Errors.FENCED_INSTANCE_ID, "Member " + r.memberId() + " has instance id "
                        + member.instanceId + ", not " + r.instanceId() + ".");
            }
            if (r.memberEpoch() != member.memberEpoch) {
                boolean lostResponse = r.memberEpoch() == member.previousMemberEpoch
                        && (r.ownedPartitions() == null || subsetOf(r.ownedPartitions(), member.assigned));
                if (!lostResponse) {
                    return HeartbeatResult.error(Errors.FENCED_MEMBER_EPOCH, "The member epoch " + r.memberEpoch()
                            + " does not match the current one (" + member.memberEpoch + ").");
                }
                sendAssignment = true;
            }
        }
        member.clientId = r.clientId();
        member.clientHost = r.clientHost();
        if (r.rackId() != null) {
            member.rackId = r.rackId();
        }
        if (r.rebalanceTimeoutMs() >= 0) {
            member.rebalanceTimeoutMs = r.rebalanceTimeoutMs();
        }
        boolean subscriptionChanged = false;
        if (r.subscribedTopicNames() != null && !r.subscribedTopicNames().equals(member.subscribedTopicNames)) {
            member.subscribedTopicNames = List.copyOf(r.subscribedTopicNames());
            subscriptionChanged = true;
        }
        if (r.subscribedTopicRegex() != null) {
            String regex = r.subscribedTopicRegex().isEmpty() ? null : r.subscribedTopicRegex();
            if (!Objects.equals(regex, member.subscribedTopicRegex)) {
                member.subscribedTopicRegex = regex;
                subscriptionChanged = true;
            }
        }
        if (r.serverAssignor() != null && !r.serverAssignor().equals(member.serverAssignor)) {
            member.serverAssignor = r.serverAssignor();
            subscriptionChanged = true;
        }
        if (subscriptionChanged && r.memberEpoch() != 0) {
            bumpEpoch(group, "member " + member.memberId + " changed its subscription");
        }
        scheduleSession(group, member);
        updateTargetAssignment(group);
        Map<Uuid, Set<Integer>> owned = r.ownedPartitions();
        int epochBefore = member.memberEpoch;
        Map<Uuid, Set<Integer>> assignedBefore = ConsumerGroup.copy(member.assigned);
        reconcile(group, member, owned);
        boolean changed = epochBefore != member.memberEpoch || !assignedBefore.equals(member.assigned);
        if (changed || sendAssignment || owned != null && !owned.equals(member.assigned)) {
            return new HeartbeatResult(Errors.NONE, null, member.memberId, member.memberEpoch,
                    config.consumerHeartbeatIntervalMs(), ConsumerGroup.copy(member.assigned));
        }
        return new HeartbeatResult(Errors.NONE, null, member.memberId, member.memberEpoch,
                config.consumerHeartbeatIntervalMs(), null);
    }

    private static String newMemberId(Heartbeat r) {
        return r.memberId() == null || r.memberId().isEmpty() ? Uuid.randomUuid().toString() : r.memberId();
    }

    private ConsumerMember replaceStatic(ConsumerGroup group, ConsumerMember previous, String memberId) {
        ConsumerMember member = new ConsumerMember(memberId);
        member.instanceId = previous.instanceId;
        member.memberEpoch = previous.previousMemberEpoch < 0 ? group.assignmentEpoch : previous.previousMemberEpoch;
        member.assigned = previous.assigned;
        member.revoking = previous.revoking;
        member.state = previous.state;
        member.subscribedTopicNames = previous.subscribedTopicNames;
        member.subscribedTopicRegex = previous.subscribedTopicRegex;
        member.serverAssignor = previous.serverAssignor;
        cancelTimers(group, previous);
        group.members.remove(previous.memberId);
        group.members.put(memberId, member);
        Map<Uuid, Set<Integer>> target = group.targetAssignment.remove(previous.memberId);
        if (target != null) {
            group.targetAssignment.put(memberId, target);
        }
        log.info("Static member {} of group {} rejoined as {} (was {})", member.instanceId, group.groupId, memberId,
                previous.memberId);
        return member;
    }

    /**
     * Moves the member one step towards its target: revoke first (same epoch), then the new epoch with every target
     * partition that no other member holds any more.
     */
    private void reconcile(ConsumerGroup group, ConsumerMember member, Map<Uuid, Set<Integer>> owned) {
        if (!member.revoking.isEmpty()) {
            if (owned == null || intersects(owned, member.revoking)) {
                return;
            }
            member.revoking = new TreeMap<>();
            shard.timer.cancel(rebalanceTimer(group, member.memberId));
        }
        Map<Uuid, Set<Integer>> target = group.targetAssignment.getOrDefault(member.memberId, Map.of());
        if (member.memberEpoch == group.assignmentEpoch && member.state == ConsumerMember.State.STABLE) {
            return;
        }
        Map<Uuid, Set<Integer>> keep = new TreeMap<>();
        Map<Uuid, Set<Integer>> revoke = new TreeMap<>();
        member.assigned.forEach((topic, partitions) -> partitions.forEach(p ->
                (ConsumerGroup.contains(target, topic, p) ? keep : revoke).computeIfAbsent(topic, t -> new TreeSet<>()).add(p)));
        if (!revoke.isEmpty() && (owned == null || intersects(owned, revoke))) {
            member.assigned = keep;
            member.revoking = revoke;
            member.state = ConsumerMember.State.UNREVOKED_PARTITIONS;
            scheduleRebalanceTimeout(group, member);
            return;
        }
        Map<Uuid, Set<Integer>> next = keep;
        boolean complete = true;
        for (Map.Entry<Uuid, Set<Integer>> e : target.entrySet()) {
            for (int p : e.getValue()) {
                if (ConsumerGroup.contains(next, e.getKey(), p)) {
                    continue;
                }
                if (group.ownedByOther(e.getKey(), p, member)) {
                    complete = false;
                } else {
                    next.computeIfAbsent(e.getKey(), t -> new TreeSet<>()).add(p);
                }
            }
        }
        member.assigned = next;
        if (member.memberEpoch != group.assignmentEpoch) {
            member.previousMemberEpoch = member.memberEpoch;
            member.memberEpoch = group.assignmentEpoch;
        }
        member.state = complete ? ConsumerMember.State.STABLE : ConsumerMember.State.UNRELEASED_PARTITIONS;
    }

    private static void bumpEpoch(ConsumerGroup group, String reason) {
        group.groupEpoch = Math.max(group.groupEpoch, group.assignmentEpoch) + 1;
        log.info("Consumer group {} moves to epoch {}: {}", group.groupId, group.groupEpoch, reason);
    }

    /** Recomputes the hash of the subscribed topics and their partition counts; a difference moves the group epoch. */
    private void refreshSubscriptionMetadata(ConsumerGroup group) {
        long version = topics.version();
        if (version == group.subscriptionMetadataVersion && group.groupEpoch == group.assignmentEpoch) {
            return;
        }
        group.subscriptionMetadataVersion = version;
        Map<String, Integer> now = new TreeMap<>();
        for (ConsumerMember m : group.members.values()) {
            for (String name : subscribedTopics(m)) {
                ServerAssignor.Topic t = topics.topic(name);
                if (t != null) {
                    now.put(name, t.partitions());
                }
            }
        }
        long hash = metadataHash(now);
        if (hash != group.metadataHash) {
            group.metadataHash = hash;
            if (group.groupEpoch == group.assignmentEpoch && group.assignmentEpoch > 0) {
                bumpEpoch(group, "the subscribed topics changed");
            }
        }
    }

    /** A 64-bit hash of topic names and partition counts (never 0, which stands for "not computed yet"). */
    static long metadataHash(Map<String, Integer> partitionsByTopic) {
        long hash = 1125899906842597L;
        for (Map.Entry<String, Integer> e : partitionsByTopic.entrySet()) {
            for (int i = 0; i < e.getKey().length(); i++) {
                hash = 31 * hash + e.getKey().charAt(i);
            }
            hash = 31 * hash + 0x1f;
            hash = 31 * hash + e.getValue();
        }
        return hash == 0 ? 1 : hash;
    }

    /** Brings the target assignment up to the group epoch, after looking for changes of the subscribed topics. */
    private void updateTargetAssignment(ConsumerGroup group) {
        refreshSubscriptionMetadata(group);
        if (group.groupEpoch > group.assignmentEpoch) {
            computeTargetAssignment(group);
        }
    }

    private Set<String> subscribedTopics(ConsumerMember m) {
        Set<String> names = new LinkedHashSet<>(m.subscribedTopicNames);
        if (m.subscribedTopicRegex != null) {
            Pattern pattern = Pattern.compile(m.subscribedTopicRegex);
            for (String name : topics.names()) {
                if (!name.startsWith("__") && pattern.matcher(name).matches()) {
                    names.add(name);
                }
            }
        }
        return names;
    }

    private void computeTargetAssignment(ConsumerGroup group) {
        Map<String, Set<String>> subscriptions = new TreeMap<>();
        Map<String, ServerAssignor.Topic> subscribed = new TreeMap<>();
        for (ConsumerMember m : group.members.values()) {
            Set<String> names = new TreeSet<>();
            for (String name : subscribedTopics(m)) {
                ServerAssignor.Topic t = topics.topic(name);
                if (t != null) {
                    names.add(name);
                    subscribed.put(name, t);
                }
            }
            subscriptions.put(m.memberId, names);
        }
        ServerAssignor assignor = ServerAssignor.named(preferredAssignor(group));
        Map<String, Map<Uuid, Set<Integer>>> target = new TreeMap<>();
        assignor.assign(subscriptions, subscribed, group.targetAssignment).forEach((id, t) -> target.put(id, ConsumerGroup.copy(t)));
        group.targetAssignment = target;
        group.assignmentEpoch = group.groupEpoch;
    }

    /** The assignor most members ask for (ties by name), or the first configured one. */
    private String preferredAssignor(ConsumerGroup group) {
        Map<String, Integer> votes = new HashMap<>();
        for (ConsumerMember m : group.members.values()) {
            if (m.serverAssignor != null) {
                votes.merge(ServerAssignor.shortName(m.serverAssignor), 1, Integer::sum);
            }
        }
        return votes.entrySet().stream().max(Map.Entry.<String, Integer>comparingByValue()
                        .thenComparing(Map.Entry.comparingByKey()))
                .map(Map.Entry::getKey).orElse(defaultAssignor());
    }

    private String defaultAssignor() {
        for (String name : config.consumerAssignors()) {
            if (ServerAssignor.named(name) != null) {
                return ServerAssignor.shortName(name);
            }
        }
        return ServerAssignor.UNIFORM;
    }

    private void removeMember(ConsumerGroup group, ConsumerMember member) {
        cancelTimers(group, member);
        group.members.remove(member.memberId);
        if (member.instanceId != null && member.memberId.equals(group.staticMembers.get(member.instanceId))) {
            group.staticMembers.remove(member.instanceId);
        }
        bumpEpoch(group, "member " + member.memberId + " left");
        if (group.isEmpty()) {
            group.targetAssignment = new TreeMap<>();
            group.assignmentEpoch = group.groupEpoch;
        } else {
            computeTargetAssignment(group);
        }
    }

    // ---- Timers (keyed by group and member; each looks the member up when it fires) ------------------------------

    private void scheduleSession(ConsumerGroup group, ConsumerMember member) {
        int timeout = member.isClassic() ? member.classicSessionTimeoutMs : config.consumerSessionTimeoutMs();
        String groupId = group.groupId;
        String memberId = member.memberId;
        shard.timer.schedule(sessionTimer(group, memberId), timeout, () -> shard.run(() -> expire(groupId, memberId,
                "missed its session timeout of " + timeout + " ms", false)));
    }

    private void scheduleRebalanceTimeout(ConsumerGroup group, ConsumerMember member) {
        int timeout = Math.max(0, member.rebalanceTimeoutMs);
        String groupId = group.groupId;
        String memberId = member.memberId;
        shard.timer.schedule(rebalanceTimer(group, memberId), timeout, () -> shard.run(() -> expire(groupId, memberId,
                "did not revoke its partitions within its rebalance timeout of " + timeout + " ms", true)));
    }

    private Void expire(String groupId, String memberId, String why, boolean onlyIfRevoking) {
        if (!(shard.groups.get(groupId) instanceof ConsumerGroup stored) || !stored.members.containsKey(memberId)
                || onlyIfRevoking && stored.members.get(memberId).revoking.isEmpty()) {
            return null;
        }
        log.info("Member {} of consumer group {} {}; removing it", memberId, groupId, why);
        ConsumerGroup group = edit(stored);
        removeMember(group, group.members.get(memberId));
        maybeDowngrade(group);
        return null;
    }

    private void cancelTimers(ConsumerGroup group, ConsumerMember member) {
        shard.timer.cancel(sessionTimer(group, member.memberId));
        shard.timer.cancel(rebalanceTimer(group, member.memberId));
    }

    private static String sessionTimer(ConsumerGroup group, String memberId) {
        return "consumer-session:" + group.groupId + ":" + memberId;
    }

    private static String rebalanceTimer(ConsumerGroup group, String memberId) {
        return "consumer-rebalance:" + group.groupId + ":" + memberId;
    }

    // ---- Online migration between the protocols (KIP-848) ----------------------------------------------------------

    /** Why a classic group with members cannot become a consumer group now, or null when it can. */
    private String upgradeRefusal(ClassicGroup classic) {
        String prefix = "Cannot upgrade classic group " + classic.groupId + " to consumer group because ";
        if (!config.onlineUpgrade()) {
            return prefix + "online upgrade is disabled.";
        }
        if (!"consumer".equals(classic.protocolType)) {
            return prefix + "the group does not use the consumer embedded protocol.";
        }
        if (classic.members.size() >= config.consumerMaxSize()) {
            return prefix + "the group has " + classic.members.size() + " members, the maximum of a consumer group is "
                    + config.consumerMaxSize() + ".";
        }
        for (GroupMember m : classic.members.values()) {
            if (subscription(m.protocols) == null) {
                return prefix + "the subscription of member " + m.memberId + " cannot be read.";
            }
        }
        return null;
    }

    /**
     * Turns a classic group with members into a consumer group: each classic member keeps its id, generation (as its
     * epoch) and assignment and goes on with the classic APIs; rebalances are then the coordinator's.
     */
    private ConsumerGroup upgrade(ClassicGroup classic) {
        ConsumerGroup group = create(classic.groupId, true);
        group.groupEpoch = classic.generationId;
        group.assignmentEpoch = classic.generationId;
        for (GroupMember cm : classic.members.values()) {
            ConsumerMember m = new ConsumerMember(cm.memberId);
            m.instanceId = cm.groupInstanceId;
            m.clientId = cm.clientId;
            m.clientHost = cm.clientHost;
            m.rebalanceTimeoutMs = cm.rebalanceTimeoutMs;
            m.classicProtocols = List.copyOf(cm.protocols);
            m.classicSessionTimeoutMs = cm.sessionTimeoutMs;
            var subscription = subscription(cm.protocols);
            m.subscribedTopicNames = List.copyOf(subscription.topics());
            m.assigned = classic.is(GroupState.STABLE) ? partitionsOf(cm.assignment) : new TreeMap<>();
            m.memberEpoch = classic.generationId;
            m.state = ConsumerMember.State.STABLE;
            group.targetAssignment.put(m.memberId, ConsumerGroup.copy(m.assigned));
            group.members.put(m.memberId, m);
            if (m.instanceId != null) {
                group.staticMembers.put(m.instanceId, m.memberId);
            }
            scheduleSession(group, m);
        }
        log.info("Classic group {} with {} members moves to the consumer protocol at epoch {}", group.groupId,
                group.members.size(), group.groupEpoch);
        return group;
    }

    /**
     * When only classic members are left, the group goes back to the classic protocol and rebalances there: the
     * working copy then carries the classic group to store instead. Returns whether it did.
     */
    private boolean maybeDowngrade(ConsumerGroup group) {
        if (!config.onlineDowngrade() || group.isEmpty() || group.members.values().stream().anyMatch(m -> !m.isClassic())
                || group.members.size() > config.maxSize()) {
            return false;
        }
        ClassicGroup classic = new ClassicGroup(group.groupId);
        classic.protocolType = "consumer";
        // The members' own epoch, so that their next heartbeat is told to rejoin rather than that it is stale.
        classic.generationId = group.members.values().stream().mapToInt(m -> m.memberEpoch).max().orElse(group.groupEpoch);
        for (ConsumerMember m : group.members.values()) {
            cancelTimers(group, m);
            GroupMember cm = new GroupMember(m.memberId, m.instanceId);
            cm.clientId = m.clientId;
            cm.clientHost = m.clientHost;
            cm.sessionTimeoutMs = m.classicSessionTimeoutMs;
            cm.rebalanceTimeoutMs = m.rebalanceTimeoutMs;
            cm.protocolType = "consumer";
            cm.protocols = m.classicProtocols;
            cm.assignment = assignmentBytes(m.assigned);
            classic.members.put(cm.memberId, cm);
            if (cm.groupInstanceId != null) {
                classic.staticMembers.put(cm.groupInstanceId, cm.memberId);
            }
        }
        classic.protocolName = classic.selectProtocol();
        classic.leaderId = classic.members.keySet().iterator().next();
        classic.state = GroupState.STABLE;
        group.downgradedTo = classic;
        log.info("Consumer group {} has only classic members left; it goes back to the classic protocol", group.groupId);
        return true;
    }

    /** JoinGroup of a classic member to a consumer group. Answered (after the commit) with the member's epoch as generation. */
    java.util.concurrent.CompletableFuture<ClassicGroupManager.JoinResult> classicJoin(ConsumerGroup stored,
                                                                                     ClassicGroupManager.JoinRequest request) {
        String memberId = request.memberId();
        if (!"consumer".equals(request.protocolType()) || subscription(request.protocols()) == null) {
            return ClassicGroupManager.done(ClassicGroupManager.JoinResult.error(Errors.INCONSISTENT_GROUP_PROTOCOL, memberId));
        }
        boolean unknown = memberId == null || memberId.isEmpty();
        if (unknown) {
            memberId = ClassicGroupManager.newClassicMemberId(request.clientId());
            if (request.groupInstanceId() == null && request.requireKnownMemberId()) {
                return ClassicGroupManager.done(ClassicGroupManager.JoinResult.error(Errors.MEMBER_ID_REQUIRED, memberId));
            }
        }
        ConsumerMember existing = stored.members.get(memberId);
        String takenBy = request.groupInstanceId() == null ? null : stored.staticMembers.get(request.groupInstanceId());
        if (takenBy != null && !takenBy.equals(memberId) && !unknown) {
            return ClassicGroupManager.done(ClassicGroupManager.JoinResult.error(Errors.FENCED_INSTANCE_ID, memberId));
        }
        if ((takenBy == null || takenBy.equals(memberId)) && existing == null && stored.members.size() >= config.consumerMaxSize()) {
            return ClassicGroupManager.done(ClassicGroupManager.JoinResult.error(Errors.GROUP_MAX_SIZE_REACHED, memberId));
        }
        ConsumerGroup group = edit(stored);
        ConsumerMember member = group.members.get(memberId);
        if (takenBy != null && !takenBy.equals(memberId)) {
            member = replaceStatic(group, group.members.get(takenBy), memberId);
        } else if (member == null) {
            // A new classic member: with the id MEMBER_ID_REQUIRED gave it, or any id it brings (as Kafka does).
            member = new ConsumerMember(memberId);
            group.members.put(memberId, member);
            bumpEpoch(group, "classic member " + memberId + " joined");
        }
        int epochBefore = group.groupEpoch;
        var subscription = subscription(request.protocols());
        member.instanceId = request.groupInstanceId();
        if (member.instanceId != null) {
            group.staticMembers.put(member.instanceId, member.memberId);
        }
        member.clientId = request.clientId();
        member.clientHost = request.clientHost();
        member.rebalanceTimeoutMs = request.rebalanceTimeoutMs();
        member.classicProtocols = List.copyOf(request.protocols());
        member.classicSessionTimeoutMs = request.sessionTimeoutMs();
        List<String> topicsNow = List.copyOf(subscription.topics());
        if (!topicsNow.equals(member.subscribedTopicNames)) {
            member.subscribedTopicNames = topicsNow;
            if (group.groupEpoch == epochBefore) {
                bumpEpoch(group, "classic member " + memberId + " changed its subscription");
            }
        }
        scheduleSession(group, member);
        updateTargetAssignment(group);
        Map<Uuid, Set<Integer>> owned = new TreeMap<>();
        for (var tp : subscription.ownedPartitions()) {
            ServerAssignor.Topic t = topics.topic(tp.topic());
            if (t != null) {
                owned.computeIfAbsent(t.id(), x -> new TreeSet<>()).add(tp.partition());
            }
        }
        // The client gave up whatever it no longer lists as owned (all of it, for the eager protocols).
        Map<Uuid, Set<Integer>> stillOwned = new TreeMap<>();
        member.assigned.forEach((t, ps) -> ps.forEach(p -> {
            if (ConsumerGroup.contains(owned, t, p)) {
                stillOwned.computeIfAbsent(t, x -> new TreeSet<>()).add(p);
            }
        }));
        member.assigned = stillOwned;
        if (member.revoking.isEmpty()) {
            member.state = ConsumerMember.State.UNRELEASED_PARTITIONS;
        }
        reconcile(group, member, owned);
        return ClassicGroupManager.done(new ClassicGroupManager.JoinResult(Errors.NONE, member.memberEpoch, "consumer",
                member.classicProtocols.get(0).name(), "", member.memberId, List.of(), false));
    }

    /** SyncGroup of a classic member of a consumer group: its current partitions in the consumer protocol's format. */
    ClassicGroupManager.SyncResult classicSync(ConsumerGroup group, int generationId, String memberId, String instanceId,
                                               String protocolType, String protocolName) {
        ConsumerMember member = group.members.get(memberId);
        Errors invalid = validateClassicMember(group, member, memberId, instanceId, generationId);
        if (invalid != Errors.NONE) {
            return ClassicGroupManager.SyncResult.error(invalid);
        }
        String name = member.classicProtocols.get(0).name();
        if (protocolType != null && !protocolType.equals("consumer") || protocolName != null && !protocolName.equals(name)) {
            return ClassicGroupManager.SyncResult.error(Errors.INCONSISTENT_GROUP_PROTOCOL);
        }
        scheduleSession(group, member);
        return new ClassicGroupManager.SyncResult(Errors.NONE, "consumer", name, assignmentBytes(member.assigned));
    }

    /** Heartbeat of a classic member: REBALANCE_IN_PROGRESS while it has to rejoin to reach the target assignment. */
    Errors classicHeartbeat(ConsumerGroup stored, int generationId, String memberId, String instanceId) {
        Errors invalid = validateClassicMember(stored, stored.members.get(memberId), memberId, instanceId, generationId);
        if (invalid != Errors.NONE) {
            return invalid;
        }
        ConsumerGroup group = edit(stored);
        ConsumerMember member = group.members.get(memberId);
        scheduleSession(group, member);
        updateTargetAssignment(group);
        boolean reconciled = member.memberEpoch == group.assignmentEpoch && member.state == ConsumerMember.State.STABLE
                && member.assigned.equals(group.targetAssignment.getOrDefault(member.memberId, Map.of()));
        return reconciled ? Errors.NONE : Errors.REBALANCE_IN_PROGRESS;
    }

    /** LeaveGroup of a classic member of a consumer group (by member id, or by instance id for static members). */
    Errors classicLeave(String groupId, String memberId, String instanceId) {
        if (!(shard.groups.get(groupId) instanceof ConsumerGroup stored)) {
            return Errors.UNKNOWN_MEMBER_ID;
        }
        ConsumerGroup group = edit(stored);
        ConsumerMember member = instanceId != null ? group.members.get(group.staticMembers.getOrDefault(instanceId, ""))
                : group.members.get(memberId);
        if (member == null) {
            return Errors.UNKNOWN_MEMBER_ID;
        }
        if (instanceId != null && memberId != null && !memberId.isEmpty() && !memberId.equals(member.memberId)) {
            return Errors.FENCED_INSTANCE_ID;
        }
        log.info("Member {} leaves consumer group {}", member.memberId, group.groupId);
        removeMember(group, member);
        maybeDowngrade(group);
        return Errors.NONE;
    }

    private static Errors validateClassicMember(ConsumerGroup group, ConsumerMember member, String memberId,
                                               String instanceId, int generationId) {
        if (instanceId != null) {
            String current = group.staticMembers.get(instanceId);
            if (current != null && !current.equals(memberId)) {
                return Errors.FENCED_INSTANCE_ID;
            }
        }
        if (member == null || !member.isClassic()) {
            return Errors.UNKNOWN_MEMBER_ID;
        }
        return generationId == member.memberEpoch ? Errors.NONE : Errors.ILLEGAL_GENERATION;
    }

    /** The consumer-protocol subscription in a classic member's protocols (all carry the same topics), or null. */
    private static org.apache.kafka.clients.consumer.ConsumerPartitionAssignor.Subscription subscription(
            List<ClassicGroupManager.Protocol> protocols) {
        if (protocols == null || protocols.isEmpty()) {
            return null;
        }
        try {
            return org.apache.kafka.clients.consumer.internals.ConsumerProtocol.deserializeSubscription(
                    java.nio.ByteBuffer.wrap(protocols.get(0).metadata()));
        } catch (RuntimeException e) {
            return null;
        }
    }

    private Map<Uuid, Set<Integer>> partitionsOf(byte[] assignment) {
        Map<Uuid, Set<Integer>> result = new TreeMap<>();
        if (assignment == null || assignment.length == 0) {
            return result;
        }
        try {
            var decoded = org.apache.kafka.clients.consumer.internals.ConsumerProtocol.deserializeAssignment(
                    java.nio.ByteBuffer.wrap(assignment));
            for (var tp : decoded.partitions()) {
                ServerAssignor.Topic t = topics.topic(tp.topic());
                if (t != null) {
                    result.computeIfAbsent(t.id(), x -> new TreeSet<>()).add(tp.partition());
                }
            }
        } catch (RuntimeException e) {
            log.warn("Cannot read a classic assignment: {}", e.toString());
        }
        return result;
    }

    private byte[] assignmentBytes(Map<Uuid, Set<Integer>> partitions) {
        List<org.apache.kafka.common.TopicPartition> tps = new ArrayList<>();
        partitions.forEach((id, ps) -> {
            ServerAssignor.Topic t = topics.topic(id);
            if (t != null) {
                ps.forEach(p -> tps.add(new org.apache.kafka.common.TopicPartition(t.name(), p)));
            }
        });
        var buffer = org.apache.kafka.clients.consumer.internals.ConsumerProtocol.serializeAssignment(
                new org.apache.kafka.clients.consumer.ConsumerPartitionAssignor.Assignment(tps));
        byte[] bytes = new byte[buffer.remaining()];
        buffer.get(bytes);
        return bytes;
    }

    /** Errors per group: GROUP_ID_NOT_FOUND (unknown, or a classic group). */
    List<GroupDescription> describe(List<String> groupIds) {
        List<GroupDescription> result = new ArrayList<>();
        for (String id : groupIds) {
            result.add(describe(id));
        }
        return result;
    }

    GroupDescription describe(String id) {
        Group g = shard.groups.get(id);
        if (g instanceof ConsumerGroup cg) {
            List<MemberDescription> members = new ArrayList<>();
            for (ConsumerMember m : cg.members.values()) {
                members.add(new MemberDescription(m.memberId, m.instanceId, m.rackId, m.isClassic(), m.memberEpoch,
                        m.clientId == null ? "" : m.clientId, m.clientHost == null ? "" : m.clientHost,
                        m.subscribedTopicNames, m.subscribedTopicRegex, ConsumerGroup.copy(m.assigned),
                        ConsumerGroup.copy(cg.targetAssignment.getOrDefault(m.memberId, Map.of()))));
            }
            return new GroupDescription(id, Errors.NONE, null, cg.stateName(), cg.groupEpoch, cg.assignmentEpoch,
                    preferredAssignor(cg), members);
        }
        String message = g == null ? "Group " + id + " not found." : "Group " + id + " is not a consumer group.";
        return new GroupDescription(id, Errors.GROUP_ID_NOT_FOUND, message, "Dead", 0, 0, "", List.of());
    }

    private static boolean subsetOf(Map<Uuid, Set<Integer>> a, Map<Uuid, Set<Integer>> b) {
        for (Map.Entry<Uuid, Set<Integer>> e : a.entrySet()) {
            for (int p : e.getValue()) {
                if (!ConsumerGroup.contains(b, e.getKey(), p)) {
                    return false;
                }
            }
        }
        return true;
    }

    private static boolean intersects(Map<Uuid, Set<Integer>> a, Map<Uuid, Set<Integer>> b) {
        for (Map.Entry<Uuid, Set<Integer>> e : a.entrySet()) {
            for (int p : e.getValue()) {
                if (ConsumerGroup.contains(b, e.getKey(), p)) {
                    return true;
                }
            }
        }
        return false;
    }
}
