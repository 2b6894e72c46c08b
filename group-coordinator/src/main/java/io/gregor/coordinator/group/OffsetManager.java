package io.gregor.coordinator.group;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.coordinator.group.generated.OffsetCommitKey;
import org.apache.kafka.coordinator.group.generated.OffsetCommitValue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The committed offsets of one shard's groups, kept apart from the groups (as Kafka's offset manager) so that they
 * survive a group changing protocol. They change only by replaying OffsetCommit records: a commit returns its records
 * and is answered once they are durable.
 */
public final class OffsetManager {
    private static final Logger log = LoggerFactory.getLogger(OffsetManager.class);
    private static final String RETENTION_TIMER = "offsets-retention";

    private final GroupCoordinatorShard shard;
    /** Offsets by group id; a group without offsets has no entry. */
    private final Map<String, Map<TopicPartition, OffsetAndMetadata>> offsets = new HashMap<>();
    /** The log offset of the record each committed offset comes from (a transaction's commit never undoes a later one). */
    private final Map<String, Map<TopicPartition, Long>> committedAt = new HashMap<>();
    /** Offsets of open transactions (TxnOffsetCommit), by producer id, then group: they count once committed. */
    private final Map<Long, Map<String, Map<TopicPartition, Pending>>> transactional = new HashMap<>();

    /** A transactional offset and the log offset of its record. */
    private record Pending(OffsetAndMetadata commit, long logOffset) {
    }

    OffsetManager(GroupCoordinatorShard shard) {
        this.shard = shard;
    }

    /**
     * What a fetch returns: a group-level error, or the offsets (absent partitions have none); {@code unstable} are
     * the partitions that a fetch requiring stable offsets may not be answered for yet (an open transaction commits
     * an offset for them: UNSTABLE_OFFSET_COMMIT, KIP-447).
     */
    public record FetchResult(Errors error, Map<TopicPartition, OffsetAndMetadata> offsets, Set<TopicPartition> unstable) {
        public FetchResult(Errors error, Map<TopicPartition, OffsetAndMetadata> offsets) {
            this(error, offsets, Set.of());
        }
    }

    /** What OffsetDelete answers: a group-level error, or one per partition. */
    public record DeleteResult(Errors error, Map<TopicPartition, Errors> partitions) {
    }

    void replay(long logOffset, GroupRecord record) {
        OffsetCommitKey key = (OffsetCommitKey) record.key();
        TopicPartition tp = new TopicPartition(key.topic(), key.partition());
        if (record.isTombstone()) {
            Map<TopicPartition, OffsetAndMetadata> group = offsets.get(key.group());
            if (group != null) {
                group.remove(tp);
                committedAt.getOrDefault(key.group(), new HashMap<>()).remove(tp);
                if (group.isEmpty()) {
                    offsets.remove(key.group());
                    committedAt.remove(key.group());
                }
            }
            return;
        }
        put(key.group(), tp, value(record), logOffset);
    }

    private static OffsetAndMetadata value(GroupRecord record) {
        OffsetCommitValue value = (OffsetCommitValue) record.value();
        return new OffsetAndMetadata(value.offset(), value.leaderEpoch(), value.metadata(), value.commitTimestamp());
    }

    private void put(String groupId, TopicPartition tp, OffsetAndMetadata commit, long logOffset) {
        offsets.computeIfAbsent(groupId, g -> new HashMap<>()).put(tp, commit);
        committedAt.computeIfAbsent(groupId, g -> new HashMap<>()).put(tp, logOffset);
        // Offsets of a group nobody joined (standalone consumers, tools) make it an empty classic group, as in Kafka.
        shard.groups.computeIfAbsent(groupId, ClassicGroup::new);
    }

    /** An offset committed in producer {@code producerId}'s transaction: it waits for the transaction's marker. */
    void replayTransactional(long logOffset, long producerId, GroupRecord record) {
        if (record.isTombstone()) {
            replay(logOffset, record);
            return;
        }
        OffsetCommitKey key = (OffsetCommitKey) record.key();
        transactional.computeIfAbsent(producerId, p -> new HashMap<>()).computeIfAbsent(key.group(), g -> new HashMap<>())
                .put(new TopicPartition(key.topic(), key.partition()), new Pending(value(record), logOffset));
    }

