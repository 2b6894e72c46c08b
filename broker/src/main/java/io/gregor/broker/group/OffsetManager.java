package io.gregor.broker.group;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Predicate;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.protocol.Errors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Committed offsets of the coordinator's groups. A commit is appended to {@code __consumer_offsets} and becomes
 * visible (and is answered) only once durable. Shares the coordinator's lock.
 */
public final class OffsetManager {
    /** Kafka's offset.metadata.max.bytes default. */
    static final int MAX_METADATA_BYTES = 4096;
    private static final Logger log = LoggerFactory.getLogger(OffsetManager.class);

    private final GroupCoordinator coordinator;
    private final Predicate<String> topicExists;

    /** @param topicExists tells whether a topic still exists; offsets of deleted topics are dropped lazily on fetch */
    public OffsetManager(GroupCoordinator coordinator, Predicate<String> topicExists) {
        this.coordinator = coordinator;
        this.topicExists = topicExists;
    }

    /** What a fetch returns: a group-level error, or the offsets (absent partitions have none). */
    public record FetchResult(Errors error, Map<TopicPartition, OffsetAndMetadata> offsets) {
    }

    /**
     * Commits offsets for a member of the current generation, or, with generation -1 and no member id, for an empty
     * or unknown group (simple consumers, admin tools). Errors (the same for every partition): COORDINATOR_LOAD_IN_PROGRESS,
     * UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION, REBALANCE_IN_PROGRESS, FENCED_INSTANCE_ID, COORDINATOR_NOT_AVAILABLE; per
     * partition: OFFSET_METADATA_TOO_LARGE. The commit timestamp is the coordinator's clock, whatever the caller set.
     */
    public CompletableFuture<Map<TopicPartition, Errors>> commit(String groupId, int generationId, String memberId,
                                                                 String groupInstanceId,
                                                                 Map<TopicPartition, OffsetAndMetadata> offsets) {
        synchronized (coordinator) {
            Errors error = validateCommit(groupId, generationId, memberId, groupInstanceId);
            Map<TopicPartition, Errors> results = new LinkedHashMap<>();
            if (error != Errors.NONE) {
                offsets.keySet().forEach(tp -> results.put(tp, error));
                return GroupCoordinator.done(results);
            }
            Group group = coordinator.groups.computeIfAbsent(groupId, ClassicGroup::new);
            List<GroupRecord> records = new ArrayList<>();
            Map<TopicPartition, OffsetAndMetadata> accepted = new LinkedHashMap<>();
            long now = coordinator.timer.milliseconds();
            offsets.forEach((tp, requested) -> {
                OffsetAndMetadata commit = new OffsetAndMetadata(requested.offset(), requested.leaderEpoch(),
                        requested.metadata(), now);
                if (commit.metadata() != null && commit.metadata().length() > MAX_METADATA_BYTES) {
                    results.put(tp, Errors.OFFSET_METADATA_TOO_LARGE);
                } else {
                    results.put(tp, Errors.NONE);
                    accepted.put(tp, commit);
                    records.add(new GroupRecord.Offset(groupId, tp.topic(), tp.partition(), commit));
                }
            });
            if (records.isEmpty()) {
                return GroupCoordinator.done(results);
            }
            return coordinator.groupLog.append(records).handle((v, appendError) -> {
                synchronized (coordinator) {
                    if (appendError != null) {
                        accepted.keySet().forEach(tp -> results.put(tp, Errors.COORDINATOR_NOT_AVAILABLE));
                    } else if (coordinator.groups.get(groupId) == group) {
                        group.offsets.putAll(accepted);
                    }
                    return results;
                }
            });
        }
    }

    private Errors validateCommit(String groupId, int generationId, String memberId, String groupInstanceId) {
        if (!coordinator.isLoaded()) {
            return Errors.COORDINATOR_LOAD_IN_PROGRESS;
        }
        if (groupId == null || groupId.isEmpty()) {
            return Errors.INVALID_GROUP_ID;
        }
        Group found = coordinator.groups.get(groupId);
        if (found == null) {
            return generationId < 0 ? Errors.NONE : Errors.ILLEGAL_GENERATION;
        }
        if (found instanceof ConsumerGroup consumerGroup) {
            return validateConsumerGroupMember(consumerGroup, generationId, memberId);
        }
        ClassicGroup group = (ClassicGroup) found;
        if (group.is(GroupState.DEAD)) {
            return Errors.COORDINATOR_NOT_AVAILABLE;
        }
        if (generationId < 0 && group.is(GroupState.EMPTY)) {
            return Errors.NONE;
        }
        if (group.is(GroupState.COMPLETING_REBALANCE)) {
            return Errors.REBALANCE_IN_PROGRESS;
        }
        if (groupInstanceId != null) {
            String current = group.staticMembers.get(groupInstanceId);
            if (current != null && !current.equals(memberId)) {
                return Errors.FENCED_INSTANCE_ID;
            }
        }
        if (!group.members.containsKey(memberId)) {
            return Errors.UNKNOWN_MEMBER_ID;
        }
        return generationId == group.generationId ? Errors.NONE : Errors.ILLEGAL_GENERATION;
    }

