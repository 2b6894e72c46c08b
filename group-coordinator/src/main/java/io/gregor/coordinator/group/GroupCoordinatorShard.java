package io.gregor.coordinator.group;

import io.gregor.coordinator.runtime.CoordinatorResult;
import io.gregor.coordinator.runtime.CoordinatorShard;
import io.gregor.coordinator.runtime.CoordinatorTime;
import io.gregor.coordinator.runtime.CoordinatorTimer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The groups of one partition of {@code __consumer_offsets}: the classic, consumer-protocol and offset managers over
 * one map of groups. Durable state changes only in {@link #replay}; operations put the records they need in
 * {@link #pending} and {@link #run} hands them to the runtime with the response. Runs on its shard's queue only.
 */
public final class GroupCoordinatorShard implements CoordinatorShard<GroupRecord> {
    private static final Logger log = LoggerFactory.getLogger(GroupCoordinatorShard.class);

    final int partition;
    final GroupConfig config;
    final CoordinatorTimer<GroupRecord> timer;
    final CoordinatorTime time;
    final TopicCatalog topics;
    final Map<String, Group> groups = new HashMap<>();
    final OffsetManager offsets;
    final ClassicGroupManager classic;
    final ConsumerGroupManager consumer;
    /** The records of the operation running now. */
    final List<GroupRecord> pending = new ArrayList<>();
    private final List<Runnable> afterCommit = new ArrayList<>();
    /** False while the partition is replayed at load; true once operations run. */
    boolean active;

    public GroupCoordinatorShard(int partition, GroupConfig config, CoordinatorTimer<GroupRecord> timer, CoordinatorTime time,
                                 TopicCatalog topics) {
        this.partition = partition;
        this.config = config;
        this.timer = timer;
        this.time = time;
        this.topics = topics;
        this.offsets = new OffsetManager(this);
        this.classic = new ClassicGroupManager(this);
        this.consumer = new ConsumerGroupManager(this);
    }

    public ClassicGroupManager classic() {
        return classic;
    }

    public ConsumerGroupManager consumer() {
        return consumer;
    }

    public OffsetManager offsets() {
        return offsets;
    }

    /** Runs an operation: the records it left in {@link #pending} and its response go to the runtime together. */
    <T> CoordinatorResult<GroupRecord, T> run(Supplier<T> operation) {
        pending.clear();
        afterCommit.clear();
        try {
            T response = operation.get();
            consumer.flush(pending);
            return result(List.of(), response);
        } finally {
            consumer.discard();
            pending.clear();
            afterCommit.clear();
        }
    }

    /** The pending records plus {@code more}, with {@code response} and whatever must run after their commit. */
    <T> CoordinatorResult<GroupRecord, T> result(List<GroupRecord> more, T response) {
        List<GroupRecord> records = new ArrayList<>(pending);
        records.addAll(more);
        pending.clear();
        List<Runnable> after = List.copyOf(afterCommit);
        afterCommit.clear();
        Runnable then = after.isEmpty() ? null : () -> after.forEach(Runnable::run);
        return new CoordinatorResult<>(records, response, then);
    }

    /** Work for after the current operation's records are committed (answering parked requests, timers). */
    void afterCommit(Runnable task) {
        afterCommit.add(task);
    }

    /** The records that delete an empty group with its offsets. */
    void deleteGroupRecords(Group group, List<GroupRecord> records) {
        offsets.deleteAll(group.groupId, records);
        if (group instanceof ClassicGroup) {
            records.add(GroupRecord.groupTombstone(group.groupId));
        } else {
            ConsumerGroupManager.tombstones((ConsumerGroup) group, records);
        }
    }

    @Override
    public void replay(long offset, GroupRecord record) {
        switch (record.type()) {
            case OFFSET_COMMIT, LEGACY_OFFSET_COMMIT -> offsets.replay(offset, record);
            case GROUP_METADATA -> classic.replay(record);
            case CONSUMER_GROUP_METADATA, CONSUMER_GROUP_MEMBER_METADATA, CONSUMER_GROUP_CURRENT_MEMBER_ASSIGNMENT,
                 CONSUMER_GROUP_TARGET_ASSIGNMENT_MEMBER, CONSUMER_GROUP_TARGET_ASSIGNMENT_METADATA -> consumer.replay(record);
            default -> log.debug("Ignoring a {} record of group {} at offset {} of partition {}", record.type(),
                    record.groupId(), offset, partition);
        }
    }

    @Override
    public void replayTransactional(long offset, long producerId, short producerEpoch, GroupRecord record) {
        if (record.type() == org.apache.kafka.coordinator.group.generated.CoordinatorRecordType.OFFSET_COMMIT) {
            offsets.replayTransactional(offset, producerId, record);
        } else {
            replay(offset, record);
        }
    }

    @Override
    public void replayEndTransaction(long offset, long producerId, short producerEpoch, boolean commit) {
        offsets.replayEndTransaction(producerId, commit);
    }

    @Override
    public void onLoaded() {
        active = true;
        classic.onLoaded();
        consumer.onLoaded();
        offsets.scheduleRetention();
    }

    @Override
    public void onUnloaded() {
        active = false;
        classic.onUnloaded();
    }
}
