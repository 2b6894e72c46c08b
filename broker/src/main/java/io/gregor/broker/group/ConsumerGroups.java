package io.gregor.broker.group;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.protocol.Errors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The consumer group protocol of KIP-848: ConsumerGroupHeartbeat and ConsumerGroupDescribe. The coordinator assigns
 * partitions with a server-side assignor; each heartbeat moves its member towards the target assignment: it first
 * revokes what it must give up (keeping its epoch), then moves to the new epoch and takes the partitions nobody else
 * holds any more. Shares the classic coordinator's groups and lock.
 *
 * <p>The group epoch and every member are stored in {@code __consumer_offsets} when they change, before the answer;
 * after a restart the members are back with their partitions and the target assignment is recomputed from them.
 * A classic group becomes a consumer group when a member of the new protocol joins it, online if it has members
 * (they go on with the classic APIs inside it), and goes back once only classic members are left; an empty consumer
 * group becomes classic when a classic member joins it. Offsets are kept either way.
 */
public final class ConsumerGroups {
    private static final Logger log = LoggerFactory.getLogger(ConsumerGroups.class);

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

    private final GroupCoordinator coordinator;
    private final TopicCatalog topics;
    private final GroupConfig config;
    /** Member records (changes and removals) waiting to be appended with the current operation. Guarded by the lock. */
    private final List<GroupRecord> pendingRecords = new ArrayList<>();

    public ConsumerGroups(GroupCoordinator coordinator, TopicCatalog topics) {
        this.coordinator = coordinator;
        this.topics = topics;
        this.config = coordinator.config;
        coordinator.attach(this);
    }

    /**
     * Errors: COORDINATOR_LOAD_IN_PROGRESS, INVALID_REQUEST, GROUP_ID_NOT_FOUND, UNKNOWN_MEMBER_ID, FENCED_MEMBER_EPOCH,
     * UNRELEASED_INSTANCE_ID, FENCED_INSTANCE_ID, GROUP_MAX_SIZE_REACHED, UNSUPPORTED_ASSIGNOR, INVALID_REGULAR_EXPRESSION,
     * COORDINATOR_NOT_AVAILABLE (the group's record could not be stored).
     */
    public CompletableFuture<HeartbeatResult> heartbeat(Heartbeat request) {
        synchronized (coordinator) {
            HeartbeatResult invalid = validate(request);
            if (invalid != null) {
                return GroupCoordinator.done(invalid);
            }
            List<GroupRecord> records = new ArrayList<>();
            Group existing = coordinator.groups.get(request.groupId());
            ConsumerGroup group;
            if (existing instanceof ConsumerGroup cg) {
                group = cg;
            } else if (request.memberEpoch() != 0) {
                return GroupCoordinator.done(HeartbeatResult.error(Errors.GROUP_ID_NOT_FOUND,
                        "Consumer group " + request.groupId() + " not found."));
            } else if (existing instanceof ClassicGroup classic && !classic.isEmpty()) {
                String refusal = upgradeRefusal(classic);
                if (refusal != null) {
                    return GroupCoordinator.done(HeartbeatResult.error(Errors.GROUP_ID_NOT_FOUND, refusal));
                }
                group = upgrade(classic, records);
            } else {
                group = new ConsumerGroup(request.groupId());
                if (existing != null) {
                    group.offsets.putAll(existing.offsets);
                    records.add(new GroupRecord.Group(existing.groupId, null));
                    log.info("Empty classic group {} becomes a consumer-protocol group", existing.groupId);
                }
                coordinator.groups.put(group.groupId, group);
            }
            int epochBefore = group.groupEpoch;
            ConsumerMember before = group.members.get(request.memberId());
            GroupRecord.ConsumerMemberState snapshotBefore = before == null ? null : memberRecord(group, before);
            pendingRecords.clear();
            HeartbeatResult result;
            if (request.memberEpoch() < 0) {
                result = leave(group, request);
            } else {
                result = join(group, request);
            }
            if (result.error() != Errors.NONE && existing instanceof ClassicGroup c && !c.isEmpty()) {
                // The group was upgraded before the member was refused: the upgrade still has to be stored.
                records.addAll(pendingRecords);
                pendingRecords.clear();
                records.add(0, epochRecord(group));
                return coordinator.groupLog.append(records).handle((v, e) -> result);
            }
            if (result.error() != Errors.NONE) {
                pendingRecords.clear();
                if (group.isEmpty() && group.groupEpoch == 0 && existing != group) {
                    coordinator.groups.remove(group.groupId);
                    if (existing != null) {
                        coordinator.groups.put(existing.groupId, existing);
                    }
                }
                return GroupCoordinator.done(result);
            }
            if (coordinator.groups.get(group.groupId) != group) {
                // The last member of the consumer protocol left: the group went back to the classic protocol.
                records.addAll(pendingRecords);
                pendingRecords.clear();
                return coordinator.groupLog.append(records).handle((v, error) -> result);
            }
            records.addAll(pendingRecords);
            pendingRecords.clear();
            ConsumerMember after = group.members.get(result.memberId());
            if (after != null) {
                GroupRecord.ConsumerMemberState now = memberRecord(group, after);
                if (snapshotBefore == null || !sameState(snapshotBefore, now)) {
                    records.add(now);
                }
            }
            if (group.groupEpoch == epochBefore && records.isEmpty()) {
                return GroupCoordinator.done(result);
            }
            // The epoch record goes first, so that a replay meets the group before its members.
            records.add(0, epochRecord(group));
            return coordinator.groupLog.append(records).handle((v, error) -> {
                if (error != null) {
                    log.warn("Storing consumer group {} at epoch {} failed: {}", group.groupId, group.groupEpoch, error.toString());
                    return HeartbeatResult.error(Errors.COORDINATOR_NOT_AVAILABLE, "Storing the group failed.");
                }
                return result;
            });
        }
    }