    /**
     * The marker of producer {@code producerId}'s transaction: on commit its offsets become the committed ones (unless
     * a later plain commit of the same partition is already there), on abort they are dropped.
     */
    void replayEndTransaction(long producerId, boolean commit) {
        Map<String, Map<TopicPartition, Pending>> pending = transactional.remove(producerId);
        if (pending == null || !commit) {
            return;
        }
        pending.forEach((groupId, byPartition) -> byPartition.forEach((tp, p) -> {
            Long current = committedAt.getOrDefault(groupId, Map.of()).get(tp);
            if (current == null || current < p.logOffset()) {
                put(groupId, tp, p.commit(), p.logOffset());
            }
        }));
    }

    /** Whether an open transaction commits an offset of {@code groupId} for {@code tp}. */
    private boolean hasPending(String groupId, TopicPartition tp) {
        for (Map<String, Map<TopicPartition, Pending>> byGroup : transactional.values()) {
            Map<TopicPartition, Pending> pending = byGroup.get(groupId);
            if (pending != null && (tp == null || pending.containsKey(tp))) {
                return true;
            }
        }
        return false;
    }

    /** The committed offsets of a group (empty when it has none). */
    Map<TopicPartition, OffsetAndMetadata> of(String groupId) {
        return offsets.getOrDefault(groupId, Map.of());
    }

    /** Tombstones for every committed offset of {@code groupId} (the group is being deleted). */
    void deleteAll(String groupId, List<GroupRecord> records) {
        of(groupId).keySet().forEach(tp -> records.add(GroupRecord.offsetTombstone(groupId, tp.topic(), tp.partition())));
    }

    /**
     * Commits offsets for a member of the current generation, or, with generation -1 and no member id, for an empty
     * or unknown group (simple consumers, admin tools). Errors (the same for every partition): UNKNOWN_MEMBER_ID,
     * ILLEGAL_GENERATION, REBALANCE_IN_PROGRESS, FENCED_INSTANCE_ID, STALE_MEMBER_EPOCH, INVALID_GROUP_ID; per
     * partition: OFFSET_METADATA_TOO_LARGE. The commit timestamp is the coordinator's clock, whatever the caller set.
     */
    Map<TopicPartition, Errors> commit(String groupId, int generationId, String memberId, String groupInstanceId,
                                       Map<TopicPartition, OffsetAndMetadata> requested, List<GroupRecord> records) {
        return commit(groupId, generationId, memberId, groupInstanceId, requested, records, false);
    }

    /**
     * As the plain commit; a {@code transactional} one (TxnOffsetCommit) from a producer that does not name its
     * consumer's generation and member (generation -1, no member id: clients before KIP-447) is not checked against
     * the group's members, as Kafka allows.
     */
    Map<TopicPartition, Errors> commit(String groupId, int generationId, String memberId, String groupInstanceId,
                                       Map<TopicPartition, OffsetAndMetadata> requested, List<GroupRecord> records,
                                       boolean transactional) {
        boolean unchecked = transactional && generationId < 0 && (memberId == null || memberId.isEmpty())
                && groupId != null && !groupId.isEmpty();
        Errors error = unchecked ? Errors.NONE : validateCommit(groupId, generationId, memberId, groupInstanceId);
        Map<TopicPartition, Errors> results = new LinkedHashMap<>();
        if (error != Errors.NONE) {
            requested.keySet().forEach(tp -> results.put(tp, error));
            return results;
        }
        long now = shard.time.milliseconds();
        requested.forEach((tp, r) -> {
            if (r.metadata() != null && r.metadata().length() > shard.config.offsetMetadataMaxBytes()) {
                results.put(tp, Errors.OFFSET_METADATA_TOO_LARGE);
            } else {
                results.put(tp, Errors.NONE);
                records.add(GroupRecord.offsetCommit(groupId, tp.topic(), tp.partition(),
                        new OffsetAndMetadata(r.offset(), r.leaderEpoch(), r.metadata(), now)));
            }
        });
        return results;
    }

