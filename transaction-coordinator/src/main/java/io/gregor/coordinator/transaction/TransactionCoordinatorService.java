package io.gregor.coordinator.transaction;

import io.gregor.coordinator.runtime.CoordinatorLog;
import io.gregor.coordinator.runtime.CoordinatorRuntime;
import io.gregor.coordinator.runtime.CoordinatorShardBuilder;
import io.gregor.coordinator.runtime.CoordinatorTime;
import io.gregor.coordinator.transaction.TransactionCoordinatorShard.InitResult;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.function.Supplier;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.utils.Utils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The transaction coordinator as request handlers see it: each transactional id lives in the shard of partition
 * {@code abs(transactionalId.hashCode()) % partitions} of {@code __transaction_state} (as in Kafka), and every call is
 * an operation of that shard on the coordinator runtime, answered once its record is committed. A decided transaction
 * has its markers written by the {@link TransactionMarkerWriter} and is then completed by another operation; a shard
 * that loads (a new coordinator after a failover) finishes the decided transactions it finds. Thread-safe.
 */
public final class TransactionCoordinatorService implements AutoCloseable {
    public static final String TOPIC = "__transaction_state";
    private static final Logger log = LoggerFactory.getLogger(TransactionCoordinatorService.class);

    private final int maxTimeoutMs;
    private final TransactionMarkerWriter markers;
    private final CoordinatorRuntime<TransactionCoordinatorShard, TransactionRecord> runtime;
    /** The leader epoch each loaded partition was loaded for: the coordinator epoch of its markers. */
    private final Map<Integer, Integer> epochs = new ConcurrentHashMap<>();
    /** Decided transactions whose markers are being written, by transactional id: completes when they complete. */
    private final Map<String, CompletableFuture<Void>> completing = new ConcurrentHashMap<>();
    private final CoordinatorTime time;
    private volatile int numPartitions;
    private volatile boolean closed;

    /** @param pool runs the shards' queues */
    public TransactionCoordinatorService(TransactionConfig config, CoordinatorLog<TransactionRecord> log,
                                         TransactionMarkerWriter markers, CoordinatorTime time, Executor pool) {
        this.maxTimeoutMs = config.maxTimeoutMs();
        this.markers = markers;
        this.time = time;
        CoordinatorShardBuilder<TransactionCoordinatorShard, TransactionRecord> builder = (partition, timer, t) ->
                new TransactionCoordinatorShard(partition, timer, t, this::writeMarkers, config);
        this.runtime = new CoordinatorRuntime<>("transaction", builder, log, time, pool);
    }

    /** Sets the partition count of {@code __transaction_state} (once it exists). */
    public void startup(int partitions) {
        if (partitions < 1) {
            throw new IllegalArgumentException(TOPIC + " needs at least one partition, not " + partitions);
        }
        if (numPartitions != 0 && numPartitions != partitions) {
            throw new IllegalStateException(TOPIC + " has " + numPartitions + " partitions already");
        }
        numPartitions = partitions;
    }

    public int numPartitions() {
        return numPartitions;
    }

    /** The partition of {@code __transaction_state} that holds {@code transactionalId}; -1 before {@link #startup}. */
    public int partitionFor(String transactionalId) {
        int n = numPartitions;
        return n == 0 ? -1 : Utils.abs(transactionalId.hashCode()) % n;
    }

    public CompletableFuture<Long> load(int partition, int epoch) {
        epochs.put(partition, epoch);
        return runtime.scheduleLoad(partition, epoch);
    }

    public CompletableFuture<Void> unload(int partition, int epoch) {
        return runtime.scheduleUnload(partition, epoch);
    }

    /** Whether this node holds {@code partition}, loaded or loading. */
    public boolean isHere(int partition) {
        CoordinatorRuntime.ShardState state = partition < 0 ? null : runtime.state(partition);
        return state == CoordinatorRuntime.ShardState.ACTIVE || state == CoordinatorRuntime.ShardState.LOADING;
    }

    public boolean isActive(int partition) {
        return partition >= 0 && runtime.state(partition) == CoordinatorRuntime.ShardState.ACTIVE;
    }