    /**
     * A consumer-protocol group checks the member epoch (KIP-848): an admin or standalone commit (epoch &lt; 0, no
     * member id) only while the group is empty, otherwise the member must exist (UNKNOWN_MEMBER_ID) at this epoch or,
     * for commits sent just before an epoch bump, the previous one (STALE_MEMBER_EPOCH).
     */
    private static Errors validateConsumerGroupMember(ConsumerGroup group, int memberEpoch, String memberId) {
        if (memberEpoch < 0 && (memberId == null || memberId.isEmpty())) {
            return group.isEmpty() ? Errors.NONE : Errors.UNKNOWN_MEMBER_ID;
        }
        ConsumerMember member = memberId == null ? null : group.members.get(memberId);
        if (member == null) {
            return Errors.UNKNOWN_MEMBER_ID;
        }
        if (memberEpoch == member.memberEpoch || memberEpoch == member.previousMemberEpoch && memberEpoch >= 0) {
            return Errors.NONE;
        }
        return Errors.STALE_MEMBER_EPOCH;
    }

    /** The committed offsets of {@code partitions}, or of every partition when null. An unknown group has none. */
    public FetchResult fetch(String groupId, List<TopicPartition> partitions) {
        return fetch(groupId, null, -1, partitions);
    }

    /**
     * As {@link #fetch(String, List)}, checking the member of a consumer-protocol group when a member epoch is given
     * (OffsetFetch v9+): UNKNOWN_MEMBER_ID, STALE_MEMBER_EPOCH.
     */
    public FetchResult fetch(String groupId, String memberId, int memberEpoch, List<TopicPartition> partitions) {
        synchronized (coordinator) {
            if (!coordinator.isLoaded()) {
                return new FetchResult(Errors.COORDINATOR_LOAD_IN_PROGRESS, Map.of());
            }
            Group group = coordinator.groups.get(groupId);
            Map<TopicPartition, OffsetAndMetadata> result = new LinkedHashMap<>();
            if (group == null) {
                return new FetchResult(Errors.NONE, result);
            }
            if (group instanceof ConsumerGroup cg && memberEpoch >= 0) {
                Errors error = validateConsumerGroupMember(cg, memberEpoch, memberId);
                if (error != Errors.NONE) {
                    return new FetchResult(error, Map.of());
                }
            }
            group.offsets.keySet().removeIf(tp -> !topicExists.test(tp.topic()));
            if (partitions == null) {
                result.putAll(group.offsets);
            } else {
                for (TopicPartition tp : partitions) {
                    OffsetAndMetadata commit = group.offsets.get(tp);
                    if (commit != null) {
                        result.put(tp, commit);
                    }
                }
            }
            return new FetchResult(Errors.NONE, result);
        }
    }

    /** What OffsetDelete answers: a group-level error, or one per partition. */
    public record DeleteResult(Errors error, Map<TopicPartition, Errors> partitions) {
    }

    /**
     * Deletes committed offsets of a group (OffsetDelete). Group errors: COORDINATOR_LOAD_IN_PROGRESS, GROUP_ID_NOT_FOUND,
     * NON_EMPTY_GROUP (a non-empty group that is not a consumer group), COORDINATOR_NOT_AVAILABLE; per partition:
     * GROUP_SUBSCRIBED_TO_TOPIC while a member subscribes to the topic.
     */
    public CompletableFuture<DeleteResult> delete(String groupId, List<TopicPartition> partitions) {
        synchronized (coordinator) {
            if (!coordinator.isLoaded()) {
                return GroupCoordinator.done(new DeleteResult(Errors.COORDINATOR_LOAD_IN_PROGRESS, Map.of()));
            }
            Group group = coordinator.groups.get(groupId);
            if (group == null || group instanceof ClassicGroup c && c.is(GroupState.DEAD)) {
                return GroupCoordinator.done(new DeleteResult(Errors.GROUP_ID_NOT_FOUND, Map.of()));
            }
            java.util.Set<String> subscribed = subscribedTopics(group);
            if (subscribed == null) {
                return GroupCoordinator.done(new DeleteResult(Errors.NON_EMPTY_GROUP, Map.of()));
            }
            Map<TopicPartition, Errors> results = new LinkedHashMap<>();
            List<GroupRecord> records = new ArrayList<>();
            for (TopicPartition tp : partitions) {
                if (subscribed.contains(tp.topic())) {
                    results.put(tp, Errors.GROUP_SUBSCRIBED_TO_TOPIC);
                } else {
                    results.put(tp, Errors.NONE);
                    if (group.offsets.remove(tp) != null) {
                        records.add(new GroupRecord.Offset(groupId, tp.topic(), tp.partition(), null));
                    }
                }
            }
            if (records.isEmpty()) {
                return GroupCoordinator.done(new DeleteResult(Errors.NONE, results));
            }
            return coordinator.groupLog.append(records).handle((v, error) ->
                    error == null ? new DeleteResult(Errors.NONE, results) : new DeleteResult(Errors.COORDINATOR_NOT_AVAILABLE, Map.of()));
        }
    }