    private HeartbeatResult validate(Heartbeat r) {
        if (!coordinator.isLoaded()) {
            return HeartbeatResult.error(Errors.COORDINATOR_LOAD_IN_PROGRESS, null);
        }
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
                group.emptySinceMs = -1;
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
        Map<Uuid, Set<Integer>> assignedBefore = copy(member.assigned);
        reconcile(group, member, owned);
        boolean changed = epochBefore != member.memberEpoch || !assignedBefore.equals(member.assigned);
        if (changed || sendAssignment || owned != null && !owned.equals(member.assigned)) {
            return new HeartbeatResult(Errors.NONE, null, member.memberId, member.memberEpoch,
                    config.consumerHeartbeatIntervalMs(), copy(member.assigned));
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
        cancelTimers(previous);
        group.members.remove(previous.memberId);
        pendingRecords.add(GroupRecord.ConsumerMemberState.tombstone(group.groupId, previous.memberId));
        group.members.put(memberId, member);
        Map<Uuid, Set<Integer>> target = group.targetAssignment.get(previous.memberId);
        if (target != null) {
            Map<String, Map<Uuid, Set<Integer>>> targets = new TreeMap<>(group.targetAssignment);
            targets.remove(previous.memberId);
            targets.put(memberId, target);
            group.targetAssignment = targets;
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
            cancelRebalanceTimer(member);
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

    private void bumpEpoch(ConsumerGroup group, String reason) {
        group.groupEpoch = Math.max(group.groupEpoch, group.assignmentEpoch) + 1;
        log.info("Consumer group {} moves to epoch {}: {}", group.groupId, group.groupEpoch, reason);
    }

    /** Recomputes the partition counts of the subscribed topics; a difference moves the group epoch. */
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
        if (!now.equals(group.subscribedTopics)) {
            group.subscribedTopics = now;
            if (group.groupEpoch == group.assignmentEpoch && group.assignmentEpoch > 0 && !group.targetStale) {
                bumpEpoch(group, "the subscribed topics changed");
            }
        }
    }

    /** Brings the target assignment up to the group epoch, after looking for changes of the subscribed topics. */
    private void updateTargetAssignment(ConsumerGroup group) {
        refreshSubscriptionMetadata(group);
        if (group.groupEpoch > group.assignmentEpoch || group.targetStale) {
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
        Map<String, Integer> votes = new HashMap<>();
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
            if (m.serverAssignor != null) {
                votes.merge(ServerAssignor.shortName(m.serverAssignor), 1, Integer::sum);
            }
        }
        String assignorName = votes.entrySet().stream().max(Map.Entry.<String, Integer>comparingByValue()
                        .thenComparing(Map.Entry.comparingByKey()))
                .map(Map.Entry::getKey).orElse(defaultAssignor());
        ServerAssignor assignor = ServerAssignor.named(assignorName);
        Map<String, Map<Uuid, Set<Integer>>> previous = group.targetAssignment;
        if (group.targetStale) {
            // Restored after a restart: what the members hold is the best guess of the lost target.
            previous = new TreeMap<>();
            for (ConsumerMember m : group.members.values()) {
                Map<Uuid, Set<Integer>> held = copy(m.assigned);
                m.revoking.forEach((t, ps) -> held.computeIfAbsent(t, x -> new TreeSet<>()).addAll(ps));
                previous.put(m.memberId, held);
            }
            group.targetStale = false;
        }
        group.targetAssignment = assignor.assign(subscriptions, subscribed, previous);
        group.assignorName = assignorName;
        group.assignmentEpoch = group.groupEpoch;
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
        cancelTimers(member);
        group.members.remove(member.memberId);
        pendingRecords.add(GroupRecord.ConsumerMemberState.tombstone(group.groupId, member.memberId));
        if (member.instanceId != null && member.memberId.equals(group.staticMembers.get(member.instanceId))) {
            group.staticMembers.remove(member.instanceId);
        }
        bumpEpoch(group, "member " + member.memberId + " left");
        if (group.isEmpty()) {
            group.emptySinceMs = coordinator.timer.milliseconds();
            group.targetAssignment = Map.of();
            group.assignmentEpoch = group.groupEpoch;
        } else {
            computeTargetAssignment(group);
        }
    }

    private void scheduleSession(ConsumerGroup group, ConsumerMember member) {
        if (member.cancelSession != null) {
            member.cancelSession.run();
        }
        int timeout = member.isClassic() ? member.classicSessionTimeoutMs : config.consumerSessionTimeoutMs();
        member.sessionDeadlineMs = coordinator.timer.milliseconds() + timeout;
        member.cancelSession = coordinator.timer.schedule(timeout, () -> expire(group, member, "missed its session timeout of "
                + timeout + " ms"));
    }

    private void scheduleRebalanceTimeout(ConsumerGroup group, ConsumerMember member) {
        cancelRebalanceTimer(member);
        int timeout = Math.max(0, member.rebalanceTimeoutMs);
        member.cancelRebalance = coordinator.timer.schedule(timeout, () -> {
            synchronized (coordinator) {
                if (!member.revoking.isEmpty()) {
                    expireNow(group, member, "did not revoke its partitions within its rebalance timeout of " + timeout + " ms");
                }
            }
        });
    }

    private void expire(ConsumerGroup group, ConsumerMember member, String why) {
        synchronized (coordinator) {
            if (coordinator.timer.milliseconds() < member.sessionDeadlineMs) {
                return;
            }
            expireNow(group, member, why);
        }
    }

    private void expireNow(ConsumerGroup group, ConsumerMember member, String why) {
        if (coordinator.groups.get(group.groupId) != group || group.members.get(member.memberId) != member) {
            return;
        }
        log.info("Member {} of consumer group {} {}; removing it", member.memberId, group.groupId, why);
        List<GroupRecord> records = removeAndStore(group, member);
        coordinator.groupLog.append(records).exceptionally(e -> {
            log.warn("Storing consumer group {} failed: {}", group.groupId, e.toString());
            return null;
        });
    }

    /** Removes a member outside a heartbeat (expiry, classic LeaveGroup); returns the records that say so. */
    private List<GroupRecord> removeAndStore(ConsumerGroup group, ConsumerMember member) {
        pendingRecords.clear();
        removeMember(group, member);
        List<GroupRecord> records = new ArrayList<>();
        if (!maybeDowngrade(group)) {
            records.add(epochRecord(group));
        }
        records.addAll(pendingRecords);
        pendingRecords.clear();
        return records;
    }

    private static void cancelTimers(ConsumerMember member) {
        if (member.cancelSession != null) {
            member.cancelSession.run();
            member.cancelSession = null;
        }
        cancelRebalanceTimer(member);
    }

    private static void cancelRebalanceTimer(ConsumerMember member) {
        if (member.cancelRebalance != null) {
            member.cancelRebalance.run();
            member.cancelRebalance = null;
        }
    }

    GroupRecord.ConsumerGroupEpoch epochRecord(ConsumerGroup group) {
        long timestamp = group.isEmpty() && group.emptySinceMs >= 0 ? group.emptySinceMs : coordinator.timer.milliseconds();
        return new GroupRecord.ConsumerGroupEpoch(group.groupId, group.groupEpoch, timestamp, group.isEmpty(), false);
    }

    private static GroupRecord.ConsumerMemberState memberRecord(ConsumerGroup group, ConsumerMember m) {
        return new GroupRecord.ConsumerMemberState(group.groupId, m.memberId, m.instanceId, m.rackId, m.clientId,
                m.clientHost, m.rebalanceTimeoutMs, m.subscribedTopicNames, m.subscribedTopicRegex, m.serverAssignor,
                m.memberEpoch, m.previousMemberEpoch, (byte) m.state.ordinal(), copy(m.assigned), copy(m.revoking),
                m.classicSessionTimeoutMs, m.classicProtocols, false);
    }

    private static boolean sameState(GroupRecord.ConsumerMemberState a, GroupRecord.ConsumerMemberState b) {
        return java.util.Arrays.equals(a.value(), b.value());
    }

    /** Applies a replayed member record to its group (startup). */
    static void restore(ConsumerGroup group, GroupRecord.ConsumerMemberState stored) {
        if (stored.deleted()) {
            ConsumerMember gone = group.members.remove(stored.memberId());
            if (gone != null && gone.instanceId != null && gone.memberId.equals(group.staticMembers.get(gone.instanceId))) {
                group.staticMembers.remove(gone.instanceId);
            }
            return;
        }
        ConsumerMember m = group.members.computeIfAbsent(stored.memberId(), ConsumerMember::new);
        m.instanceId = stored.instanceId();
        m.rackId = stored.rackId();
        m.clientId = stored.clientId();
        m.clientHost = stored.clientHost();
        m.rebalanceTimeoutMs = stored.rebalanceTimeoutMs();
        m.subscribedTopicNames = List.copyOf(stored.subscribedTopicNames());
        m.subscribedTopicRegex = stored.subscribedTopicRegex();
        m.serverAssignor = stored.serverAssignor();
        m.memberEpoch = stored.memberEpoch();
        m.previousMemberEpoch = stored.previousMemberEpoch();
        m.state = ConsumerMember.State.values()[stored.state()];
        m.assigned = copy(stored.assigned());
        m.revoking = copy(stored.revoking());
        m.classicSessionTimeoutMs = stored.classicSessionTimeoutMs();
        m.classicProtocols = stored.classicProtocols() == null ? null : List.copyOf(stored.classicProtocols());
        if (m.instanceId != null) {
            group.staticMembers.put(m.instanceId, m.memberId);
        }
    }

    /** After loading: restored members get a fresh session, and the group's target assignment is recomputed. */
    void restored(ConsumerGroup group) {
        if (group.members.isEmpty()) {
            return;
        }
        group.emptySinceMs = -1;
        group.targetStale = true;
        group.subscriptionMetadataVersion = -1;
        for (ConsumerMember m : group.members.values()) {
            scheduleSession(group, m);
            if (!m.revoking.isEmpty()) {
                scheduleRebalanceTimeout(group, m);
            }
        }
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
    private ConsumerGroup upgrade(ClassicGroup classic, List<GroupRecord> records) {
        coordinator.releaseForUpgrade(classic);
        ConsumerGroup group = new ConsumerGroup(classic.groupId);
        group.offsets.putAll(classic.offsets);
        group.groupEpoch = classic.generationId;
        group.assignmentEpoch = classic.generationId;
        Map<String, Map<Uuid, Set<Integer>>> target = new TreeMap<>();
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
            target.put(m.memberId, copy(m.assigned));
            group.members.put(m.memberId, m);
            if (m.instanceId != null) {
                group.staticMembers.put(m.instanceId, m.memberId);
            }
            scheduleSession(group, m);
            records.add(memberRecord(group, m));
        }
        group.targetAssignment = target;
        records.add(new GroupRecord.Group(classic.groupId, null));
        coordinator.groups.put(group.groupId, group);
        log.info("Classic group {} with {} members moves to the consumer protocol at epoch {}", group.groupId,
                group.members.size(), group.groupEpoch);
        return group;
    }

    /**
     * When only classic members are left, the group goes back to the classic protocol and rebalances there. Returns
     * whether it did; its records are in {@link #pendingRecords}.
     */
    private boolean maybeDowngrade(ConsumerGroup group) {
        if (!config.onlineDowngrade() || group.isEmpty() || group.members.values().stream().anyMatch(m -> !m.isClassic())
                || group.members.size() > config.maxSize()) {
            return false;
        }
        ClassicGroup classic = new ClassicGroup(group.groupId);
        classic.offsets.putAll(group.offsets);
        classic.protocolType = "consumer";
        // The members' own epoch, so that their next heartbeat is told to rejoin rather than that it is stale.
        classic.generationId = group.members.values().stream().mapToInt(m -> m.memberEpoch).max().orElse(group.groupEpoch);
        for (ConsumerMember m : group.members.values()) {
            cancelTimers(m);
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
            pendingRecords.add(GroupRecord.ConsumerMemberState.tombstone(group.groupId, m.memberId));
        }
        classic.protocolName = classic.selectProtocol();
        classic.leaderId = classic.members.keySet().iterator().next();
        classic.state = GroupState.STABLE;
        pendingRecords.add(coordinator.groupRecord(classic));
        pendingRecords.add(GroupRecord.ConsumerGroupEpoch.tombstone(group.groupId));
        log.info("Consumer group {} has only classic members left; it goes back to the classic protocol", group.groupId);
        coordinator.adoptDowngraded(classic);
        return true;
    }

    /** JoinGroup of a classic member to a consumer group. Answered at once with the member's epoch as generation. */
    CompletableFuture<GroupCoordinator.JoinResult> classicJoin(ConsumerGroup group, GroupCoordinator.JoinRequest request) {
        String memberId = request.memberId();
        if (!"consumer".equals(request.protocolType()) || subscription(request.protocols()) == null) {
            return GroupCoordinator.done(GroupCoordinator.JoinResult.error(Errors.INCONSISTENT_GROUP_PROTOCOL, memberId));
        }
        boolean unknown = memberId == null || memberId.isEmpty();
        if (unknown) {
            memberId = GroupCoordinator.newClassicMemberId(request.clientId());
            if (request.groupInstanceId() == null && request.requireKnownMemberId()) {
                return GroupCoordinator.done(GroupCoordinator.JoinResult.error(Errors.MEMBER_ID_REQUIRED, memberId));
            }
        }
        List<GroupRecord> records = new ArrayList<>();
        pendingRecords.clear();
        ConsumerMember member = group.members.get(memberId);
        String takenBy = request.groupInstanceId() == null ? null : group.staticMembers.get(request.groupInstanceId());
        if (takenBy != null && !takenBy.equals(memberId)) {
            if (!unknown) {
                return GroupCoordinator.done(GroupCoordinator.JoinResult.error(Errors.FENCED_INSTANCE_ID, memberId));
            }
            member = replaceStatic(group, group.members.get(takenBy), memberId);
        } else if (member == null) {
            // A new classic member: with the id MEMBER_ID_REQUIRED gave it, or any id it brings (as Kafka does).
            if (group.members.size() >= config.consumerMaxSize()) {
                return GroupCoordinator.done(GroupCoordinator.JoinResult.error(Errors.GROUP_MAX_SIZE_REACHED, memberId));
            }
            member = new ConsumerMember(memberId);
            group.members.put(memberId, member);
            group.emptySinceMs = -1;
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
        records.addAll(pendingRecords);
        pendingRecords.clear();
        records.add(0, epochRecord(group));
        records.add(memberRecord(group, member));
        ConsumerMember joined = member;
        var result = new GroupCoordinator.JoinResult(Errors.NONE, member.memberEpoch, "consumer",
                member.classicProtocols.get(0).name(), "", member.memberId, List.of(), false);
        return coordinator.groupLog.append(records).handle((v, error) -> error == null ? result
                : GroupCoordinator.JoinResult.error(Errors.COORDINATOR_NOT_AVAILABLE, joined.memberId));
    }

    /** SyncGroup of a classic member of a consumer group: its current partitions in the consumer protocol's format. */
    GroupCoordinator.SyncResult classicSync(ConsumerGroup group, int generationId, String memberId, String instanceId,
                                            String protocolType, String protocolName) {
        ConsumerMember member = group.members.get(memberId);
        Errors invalid = validateClassicMember(group, member, memberId, instanceId, generationId);
        if (invalid != Errors.NONE) {
            return GroupCoordinator.SyncResult.error(invalid);
        }
        String name = member.classicProtocols.get(0).name();
        if (protocolType != null && !protocolType.equals("consumer") || protocolName != null && !protocolName.equals(name)) {
            return GroupCoordinator.SyncResult.error(Errors.INCONSISTENT_GROUP_PROTOCOL);
        }
        scheduleSession(group, member);
        return new GroupCoordinator.SyncResult(Errors.NONE, "consumer", name, assignmentBytes(member.assigned));
    }

    /** Heartbeat of a classic member: REBALANCE_IN_PROGRESS while it has to rejoin to reach the target assignment. */
    Errors classicHeartbeat(ConsumerGroup group, int generationId, String memberId, String instanceId) {
        ConsumerMember member = group.members.get(memberId);
        Errors invalid = validateClassicMember(group, member, memberId, instanceId, generationId);
        if (invalid != Errors.NONE) {
            return invalid;
        }
        scheduleSession(group, member);
        updateTargetAssignment(group);
        boolean reconciled = member.memberEpoch == group.assignmentEpoch && member.state == ConsumerMember.State.STABLE
                && member.assigned.equals(group.targetAssignment.getOrDefault(member.memberId, Map.of()));
        return reconciled ? Errors.NONE : Errors.REBALANCE_IN_PROGRESS;
    }

    /** LeaveGroup of classic members of a consumer group (by member id, or by instance id for static members). */
    CompletableFuture<Errors> classicLeave(ConsumerGroup group, String memberId, String instanceId) {
        ConsumerMember member = instanceId != null ? group.members.get(group.staticMembers.getOrDefault(instanceId, ""))
                : group.members.get(memberId);
        if (member == null) {
            return GroupCoordinator.done(Errors.UNKNOWN_MEMBER_ID);
        }
        if (instanceId != null && memberId != null && !memberId.isEmpty() && !memberId.equals(member.memberId)) {
            return GroupCoordinator.done(Errors.FENCED_INSTANCE_ID);
        }
        log.info("Member {} leaves consumer group {}", member.memberId, group.groupId);
        List<GroupRecord> records = removeAndStore(group, member);
        return coordinator.groupLog.append(records).handle((v, e) -> e == null ? Errors.NONE : Errors.COORDINATOR_NOT_AVAILABLE);
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
            List<GroupCoordinator.Protocol> protocols) {
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

    /** Errors per group: COORDINATOR_LOAD_IN_PROGRESS, GROUP_ID_NOT_FOUND (unknown, or a classic group). */
    public List<GroupDescription> describe(List<String> groupIds) {
        synchronized (coordinator) {
            List<GroupDescription> result = new ArrayList<>();
            for (String id : groupIds) {
                Group g = coordinator.groups.get(id);
                if (!coordinator.isLoaded()) {
                    result.add(new GroupDescription(id, Errors.COORDINATOR_LOAD_IN_PROGRESS, null, "", 0, 0, "", List.of()));
                } else if (g instanceof ConsumerGroup cg) {
                    List<MemberDescription> members = new ArrayList<>();
                    for (ConsumerMember m : cg.members.values()) {
                        members.add(new MemberDescription(m.memberId, m.instanceId, m.rackId, m.isClassic(), m.memberEpoch,
                                m.clientId == null ? "" : m.clientId, m.clientHost == null ? "" : m.clientHost,
                                m.subscribedTopicNames, m.subscribedTopicRegex, copy(m.assigned),
                                copy(cg.targetAssignment.getOrDefault(m.memberId, Map.of()))));
                    }
                    result.add(new GroupDescription(id, Errors.NONE, null, cg.stateName(), cg.groupEpoch, cg.assignmentEpoch,
                            cg.assignorName.isEmpty() ? defaultAssignor() : cg.assignorName, members));
                } else {
                    String message = g == null ? "Group " + id + " not found." : "Group " + id + " is not a consumer group.";
                    result.add(new GroupDescription(id, Errors.GROUP_ID_NOT_FOUND, message, "Dead", 0, 0, "", List.of()));
                }
            }
            return result;
        }
    }

    /** The member's current epoch for offset validation, or null when the group or member is unknown. */
    Integer memberEpoch(ConsumerGroup group, String memberId) {
        ConsumerMember m = memberId == null ? null : group.members.get(memberId);
        return m == null ? null : m.memberEpoch;
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

    private static Map<Uuid, Set<Integer>> copy(Map<Uuid, Set<Integer>> m) {
        Map<Uuid, Set<Integer>> c = new TreeMap<>();
        m.forEach((k, v) -> {
            if (!v.isEmpty()) {
                c.put(k, new TreeSet<>(v));
            }
        });
        return c;
    }
}
