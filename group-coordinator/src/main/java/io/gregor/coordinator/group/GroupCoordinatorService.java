package io.gregor.coordinator.group;

import io.gregor.coordinator.group.ClassicGroupManager.GroupDescription;
import io.gregor.coordinator.group.ClassicGroupManager.GroupListing;
import io.gregor.coordinator.group.ClassicGroupManager.JoinRequest;
import io.gregor.coordinator.group.ClassicGroupManager.JoinResult;
import io.gregor.coordinator.group.ClassicGroupManager.LeaveResult;
import io.gregor.coordinator.group.ClassicGroupManager.LeavingMember;
import io.gregor.coordinator.group.ClassicGroupManager.SyncResult;
import io.gregor.coordinator.group.ConsumerGroupManager.Heartbeat;
import io.gregor.coordinator.group.ConsumerGroupManager.HeartbeatResult;
import io.gregor.coordinator.group.OffsetManager.DeleteResult;
import io.gregor.coordinator.group.OffsetManager.FetchResult;
import io.gregor.coordinator.runtime.CoordinatorLog;
import io.gregor.coordinator.runtime.CoordinatorRuntime;
import io.gregor.coordinator.runtime.CoordinatorShardBuilder;
import io.gregor.coordinator.runtime.CoordinatorTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.function.Function;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.utils.Utils;

/**
 * The group coordinator as request handlers see it: each group lives in the shard of partition
 * {@code abs(groupId.hashCode()) % partitions} of {@code __consumer_offsets} (as in Kafka), and every call runs as an
 * operation of that shard on the coordinator runtime, answered once its records are committed. Errors of the
 * runtime (the partition is loading, not here, or its records could not be written) come back as Kafka's error codes
 * in each API's own result type. Thread-safe.
 */
public final class GroupCoordinatorService implements AutoCloseable {
    public static final String TOPIC = "__consumer_offsets";

    /** The partition count of {@code __consumer_offsets}; 0 until {@link #startup} (the node is still starting). */
    private volatile int numPartitions;
    private final CoordinatorRuntime<GroupCoordinatorShard, GroupRecord> runtime;

    /**
     * A service that answers COORDINATOR_LOAD_IN_PROGRESS until {@link #startup} tells it how many partitions
     * {@code __consumer_offsets} has (the node learns it once its metadata is replayed).
     *
     * @param pool runs the shards' queues
     */
    public GroupCoordinatorService(GroupConfig config, CoordinatorLog<GroupRecord> log, TopicCatalog topics,
                                   CoordinatorTime time, Executor pool) {
        CoordinatorShardBuilder<GroupCoordinatorShard, GroupRecord> builder = (partition, timer, t) ->
                new GroupCoordinatorShard(partition, config, timer, t, topics);
        this.runtime = new CoordinatorRuntime<>("group", builder, log, time, pool);
    }

    /** As the other constructor, for {@code numPartitions} partitions at once (tests). */
    public GroupCoordinatorService(GroupConfig config, CoordinatorLog<GroupRecord> log, TopicCatalog topics,
                                   CoordinatorTime time, Executor pool, int numPartitions) {
        this(config, log, topics, time, pool);
        startup(numPartitions);
    }

    /** Sets the partition count of {@code __consumer_offsets}, once; partitions are then loaded one by one. */
    public void startup(int partitions) {
        if (partitions < 1) {
            throw new IllegalArgumentException("__consumer_offsets needs at least one partition, not " + partitions);
        }
        if (numPartitions != 0 && numPartitions != partitions) {
            throw new IllegalStateException("__consumer_offsets has " + numPartitions + " partitions already");
        }
        numPartitions = partitions;
    }

    /**
     * The partition of {@code __consumer_offsets} that holds {@code groupId}, as Kafka computes it; -1 while the
     * partition count is not known yet.
     */
    public int partitionFor(String groupId) {
        int n = numPartitions;
        return n == 0 ? -1 : Utils.abs(groupId.hashCode()) % n;
    }

    public int numPartitions() {
        return numPartitions;
    }

    /** Loads (replays) partition {@code partition} for leader epoch {@code epoch}; completes with the records replayed. */
    public CompletableFuture<Long> load(int partition, int epoch) {
        return runtime.scheduleLoad(partition, epoch);
    }

