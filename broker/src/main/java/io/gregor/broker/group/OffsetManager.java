package io.gregor.broker.group;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Predicate;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.protocol.Errors;

/**
 * Committed offsets of the coordinator's groups. A commit is appended to {@code __consumer_offsets} and becomes
 * visible (and is answered) only once durable. Shares the coordinator's lock.
 */
public final class OffsetManager {
    /** Kafka's offset.metadata.max.bytes default. */
    static final int MAX_METADATA_BYTES = 4096;

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
            ClassicGroup group = coordinator.groups.computeIfAbsent(groupId, ClassicGroup::new);
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
        ClassicGroup group = coordinator.groups.get(groupId);
        if (group == null) {
            return generationId < 0 ? Errors.NONE : Errors.ILLEGAL_GENERATION;
        }
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

    /** The committed offsets of {@code partitions}, or of every partition when null. An unknown group has none. */
    public FetchResult fetch(String groupId, List<TopicPartition> partitions) {
        synchronized (coordinator) {
            if (!coordinator.isLoaded()) {
                return new FetchResult(Errors.COORDINATOR_LOAD_IN_PROGRESS, Map.of());
            }
            ClassicGroup group = coordinator.groups.get(groupId);
            Map<TopicPartition, OffsetAndMetadata> result = new LinkedHashMap<>();
            if (group == null) {
                return new FetchResult(Errors.NONE, result);
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
}