    /**
     * The topics the group's members subscribe to (empty for an empty group), or null for a non-empty group whose
     * subscriptions the coordinator cannot read (a classic group of another protocol type than "consumer").
     */
    private static java.util.Set<String> subscribedTopics(Group group) {
        java.util.Set<String> topics = new java.util.HashSet<>();
        if (group instanceof ConsumerGroup cg) {
            for (ConsumerMember m : cg.members.values()) {
                topics.addAll(m.subscribedTopicNames);
                if (m.subscribedTopicRegex != null) {
                    java.util.regex.Pattern p = java.util.regex.Pattern.compile(m.subscribedTopicRegex);
                    group.offsets.keySet().forEach(tp -> {
                        if (p.matcher(tp.topic()).matches()) {
                            topics.add(tp.topic());
                        }
                    });
                }
            }
            return topics;
        }
        ClassicGroup classic = (ClassicGroup) group;
        if (classic.isEmpty()) {
            return topics;
        }
        if (!"consumer".equals(classic.protocolType) || classic.protocolName == null) {
            return null;
        }
        for (GroupMember m : classic.members.values()) {
            try {
                var subscription = org.apache.kafka.clients.consumer.internals.ConsumerProtocol.deserializeSubscription(
                        java.nio.ByteBuffer.wrap(m.metadata(classic.protocolName)));
                topics.addAll(subscription.topics());
            } catch (RuntimeException e) {
                return null;
            }
        }
        return topics;
    }

    /** Runs {@link #expireOffsets()} every offsets.retention.check.interval.ms from now on. */
    public void scheduleRetention() {
        coordinator.timer.schedule(coordinator.config.offsetsRetentionCheckIntervalMs(), () -> {
            try {
                expireOffsets();
            } catch (RuntimeException e) {
                log.warn("Expiring committed offsets failed", e);
            }
            scheduleRetention();
        });
    }

    /**
     * Deletes expired committed offsets (offsets.retention.minutes): all of a group's once it has been empty that long;
     * of a group with members, those of topics no member subscribes to any more that were committed that long ago;
     * of a group that never had members (standalone consumers, tools), each one committed that long ago. A group left
     * empty and without offsets is deleted. Returns how many offsets expired.
     */
    public int expireOffsets() {
        synchronized (coordinator) {
            if (!coordinator.isLoaded()) {
                return 0;
            }
            long now = coordinator.timer.milliseconds();
            long retention = coordinator.config.offsetsRetentionMs();
            List<GroupRecord> records = new ArrayList<>();
            int expired = 0;
            for (Group group : List.copyOf(coordinator.groups.values())) {
                java.util.Set<String> subscribed = group.isEmpty() ? java.util.Set.of() : subscribedTopics(group);
                if (subscribed == null) {
                    continue;
                }
                boolean wholeGroup = group.isEmpty() && group.emptySinceMs >= 0;
                if (wholeGroup && now - group.emptySinceMs < retention) {
                    continue;
                }
                var it = group.offsets.entrySet().iterator();
                while (it.hasNext()) {
                    var e = it.next();
                    boolean old = now - e.getValue().commitTimestampMs() >= retention;
                    if (wholeGroup || !subscribed.contains(e.getKey().topic()) && old) {
                        it.remove();
                        records.add(new GroupRecord.Offset(group.groupId, e.getKey().topic(), e.getKey().partition(), null));
                        expired++;
                    }
                }
                if (group.isEmpty() && group.offsets.isEmpty() && (wholeGroup || group.emptySinceMs < 0)) {
                    coordinator.groups.remove(group.groupId);
                    if (group instanceof ClassicGroup c) {
                        c.state = GroupState.DEAD;
                        records.add(new GroupRecord.Group(group.groupId, null));
                    } else {
                        records.add(GroupRecord.ConsumerGroupEpoch.tombstone(group.groupId));
                    }
                    log.info("Group {} is empty and its offsets expired; deleting it", group.groupId);
                }
            }
            if (!records.isEmpty()) {
                log.info("Expired {} committed offsets", expired);
                coordinator.groupLog.append(records).exceptionally(e -> {
                    log.warn("Storing expired offsets failed: {}", e.toString());
                    return null;
                });
            }
            return expired;
        }
    }
}