    /**
     * InitProducerId with a transactional id. {@code newProducerId} reserves a fresh producer id (called only when
     * the id may be needed). Errors: INVALID_TRANSACTION_TIMEOUT, CONCURRENT_TRANSACTIONS (retriable: an earlier
     * transaction is being completed or aborted), PRODUCER_FENCED, and the coordinator errors.
     */
    public CompletableFuture<InitResult> initProducerId(String transactionalId, int timeoutMs, long producerId,
                                                        short producerEpoch, Supplier<CompletableFuture<Long>> newProducerId) {
        if (timeoutMs <= 0 || timeoutMs > maxTimeoutMs) {
            return CompletableFuture.completedFuture(InitResult.error(Errors.INVALID_TRANSACTION_TIMEOUT));
        }
        int partition = partitionFor(transactionalId);
        if (!isActive(partition)) {
            return CompletableFuture.completedFuture(InitResult.error(notActive(partition)));
        }
        return afterCompletion(transactionalId, () -> newProducerId.get().thenCompose(fresh ->
                        runtime.scheduleWriteOperation("init-producer-id", partition,
                                s -> s.initProducerId(transactionalId, timeoutMs, fresh, producerId, producerEpoch))),
                r -> r.error() == Errors.CONCURRENT_TRANSACTIONS)
                .exceptionally(e -> InitResult.error(error(e)));
    }

    /** How long a request waits for the previous transaction of its id to complete before it gets CONCURRENT_TRANSACTIONS. */
    static final long COMPLETION_WAIT_MS = 5_000;

    /**
     * Runs {@code operation}; if it answers that the id's previous transaction is still being completed (its markers
     * are being written here), runs it once more when that transaction completes (at most
     * {@value #COMPLETION_WAIT_MS} ms later) instead of making the producer back off and ask again. Kafka answers
     * CONCURRENT_TRANSACTIONS at once and its clients retry after 20 ms; with markers that are fsynced first that
     * wait would dominate every transaction.
     */
    private <T> CompletableFuture<T> afterCompletion(String transactionalId, Supplier<CompletableFuture<T>> operation,
                                                     java.util.function.Predicate<T> concurrent) {
        return operation.get().thenCompose(result -> {
            CompletableFuture<Void> done = completing.get(transactionalId);
            if (!concurrent.test(result) || done == null) {
                return CompletableFuture.completedFuture(result);
            }
            CompletableFuture<Boolean> completed = done.thenApply(v -> true);
            time.schedule(COMPLETION_WAIT_MS, () -> completed.complete(false));
            return completed.thenCompose(ok -> ok ? operation.get() : CompletableFuture.completedFuture(result));
        });
    }

    /** AddPartitionsToTxn: one error for all the partitions (the coordinator takes them all or none). */
    public CompletableFuture<Errors> addPartitions(String transactionalId, long producerId, short producerEpoch,
                                                   Collection<TopicPartition> partitions) {
        int partition = partitionFor(transactionalId);
        if (!isActive(partition)) {
            return CompletableFuture.completedFuture(notActive(partition));
        }
        Set<TopicPartition> wanted = Set.copyOf(partitions);
        return afterCompletion(transactionalId, () -> runtime.scheduleWriteOperation("add-partitions-to-txn", partition,
                        s -> s.addPartitions(transactionalId, producerId, producerEpoch, wanted)),
                e -> e == Errors.CONCURRENT_TRANSACTIONS)
                .exceptionally(TransactionCoordinatorService::error);
    }

    /**
     * Verify-only AddPartitionsToTxn (KIP-890 part 1): per partition NONE when it is in the producer's open
     * transaction, else INVALID_TXN_STATE, PRODUCER_FENCED, INVALID_PRODUCER_ID_MAPPING or a coordinator error.
     */
    public CompletableFuture<Map<TopicPartition, Errors>> verifyPartitions(String transactionalId, long producerId,
                                                                         short producerEpoch,
                                                                         Collection<TopicPartition> partitions) {
        Set<TopicPartition> wanted = Set.copyOf(partitions);
        int partition = partitionFor(transactionalId);
        if (!isActive(partition)) {
            Errors error = notActive(partition);
            return CompletableFuture.completedFuture(all(wanted, error));
        }
        return runtime.scheduleReadOperation("verify-partitions", partition,
                        s -> s.verify(transactionalId, producerId, producerEpoch, wanted))
                .exceptionally(e -> all(wanted, error(e)));
    }

    private static Map<TopicPartition, Errors> all(Set<TopicPartition> partitions, Errors error) {
        Map<TopicPartition, Errors> out = new java.util.LinkedHashMap<>();
        partitions.forEach(tp -> out.put(tp, error));
        return out;
    }

    /** EndTxn: commits or aborts the open transaction. */
    public CompletableFuture<Errors> endTransaction(String transactionalId, long producerId, short producerEpoch,
                                                    boolean commit) {
        int partition = partitionFor(transactionalId);
        if (!isActive(partition)) {
            return CompletableFuture.completedFuture(notActive(partition));
        }
        return runtime.scheduleWriteOperation(commit ? "commit-txn" : "abort-txn", partition,
                s -> s.endTransaction(transactionalId, producerId, producerEpoch, commit))
                .exceptionally(TransactionCoordinatorService::error);
    }