    /** Drops partition {@code partition} (its leadership moved) unless it was loaded for a newer epoch. */
    public CompletableFuture<Void> unload(int partition, int epoch) {
        return runtime.scheduleUnload(partition, epoch);
    }

    /** Whether {@code partition} is loaded and serving. */
    public boolean isActive(int partition) {
        return runtime.state(partition) == CoordinatorRuntime.ShardState.ACTIVE;
    }

    /** Whether this node holds {@code partition}, loaded or loading (FindCoordinator names it then). */
    public boolean isHere(int partition) {
        if (partition < 0) {
            return numPartitions == 0; // still starting: requests are told the partition is loading
        }
        CoordinatorRuntime.ShardState state = runtime.state(partition);
        return state == CoordinatorRuntime.ShardState.ACTIVE || state == CoordinatorRuntime.ShardState.LOADING;
    }

    // ---- Classic groups ------------------------------------------------------------------------------------------

    public CompletableFuture<JoinResult> join(JoinRequest request) {
        if (request.groupId() == null || request.groupId().isEmpty()) {
            return CompletableFuture.completedFuture(JoinResult.error(Errors.INVALID_GROUP_ID, request.memberId()));
        }
        return write("join-group", request.groupId(), s -> s.classic.join(request))
                .thenCompose(f -> f)
                .exceptionally(e -> JoinResult.error(error(e), request.memberId()));
    }

    public CompletableFuture<SyncResult> sync(String groupId, int generationId, String memberId, String groupInstanceId,
                                              String protocolType, String protocolName, Map<String, byte[]> assignments) {
        if (groupId == null || groupId.isEmpty()) {
            return CompletableFuture.completedFuture(SyncResult.error(Errors.INVALID_GROUP_ID));
        }
        return write("sync-group", groupId, s -> s.classic.sync(groupId, generationId, memberId, groupInstanceId, protocolType,
                protocolName, assignments))
                .thenCompose(f -> f)
                .exceptionally(e -> SyncResult.error(error(e)));
    }

    public CompletableFuture<Errors> heartbeat(String groupId, int generationId, String memberId, String groupInstanceId) {
        if (groupId == null || groupId.isEmpty()) {
            return CompletableFuture.completedFuture(Errors.INVALID_GROUP_ID);
        }
        return write("heartbeat", groupId, s -> s.classic.heartbeat(groupId, generationId, memberId, groupInstanceId))
                .exceptionally(GroupCoordinatorService::error);
    }

    /** Per member results; when the whole call fails, every member gets the error. */
    public CompletableFuture<List<LeaveResult>> leave(String groupId, List<LeavingMember> leaving) {
        return write("leave-group", groupId, s -> s.classic.leave(groupId, leaving))
                .exceptionally(e -> leaving.stream().map(l -> new LeaveResult(l.memberId(), l.groupInstanceId(), error(e))).toList());
    }

    public CompletableFuture<GroupDescription> describe(String groupId) {
        return read("describe-groups", groupId, s -> s.classic.describe(groupId))
                .exceptionally(e -> new GroupDescription(groupId, error(e), "", "", "", List.of()));
    }

    /** What ListGroups answers: the groups of every partition, or the first error of a partition. */
    public record ListResult(Errors error, List<GroupListing> groups) {
    }

    public CompletableFuture<ListResult> list(List<String> states, List<String> types) {
        List<CompletableFuture<List<GroupListing>>> each = new ArrayList<>();
        if (numPartitions == 0) {
            return CompletableFuture.completedFuture(new ListResult(Errors.COORDINATOR_LOAD_IN_PROGRESS, List.of()));
        }
        for (int p = 0; p < numPartitions; p++) {
            each.add(runtime.scheduleReadOperation("list-groups", p, s -> s.classic.list(states, types)));
        }
        return CompletableFuture.allOf(each.toArray(CompletableFuture[]::new)).handle((v, e) -> {
            List<GroupListing> all = new ArrayList<>();
            for (CompletableFuture<List<GroupListing>> f : each) {
                if (f.isCompletedExceptionally()) {
                    return new ListResult(error(f.handle((x, err) -> err).join()), List.of());
                }
                all.addAll(f.join());
            }
            return new ListResult(Errors.NONE, all);
        });
    }