    private Errors validateCommit(String groupId, int generationId, String memberId, String groupInstanceId) {
        if (groupId == null || groupId.isEmpty()) {
            return Errors.INVALID_GROUP_ID;
        }
        Group found = shard.groups.get(groupId);
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

    /**
     * The committed offsets of {@code partitions}, or of every partition when null; an unknown group has none, and
     * offsets of topics that no longer exist are left out. With a member epoch (OffsetFetch v9+) the member of a
     * consumer-protocol group is checked: UNKNOWN_MEMBER_ID, STALE_MEMBER_EPOCH.
     */
    FetchResult fetch(String groupId, String memberId, int memberEpoch, List<TopicPartition> partitions) {
        return fetch(groupId, memberId, memberEpoch, partitions, false);
    }

    /** As {@link #fetch(String, String, int, List)}; with {@code requireStable} partitions of open transactions are unstable. */
    FetchResult fetch(String groupId, String memberId, int memberEpoch, List<TopicPartition> partitions,
                      boolean requireStable) {
        FetchResult found = fetchCommitted(groupId, memberId, memberEpoch, partitions);
        if (!requireStable || found.error() != Errors.NONE || transactional.isEmpty()) {
            return found;
        }
        Set<TopicPartition> unstable = new HashSet<>();
        if (partitions == null) {
            for (Map<String, Map<TopicPartition, Pending>> byGroup : transactional.values()) {
                unstable.addAll(byGroup.getOrDefault(groupId, Map.of()).keySet());
            }
        } else {
            for (TopicPartition tp : partitions) {
                if (hasPending(groupId, tp)) {
                    unstable.add(tp);
                }
            }
        }
        Map<TopicPartition, OffsetAndMetadata> stable = new LinkedHashMap<>(found.offsets());
        unstable.forEach(stable::remove);
        return new FetchResult(Errors.NONE, stable, unstable);
    }

    private FetchResult fetchCommitted(String groupId, String memberId, int memberEpoch, List<TopicPartition> partitions) {
        Map<TopicPartition, OffsetAndMetadata> result = new LinkedHashMap<>();
        if (shard.groups.get(groupId) instanceof ConsumerGroup cg && memberEpoch >= 0) {
            Errors error = validateConsumerGroupMember(cg, memberEpoch, memberId);
            if (error != Errors.NONE) {
                return new FetchResult(error, Map.of());
            }
        }
        Map<TopicPartition, OffsetAndMetadata> stored = of(groupId);
        if (partitions == null) {
            stored.forEach((tp, commit) -> {
                if (shard.topics.topic(tp.topic()) != null) {
                    result.put(tp, commit);
                }
            });
        } else {
            for (TopicPartition tp : partitions) {
                OffsetAndMetadata commit = stored.get(tp);
                if (commit != null && shard.topics.topic(tp.topic()) != null) {
                    result.put(tp, commit);
                }
            }
        }
        return new FetchResult(Errors.NONE, result);
    }

    /**
     * Deletes committed offsets of a group (OffsetDelete). Group errors: GROUP_ID_NOT_FOUND, NON_EMPTY_GROUP (a
     * non-empty group whose subscriptions cannot be read); per partition: GROUP_SUBSCRIBED_TO_TOPIC while a member
     * subscribes to the topic.
     */
    DeleteResult delete(String groupId, List<TopicPartition> partitions, List<GroupRecord> records) {
        Group group = shard.groups.get(groupId);
        if (group == null || group instanceof ClassicGroup c && c.is(GroupState.DEAD)) {
            return new DeleteResult(Errors.GROUP_ID_NOT_FOUND, Map.of());
        }
        Set<String> subscribed = subscribedTopics(group);
        if (subscribed == null) {
            return new DeleteResult(Errors.NON_EMPTY_GROUP, Map.of());
        }
        Map<TopicPartition, Errors> results = new LinkedHashMap<>();
        Map<TopicPartition, OffsetAndMetadata> stored = of(groupId);
        for (TopicPartition tp : partitions) {
            if (subscribed.contains(tp.topic())) {
                results.put(tp, Errors.GROUP_SUBSCRIBED_TO_TOPIC);
            } else {
                results.put(tp, Errors.NONE);
                if (stored.containsKey(tp)) {
                    records.add(GroupRecord.offsetTombstone(groupId, tp.topic(), tp.partition()));
                }
            }
        }
        return new DeleteResult(Errors.NONE, results);
    }

    /**
     * The topics the group's members subscribe to (empty for an empty group), or null for a non-empty group whose
     * subscriptions the coordinator cannot read (a classic group of another protocol type than "consumer").
     */
    private Set<String> subscribedTopics(Group group) {
        Set<String> topics = new HashSet<>();
        if (group instanceof ConsumerGroup cg) {
            for (ConsumerMember m : cg.members.values()) {
                topics.addAll(m.subscribedTopicNames);
                if (m.subscribedTopicRegex != null) {
                    Pattern p = Pattern.compile(m.subscribedTopicRegex);
                    of(group.groupId).keySet().forEach(tp -> {
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

    /** Runs {@link #expireOffsets} every offsets.retention.check.interval.ms, as a timer of the shard. */
    void scheduleRetention() {
        shard.timer.schedule(RETENTION_TIMER, shard.config.offsetsRetentionCheckIntervalMs(), () -> {
            List<GroupRecord> records = new ArrayList<>();
            try {
                expireOffsets(records);
            } catch (RuntimeException e) {
                log.warn("Expiring committed offsets failed", e);
                records.clear();
            }
            scheduleRetention();
            return shard.result(records, null);
        });
    }

    /**
     * Deletes expired committed offsets (offsets.retention.minutes), as Kafka does: of a classic group that has been
     * empty that long, all of them; otherwise each one committed that long ago whose topic no member subscribes to (for
     * an empty group, any topic). Offsets of topics that no longer exist go at once. A group left empty and without
     * offsets is deleted. Returns how many offsets expired; the tombstones go to {@code records}.
     */
    int expireOffsets(List<GroupRecord> records) {
        long now = shard.time.milliseconds();
        long retention = shard.config.offsetsRetentionMs();
        int expired = 0;
        Set<String> groupIds = new HashSet<>(offsets.keySet());
        groupIds.addAll(shard.groups.keySet());
        for (String groupId : groupIds) {
            Group group = shard.groups.get(groupId);
            Set<String> subscribed = group == null || group.isEmpty() ? Set.of() : subscribedTopics(group);
            if (subscribed == null) {
                continue;
            }
            Map<TopicPartition, OffsetAndMetadata> stored = of(groupId);
            boolean emptyClassic = group instanceof ClassicGroup c && c.isEmpty() && c.emptySinceMs >= 0;
            int left = stored.size();
            for (Map.Entry<TopicPartition, OffsetAndMetadata> e : stored.entrySet()) {
                boolean topicGone = shard.topics.topic(e.getKey().topic()) == null;
                long base = emptyClassic ? ((ClassicGroup) group).emptySinceMs : e.getValue().commitTimestampMs();
                boolean old = now - base >= retention;
                if (topicGone || old && !subscribed.contains(e.getKey().topic())) {
                    records.add(GroupRecord.offsetTombstone(groupId, e.getKey().topic(), e.getKey().partition()));
                    expired++;
                    left--;
                }
            }
            if (group != null && group.isEmpty() && left == 0 && (stored.size() > 0 || groupIdle(group, now, retention))) {
                shard.deleteGroupRecords(group, records);
                log.info("Group {} is empty and has no offsets left; deleting it", groupId);
            }
        }
        if (expired > 0) {
            log.info("Expiring {} committed offsets", expired);
        }
        return expired;
    }

    /** An empty group that never had offsets goes once it has been empty for the retention period. */
    private static boolean groupIdle(Group group, long now, long retention) {
        return group instanceof ClassicGroup c && c.emptySinceMs >= 0 && now - c.emptySinceMs >= retention;
    }
}