    /**
     * EndTxn of transaction version 2 (EndTxn v5 and later): the decision bumps the epoch; answered with the producer
     * id and epoch the producer goes on with. {@code newProducerId} reserves a fresh producer id, asked for only when
     * the epoch is about to be exhausted.
     */
    public CompletableFuture<TransactionCoordinatorShard.EndResult> endTransactionV2(
            String transactionalId, long producerId, short producerEpoch, boolean commit,
            Supplier<CompletableFuture<Long>> newProducerId) {
        int partition = partitionFor(transactionalId);
        if (!isActive(partition)) {
            return CompletableFuture.completedFuture(TransactionCoordinatorShard.EndResult.error(notActive(partition)));
        }
        CompletableFuture<Long> fresh = TransactionCoordinatorShard.epochExhausted(producerEpoch)
                ? newProducerId.get() : CompletableFuture.completedFuture(-1L);
        return afterCompletion(transactionalId, () -> fresh.thenCompose(id -> runtime.scheduleWriteOperation(
                                commit ? "commit-txn" : "abort-txn", partition,
                                s -> s.endTransaction(transactionalId, producerId, producerEpoch, commit, true, id))),
                        r -> r.error() == Errors.CONCURRENT_TRANSACTIONS)
                .exceptionally(e -> TransactionCoordinatorShard.EndResult.error(error(e)));
    }

    /** The state of {@code transactionalId} (DescribeTransactions), or null when it is unknown here. */
    public CompletableFuture<TransactionMetadata> describe(String transactionalId) {
        int partition = partitionFor(transactionalId);
        if (!isActive(partition)) {
            return CompletableFuture.failedFuture(Errors.NOT_COORDINATOR.exception());
        }
        return runtime.scheduleReadOperation("describe-transaction", partition, s -> s.get(transactionalId));
    }

    /** Every transactional id of the partitions this node coordinates (ListTransactions). */
    public CompletableFuture<List<TransactionMetadata>> list() {
        List<CompletableFuture<List<TransactionMetadata>>> parts = runtime.activePartitions().stream()
                .map(p -> runtime.scheduleReadOperation("list-transactions", p, TransactionCoordinatorShard::all)
                        .exceptionally(e -> List.of()))
                .toList();
        return CompletableFuture.allOf(parts.toArray(CompletableFuture[]::new))
                .thenApply(v -> parts.stream().flatMap(f -> f.join().stream()).toList());
    }

    private Errors notActive(int partition) {
        if (partition < 0) {
            return Errors.COORDINATOR_NOT_AVAILABLE;
        }
        return runtime.state(partition) == CoordinatorRuntime.ShardState.LOADING ? Errors.COORDINATOR_LOAD_IN_PROGRESS
                : Errors.NOT_COORDINATOR;
    }

    /** Writes the markers of a decided transaction, then completes it on its shard. */
    private void writeMarkers(int partition, TransactionMetadata prepared) {
        boolean commit = prepared.state() == TransactionState.PREPARE_COMMIT;
        int coordinatorEpoch = epochs.getOrDefault(partition, 0);
        CompletableFuture<Void> done = new CompletableFuture<>();
        CompletableFuture<Void> previous = completing.put(prepared.transactionalId(), done);
        if (previous != null) {
            previous.complete(null);
        }
        markers.write(prepared.producerId(), prepared.producerEpoch(), commit, coordinatorEpoch, prepared.partitions(),
                        () -> !closed && isActive(partition) && epochs.getOrDefault(partition, -1) == coordinatorEpoch)
                .thenCompose(v -> runtime.scheduleWriteOperation("complete-txn", partition,
                        s -> s.complete(prepared.transactionalId(), prepared.producerId(), prepared.producerEpoch(),
                                prepared.state())))
                .whenComplete((v, e) -> {
                    completing.remove(prepared.transactionalId(), done);
                    done.complete(null);
                    if (e != null) {
                        // The shard moved or could not write: its next coordinator finishes the transaction on load.
                        log.warn("Transaction {} (producer {} epoch {}) was not completed here: {}",
                                prepared.transactionalId(), prepared.producerId(), prepared.producerEpoch(),
                                e.toString());
                    }
                });
    }

    static Errors error(Throwable t) {
        Throwable cause = t;
        while (cause instanceof CompletionException && cause.getCause() != null) {
            cause = cause.getCause();
        }
        Errors error = Errors.forException(cause);
        return error == Errors.UNKNOWN_SERVER_ERROR ? Errors.COORDINATOR_NOT_AVAILABLE : error;
    }

    @Override
    public void close() {
        closed = true;
        runtime.close();
        completing.values().forEach(f -> f.complete(null));
    }
}