    /** Errors per group: GROUP_ID_NOT_FOUND, NON_EMPTY_GROUP, INVALID_GROUP_ID, or the partition's error. */
    public CompletableFuture<Map<String, Errors>> delete(List<String> groupIds) {
        Map<Integer, List<String>> byPartition = new TreeMap<>();
        Map<String, Errors> results = new LinkedHashMap<>();
        for (String id : groupIds) {
            results.put(id, Errors.NONE);
            if (id == null || id.isEmpty()) {
                results.put(id, Errors.INVALID_GROUP_ID);
            } else {
                byPartition.computeIfAbsent(partitionFor(id), p -> new ArrayList<>()).add(id);
            }
        }
        List<CompletableFuture<Void>> each = new ArrayList<>();
        byPartition.forEach((partition, ids) -> each.add(onShard(partition, () -> runtime.scheduleWriteOperation("delete-groups",
                        partition, s -> s.run(() -> s.classic.delete(ids))))
                .handle((r, e) -> {
                    synchronized (results) {
                        ids.forEach(id -> results.put(id, e == null ? r.get(id) : error(e)));
                    }
                    return null;
                })));
        return CompletableFuture.allOf(each.toArray(CompletableFuture[]::new)).thenApply(v -> {
            synchronized (results) {
                return new LinkedHashMap<>(results);
            }
        });
    }

    // ---- Offsets -------------------------------------------------------------------------------------------------

    /** Per partition errors; when the whole call fails (not coordinator, not written), every partition gets the error. */
    public CompletableFuture<Map<TopicPartition, Errors>> commitOffsets(String groupId, int generationId, String memberId,
                                                                       String groupInstanceId,
                                                                       Map<TopicPartition, OffsetAndMetadata> offsets) {
        if (groupId == null || groupId.isEmpty()) {
            Map<TopicPartition, Errors> invalid = new LinkedHashMap<>();
            offsets.keySet().forEach(tp -> invalid.put(tp, Errors.INVALID_GROUP_ID));
            return CompletableFuture.completedFuture(invalid);
        }
        return write("offset-commit", groupId, s -> s.offsets.commit(groupId, generationId, memberId, groupInstanceId, offsets,
                s.pending))
                .exceptionally(e -> {
                    Map<TopicPartition, Errors> failed = new LinkedHashMap<>();
                    offsets.keySet().forEach(tp -> failed.put(tp, error(e)));
                    return failed;
                });
    }

    /** The committed offsets of {@code partitions} (null: all); with a member epoch &ge; 0 the member is checked. */
    public CompletableFuture<FetchResult> fetchOffsets(String groupId, String memberId, int memberEpoch,
                                                       List<TopicPartition> partitions) {
        return fetchOffsets(groupId, memberId, memberEpoch, partitions, false);
    }

    /** As the other; {@code requireStable} (OffsetFetch v7+) leaves out partitions that open transactions commit. */
    public CompletableFuture<FetchResult> fetchOffsets(String groupId, String memberId, int memberEpoch,
                                                       List<TopicPartition> partitions, boolean requireStable) {
        if (groupId == null) {
            return CompletableFuture.completedFuture(new FetchResult(Errors.INVALID_GROUP_ID, Map.of()));
        }
        return read("offset-fetch", groupId, s -> s.offsets.fetch(groupId, memberId, memberEpoch, partitions,
                requireStable)).exceptionally(e -> new FetchResult(error(e), Map.of()));
    }

    /**
     * TxnOffsetCommit: offsets committed in producer {@code producerId}'s transaction, written as transactional
     * records of the group's partition; they become the group's offsets when the transaction commits.
     */
    public CompletableFuture<Map<TopicPartition, Errors>> commitTransactionalOffsets(String groupId, long producerId,
                                                                                    short producerEpoch, int generationId,
                                                                                    String memberId, String groupInstanceId,
                                                                                    Map<TopicPartition, OffsetAndMetadata> offsets) {
        if (groupId == null || groupId.isEmpty()) {
            Map<TopicPartition, Errors> invalid = new LinkedHashMap<>();
            offsets.keySet().forEach(tp -> invalid.put(tp, Errors.INVALID_GROUP_ID));
            return CompletableFuture.completedFuture(invalid);
        }
        int partition = partitionFor(groupId);
        return onShard(partition, () -> runtime.scheduleTransactionalWriteOperation("txn-offset-commit", partition,
                        producerId, producerEpoch, s -> s.run(() -> s.offsets.commit(groupId, generationId, memberId,
                                groupInstanceId, offsets, s.pending, true))))
                .exceptionally(e -> {
                    Map<TopicPartition, Errors> failed = new LinkedHashMap<>();
                    offsets.keySet().forEach(tp -> failed.put(tp, error(e)));
                    return failed;
                });
    }

    /**
     * Writes the commit or abort marker of producer {@code producerId}'s transaction to {@code partition} of
     * {@code __consumer_offsets} (WriteTxnMarkers), which makes its offsets count or drops them.
     */
    public CompletableFuture<Errors> completeTransaction(int partition, long producerId, short producerEpoch,
                                                         boolean commit, int coordinatorEpoch) {
        return runtime.scheduleTransactionCompletion(commit ? "commit-offsets-txn" : "abort-offsets-txn", partition,
                        producerId, producerEpoch, commit, coordinatorEpoch)
                .handle((v, e) -> e == null ? Errors.NONE : error(e));
    }

    public CompletableFuture<DeleteResult> deleteOffsets(String groupId, List<TopicPartition> partitions) {
        if (groupId == null || groupId.isEmpty()) {
            return CompletableFuture.completedFuture(new DeleteResult(Errors.INVALID_GROUP_ID, Map.of()));
        }
        return write("offset-delete", groupId, s -> s.offsets.delete(groupId, partitions, s.pending))
                .exceptionally(e -> new DeleteResult(error(e), Map.of()));
    }

    // ---- Consumer groups (KIP-848) -------------------------------------------------------------------------------

    public CompletableFuture<HeartbeatResult> consumerGroupHeartbeat(Heartbeat request) {
        if (request.groupId() == null || request.groupId().isEmpty()) {
            return CompletableFuture.completedFuture(HeartbeatResult.error(Errors.INVALID_REQUEST, "GroupId can't be empty."));
        }
        return write("consumer-group-heartbeat", request.groupId(), s -> s.consumer.heartbeat(request))
                .exceptionally(e -> HeartbeatResult.error(error(e), null));
    }

    public CompletableFuture<List<ConsumerGroupManager.GroupDescription>> consumerGroupDescribe(List<String> groupIds) {
        List<CompletableFuture<ConsumerGroupManager.GroupDescription>> each = new ArrayList<>();
        for (String id : groupIds) {
            each.add(read("consumer-group-describe", id, s -> s.consumer.describe(id))
                    .exceptionally(e -> new ConsumerGroupManager.GroupDescription(id, error(e), null, "", 0, 0, "", List.of())));
        }
        return CompletableFuture.allOf(each.toArray(CompletableFuture[]::new))
                .thenApply(v -> each.stream().map(CompletableFuture::join).toList());
    }

    // ---- Plumbing ------------------------------------------------------------------------------------------------

    private <T> CompletableFuture<T> write(String name, String groupId, Function<GroupCoordinatorShard, T> operation) {
        int partition = partitionFor(groupId);
        return onShard(partition, () -> runtime.scheduleWriteOperation(name, partition, s -> s.run(() -> operation.apply(s))));
    }

    private <T> CompletableFuture<T> read(String name, String groupId, Function<GroupCoordinatorShard, T> operation) {
        int partition = partitionFor(groupId == null ? "" : groupId);
        return onShard(partition, () -> runtime.scheduleReadOperation(name, partition, operation));
    }

    /** The operation, or COORDINATOR_LOAD_IN_PROGRESS while the partition count is not known yet. */
    private static <T> CompletableFuture<T> onShard(int partition, java.util.function.Supplier<CompletableFuture<T>> operation) {
        if (partition < 0) {
            return CompletableFuture.failedFuture(new org.apache.kafka.common.errors.CoordinatorLoadInProgressException(
                    "The group coordinator is starting"));
        }
        return operation.get();
    }

    /** The Kafka error of a failed operation (NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS, ...). */
    static Errors error(Throwable t) {
        Throwable cause = t;
        while (cause instanceof CompletionException && cause.getCause() != null) {
            cause = cause.getCause();
        }
        return Errors.forException(cause);
    }

    @Override
    public void close() {
        runtime.close();
    }
}
