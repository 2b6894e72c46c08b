package io.gregor.replication;

import io.gregor.storage.CorruptRecordException;
import io.gregor.storage.EpochEndOffset;
import io.gregor.storage.GroupCommitFlusher;
import io.gregor.storage.KafkaStorageException;
import io.gregor.storage.Log;
import io.gregor.storage.LogAppendInfo;
import io.gregor.storage.OffsetOutOfRangeException;
import io.gregor.storage.RecordTooLargeException;
import io.gregor.storage.TimestampOffset;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.MemoryRecords;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one path into the partitions this node hosts, for every caller: produce, fetch, the coordinators,
 * DeleteRecords, ListOffsets, OffsetForLeaderEpoch. It owns the durability of appends (group commit: one fsync pass
 * for all waiting appends), the high watermark, and the requests that wait: a delayed produce until its records are
 * committed (acks=all), a delayed fetch until min bytes are there or max wait passes, both on one timer wheel.
 *
 * <p>Results carry Kafka's error codes; storage exceptions do not leave this class. Which partitions exist is the
 * broker's business ({@link #addPartition}, {@link #removePartition}, kept in line with the metadata). Thread-safe.
 */
public final class ReplicaManager implements GroupCommitFlusher.FlushListener, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ReplicaManager.class);
    /** Longest a fetch may be parked, whatever it asks. */
    private static final long MAX_WAIT_CAP_MS = 60_000;

    /** Partition key: topic name and index. */
    public record Key(String topic, int partition) {
    }

    private final int nodeId;
    private final GroupCommitFlusher flusher;
    private final DelayedOperations delayed;
    private final ConcurrentHashMap<Key, Partition> partitions = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<Log, Partition> byLog = new ConcurrentHashMap<>();

    /** @param executor runs completed delayed operations (the request pool) */
    private final ReplicationQuota leaderQuota = new ReplicationQuota();
    private final ReplicationQuota followerQuota = new ReplicationQuota();

    /** This node's leader.replication.throttled.rate (bytes per second sent to throttled followers). */
    public ReplicationQuota leaderQuota() {
        return leaderQuota;
    }

    /** This node's follower.replication.throttled.rate (bytes per second copied for throttled partitions). */
    public ReplicationQuota followerQuota() {
        return followerQuota;
    }

    public ReplicaManager(int nodeId, Executor executor) {
        this.nodeId = nodeId;
        this.delayed = new DelayedOperations(executor);
        this.flusher = new GroupCommitFlusher("gregor-flusher", this);
    }

    // ---- Partitions ------------------------------------------------------------------------------------------------

    public Partition partition(String topic, int index) {
        return partitions.get(new Key(topic, index));
    }

    public Collection<Partition> partitions() {
        return partitions.values();
    }

    public Map<Key, Partition> snapshot() {
        return Map.copyOf(partitions);
    }

    /**
     * Hosts {@code log} as partition {@code index} of {@code topic}, led by this node until {@link Partition#updateState}
     * says otherwise; returns it.
     */
    public Partition addPartition(String topic, Uuid topicId, int index, Log partitionLog, int minInsyncReplicas) {
        if (partitionLog.highWatermark() < partitionLog.flushedOffset()) {
            partitionLog.updateHighWatermark(partitionLog.flushedOffset());
        }
        Partition partition = new Partition(topic, topicId, index, partitionLog,
                Partition.State.soleLeader(nodeId, Math.max(0, partitionLog.latestEpoch())), minInsyncReplicas);
        partitions.put(new Key(topic, index), partition);
        byLog.put(partitionLog, partition);
        return partition;
    }

    /** Stops hosting a partition (its topic was deleted); returns it, or null. */
    public Partition removePartition(String topic, int index) {
        Partition removed = partitions.remove(new Key(topic, index));
        if (removed != null) {
            byLog.remove(removed.log());
        }
        return removed;
    }

    // ---- Produce ---------------------------------------------------------------------------------------------------

    /**
     * What an append answers.
     *
     * @param error NONE, NOT_ENOUGH_REPLICAS, INVALID_RECORD, CORRUPT_MESSAGE, MESSAGE_TOO_LARGE,
     *     OUT_OF_ORDER_SEQUENCE_NUMBER, INVALID_PRODUCER_EPOCH, KAFKA_STORAGE_ERROR, REQUEST_TIMED_OUT or
     *     UNKNOWN_SERVER_ERROR
     */
    public record AppendResult(Errors error, String message, long baseOffset, long logAppendTimeMs, long logStartOffset) {
        static AppendResult failed(Errors error, String message) {
            return new AppendResult(error, message, -1, -1, -1);
        }
    }

    /**
     * Appends producer batches (already in the current format). acks=-1 refuses the append while the ISR is smaller
     * than min.insync.replicas and is answered once the records are committed (fsynced here; replicated to the ISR in
     * a cluster), or REQUEST_TIMED_OUT after {@code timeoutMs}; acks=0/1 are answered after the write. A compacted
     * topic refuses records without a key; the topic's compression.type is applied.
     */
    public CompletableFuture<AppendResult> appendRecords(Partition partition, ByteBuffer records, short acks, long timeoutMs) {
        return appendRecords(partition, records, acks, timeoutMs, -1, Log.NO_VERIFICATION);
    }

    /** No transaction verification needed (the producer's transaction is open in the partition already). */
    public static final long NO_VERIFICATION = Log.NO_VERIFICATION;

    /** The token of a transactional batch appended unverified because its transaction was open ({@link Log#EXPECT_OPEN}). */
    public static final long EXPECT_OPEN = Log.EXPECT_OPEN;

    /**
     * The token a transactional batch of {@code producerId} at {@code epoch} needs verified by its coordinator before
     * it is appended ({@link Log#transactionVerificationToken}), or {@link Log#NO_VERIFICATION}.
     */
    public long transactionVerificationToken(Partition partition, long producerId, short epoch) {
        return partition.log().transactionVerificationToken(producerId, epoch);
    }

    /**
     * As {@link #appendRecords(Partition, ByteBuffer, short, long)}, for batches whose transaction the coordinator
     * verified with {@code token} (KIP-890): INVALID_TXN_STATE if the transaction ended here meanwhile.
     */
    public CompletableFuture<AppendResult> appendRecords(Partition partition, ByteBuffer records, short acks, long timeoutMs,
                                                         long verifiedProducerId, long token) {
        return appendRecords(partition, records, acks, timeoutMs, verifiedProducerId, token, false);
    }

    /**
     * As {@link #appendRecords(Partition, ByteBuffer, short, long, long, long)} for a producer of transaction version
     * 2 when {@code epochBumpingMarkers} ({@link Log#appendVerified(ByteBuffer, int, long, long, boolean)}).
     */
    public CompletableFuture<AppendResult> appendRecords(Partition partition, ByteBuffer records, short acks, long timeoutMs,
                                                         long verifiedProducerId, long token, boolean epochBumpingMarkers) {
        if (!partition.isLeader(nodeId)) {
            return CompletableFuture.completedFuture(AppendResult.failed(Errors.NOT_LEADER_OR_FOLLOWER,
                    "Node " + nodeId + " is not the leader of " + partition));
        }
        if (acks == -1 && partition.isrSize() < partition.minInsyncReplicas()) {
            return CompletableFuture.completedFuture(AppendResult.failed(Errors.NOT_ENOUGH_REPLICAS, "The size of the current ISR "
                    + partition.isrSize() + " is insufficient to satisfy the min.isr requirement of "
                    + partition.minInsyncReplicas() + " for partition " + partition));
        }
        Log partitionLog = partition.log();
        if (hasControlBatch(records)) {
            // Transaction markers come from transaction coordinators (WriteTxnMarkers), never in a Produce request.
            return CompletableFuture.completedFuture(AppendResult.failed(Errors.INVALID_RECORD,
                    "Clients are not allowed to write control records (partition " + partition + ")."));
        }
        if (partitionLog.config().compaction().compact() && hasKeylessRecord(records)) {
            return CompletableFuture.completedFuture(AppendResult.failed(Errors.INVALID_RECORD,
                    "Compacted topic cannot accept message without key in topic partition " + partition + "."));
        }
        LogAppendInfo info;
        try {
            ByteBuffer stored = Recompression.apply(records, partition.compressionType());
            info = token == Log.NO_VERIFICATION ? partitionLog.append(stored, partition.leaderEpoch())
                    : partitionLog.appendVerified(stored, partition.leaderEpoch(), verifiedProducerId, token,
                            epochBumpingMarkers);
        } catch (RuntimeException e) {
            return CompletableFuture.completedFuture(appendFailure(partition, e));
        }
        AppendResult done = new AppendResult(Errors.NONE, null, info.firstOffset(), info.logAppendTimeMs(),
                partitionLog.logStartOffset());
        wakeFollowers(partition);
        if (acks != -1) {
            flusher.markDirty(partitionLog);
            return CompletableFuture.completedFuture(done);
        }
        return delayedProduce(partition, info.lastOffset() + 1, timeoutMs, done);
    }

    /**
     * An acks=all produce waits until the high watermark passes its records: completed by the fsync that covers them
     * (the fast path, on the flusher thread), by any later move of the high watermark, or by the timer wheel.
     */
    private CompletableFuture<AppendResult> delayedProduce(Partition partition, long requiredOffset, long timeoutMs,
                                                           AppendResult done) {
        DelayedProduce op = new DelayedProduce(partition, requiredOffset, timeoutMs, done, nodeId);
        flusher.flush(partition.log(), requiredOffset).whenComplete((v, error) -> {
            if (error != null) {
                Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
                log.error("Storage error making {} durable: {}", partition, cause.getMessage());
                op.fail(AppendResult.failed(Errors.KAFKA_STORAGE_ERROR, cause.getMessage()));
            }
            delayed.tryCompleteAndUnpark(op);
        });
        delayed.park(op, List.of(partition), Math.max(1, timeoutMs));
        return op.result;
    }

    /** An acks=all produce waiting for the high watermark to pass its records. */
    private static final class DelayedProduce extends DelayedOperations.Operation {
        final CompletableFuture<AppendResult> result = new CompletableFuture<>();
        private final Partition partition;
        private final long requiredOffset;
        private final long timeoutMs;
        private final AppendResult done;
        private volatile AppendResult failure;

        DelayedProduce(Partition partition, long requiredOffset, long timeoutMs, AppendResult done, int nodeId) {
            this.partition = partition;
            this.requiredOffset = requiredOffset;
            this.timeoutMs = timeoutMs;
            this.done = done;
            this.nodeId = nodeId;
            this.leaderEpoch = partition.leaderEpoch();
        }

        private final int nodeId;
        private final int leaderEpoch;

        @Override
        protected boolean tryComplete() {
            if (!partition.isLeader(nodeId) || partition.leaderEpoch() != leaderEpoch) {
                // Leadership moved: these records may be truncated away, so they are never acknowledged from here.
                failure = AppendResult.failed(Errors.NOT_LEADER_OR_FOLLOWER, "Leadership of " + partition
                        + " moved before the records were committed");
                return forceComplete();
            }
            return partition.highWatermark() >= requiredOffset && forceComplete();
        }

        @Override
        protected void onComplete() {
            if (failure != null) {
                result.complete(failure);
            } else if (partition.highWatermark() >= requiredOffset && partition.isrSize() < partition.minInsyncReplicas()) {
                result.complete(AppendResult.failed(Errors.NOT_ENOUGH_REPLICAS_AFTER_APPEND, "The records of " + partition
                        + " are committed, but the ISR shrank to " + partition.isrSize() + ", below min.insync.replicas "
                        + partition.minInsyncReplicas()));
            } else if (partition.highWatermark() >= requiredOffset) {
                result.complete(done);
            } else {
                log.warn("An acks=all produce to {} timed out after {} ms: high watermark {}, needed {}, flushed {}",
                        partition, timeoutMs, partition.highWatermark(), requiredOffset, partition.log().flushedOffset());
                result.complete(AppendResult.failed(Errors.REQUEST_TIMED_OUT, "The records of " + partition
                        + " were not committed within " + timeoutMs + " ms"));
            }
        }

        void fail(AppendResult why) {
            failure = why;
            forceComplete();
        }
    }

    private static AppendResult appendFailure(Partition partition, Throwable cause) {
        if (cause instanceof CorruptRecordException) {
            return AppendResult.failed(Errors.CORRUPT_MESSAGE, cause.getMessage());
        }
        if (cause instanceof RecordTooLargeException) {
            return AppendResult.failed(Errors.MESSAGE_TOO_LARGE, cause.getMessage());
        }
        if (cause instanceof io.gregor.storage.OutOfOrderSequenceException) {
            return AppendResult.failed(Errors.OUT_OF_ORDER_SEQUENCE_NUMBER, cause.getMessage());
        }
        if (cause instanceof io.gregor.storage.InvalidProducerEpochException) {
            return AppendResult.failed(Errors.INVALID_PRODUCER_EPOCH, cause.getMessage());
        }
        if (cause instanceof io.gregor.storage.InvalidTxnStateException) {
            return AppendResult.failed(Errors.INVALID_TXN_STATE, cause.getMessage());
        }
        if (cause instanceof io.gregor.storage.TransactionCoordinatorFencedException) {
            return AppendResult.failed(Errors.TRANSACTION_COORDINATOR_FENCED, cause.getMessage());
        }
        if (cause instanceof KafkaStorageException) {
            log.error("Storage error appending to {}: {}", partition, cause.getMessage());
            return AppendResult.failed(Errors.KAFKA_STORAGE_ERROR, cause.getMessage());
        }
        log.error("Unexpected error appending to {}", partition, cause);
        return AppendResult.failed(Errors.UNKNOWN_SERVER_ERROR, String.valueOf(cause));
    }

    /** Whether a batch of {@code buffer} has the control attribute (bit 5); a malformed tail answers false. */
    static boolean hasControlBatch(ByteBuffer buffer) {
        ByteBuffer b = buffer.duplicate().order(java.nio.ByteOrder.BIG_ENDIAN);
        int position = b.position();
        while (b.limit() - position >= 61) {
            if ((b.getShort(position + 21) & (1 << 5)) != 0 && b.get(position + 16) >= 2) {
                return true;
            }
            int size = b.getInt(position + 8) + 12;
            if (size < 61) {
                return false;
            }
            position += size;
        }
        return false;
    }

    /**
     * Whether a record of {@code buffer} has no key (a compacted topic refuses it, as Kafka does); compressed batches
     * are decompressed for the check. A malformed buffer answers false: the log's own validation refuses it.
     */
    private static boolean hasKeylessRecord(ByteBuffer buffer) {
        try {
            var supplier = org.apache.kafka.common.utils.BufferSupplier.create();
            for (var batch : MemoryRecords.readableRecords(buffer.duplicate()).batches()) {
                if (batch.isControlBatch()) {
                    continue;
                }
                try (var records = batch.streamingIterator(supplier)) {
                    while (records.hasNext()) {
                        if (!records.next().hasKey()) {
                            return true;
                        }
                    }
                }
            }
            return false;
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** An append whose offsets are known at once and whose commit comes later. */
    public record Appended(long baseOffset, CompletableFuture<Void> committed) {
    }

    /**
     * Appends a coordinator's records now and returns their first offset without waiting; {@code committed} completes
     * once they are durable (concurrent appends share fsyncs). A coordinator replays its records at once and answers
     * after the commit.
     *
     * @throws org.apache.kafka.common.errors.NotLeaderOrFollowerException when this node does not lead the partition
     * @throws RuntimeException when nothing was appended
     */
    public Appended appendForCoordinator(Partition partition, ByteBuffer records) {
        if (!partition.isLeader(nodeId)) {
            throw new org.apache.kafka.common.errors.NotLeaderOrFollowerException("Node " + nodeId
                    + " is not the leader of " + partition);
        }
        LogAppendInfo info = partition.log().append(records, partition.leaderEpoch(), true);
        wakeFollowers(partition);
        if (partition.state().replicas().size() == 1) {
            return new Appended(info.firstOffset(), flusher.flush(partition.log(), info.lastOffset() + 1));
        }
        // Replicated: committed once the high watermark passes the records (durable on the ISR), as acks=all.
        AppendResult appended = new AppendResult(Errors.NONE, null, info.firstOffset(), -1, partition.logStartOffset());
        CompletableFuture<Void> committed = delayedProduce(partition, info.lastOffset() + 1, COORDINATOR_COMMIT_TIMEOUT_MS,
                appended).thenCompose(result -> result.error() == Errors.NONE ? CompletableFuture.<Void>completedFuture(null)
                : CompletableFuture.<Void>failedFuture(result.error().exception(result.message())));
        return new Appended(info.firstOffset(), committed);
    }

    /**
     * Writes a transaction marker (WriteTxnMarkers): a COMMIT or ABORT control batch of producer {@code producerId}
     * at {@code producerEpoch}, committed as acks=all. Completes with NONE once it is durable (on the ISR), or with
     * NOT_LEADER_OR_FOLLOWER, INVALID_PRODUCER_EPOCH (an epoch older than the producer's here),
     * TRANSACTION_COORDINATOR_FENCED (a coordinator epoch older than the producer's last marker's here),
     * KAFKA_STORAGE_ERROR or the error of the wait.
     */
    public CompletableFuture<Errors> appendTxnMarker(Partition partition, long producerId, short producerEpoch,
                                                    boolean commit, int coordinatorEpoch) {
        ByteBuffer marker = MemoryRecords.withEndTransactionMarker(System.currentTimeMillis(), producerId, producerEpoch,
                new org.apache.kafka.common.record.EndTransactionMarker(commit
                        ? org.apache.kafka.common.record.ControlRecordType.COMMIT
                        : org.apache.kafka.common.record.ControlRecordType.ABORT, coordinatorEpoch)).buffer();
        Appended appended;
        try {
            appended = appendForCoordinator(partition, marker);
        } catch (org.apache.kafka.common.errors.NotLeaderOrFollowerException e) {
            return CompletableFuture.completedFuture(Errors.NOT_LEADER_OR_FOLLOWER);
        } catch (RuntimeException e) {
            return CompletableFuture.completedFuture(appendFailure(partition, e).error());
        }
        return appended.committed().handle((v, e) -> e == null ? Errors.NONE
                : Errors.forException(e instanceof CompletionException && e.getCause() != null ? e.getCause() : e));
    }

    @Override
    public void onFlushed(Log flushedLog, long flushedOffset) {
        Partition partition = byLog.get(flushedLog);
        if (partition == null) {
            return;
        }
        if (partition.isLeader(nodeId)) {
            maybeAdvanceHighWatermark(partition);
        }
    }

    /**
     * On the leader: moves the high watermark to the lowest durable end over the maximal ISR (this node's fsynced
     * offset, each follower's last fetch offset), never backwards, and wakes what waits on it.
     */
    private void maybeAdvanceHighWatermark(Partition partition) {
        if (partition.maybeAdvanceHighWatermark()) {
            delayed.onChange(partition);
        }
    }

    // ---- Replication -----------------------------------------------------------------------------------------------

    /**
     * The partition's replication state changed (new leader, epoch or ISR): parked produces and fetches look again
     * (a produce parked under a leadership that is gone fails instead of waiting).
     */
    public void onStateChange(Partition partition) {
        delayed.onChange(partition);
        if (partition.isLeader(nodeId)) {
            Log partitionLog = partition.log();
            if (partition.leaderEpoch() > partitionLog.latestEpoch()) {
                // The new epoch starts at the log end (followers ask OffsetForLeaderEpoch for it before any append).
                partitionLog.assignEpoch(partition.leaderEpoch(), partitionLog.logEndOffset());
            }
            maybeAdvanceHighWatermark(partition);
        }
    }

    /** New records on the leader: the followers' parked fetches can take them at once. */
    private void wakeFollowers(Partition partition) {
        if (partition.state().replicas().size() > 1) {
            delayed.onChange(partition);
        }
    }

    /** Told when the ISR of a partition this node leads should change; it asks the controller (AlterPartition). */
    public interface IsrChanges {
        void propose(Partition partition, List<Integer> newIsr);

        /** Whether node {@code replicaId} may join an ISR (registered, not fenced, not shutting down). */
        boolean eligible(int replicaId);
    }

    private volatile IsrChanges isrChanges = new IsrChanges() {
        @Override
        public void propose(Partition partition, List<Integer> newIsr) {
        }

        @Override
        public boolean eligible(int replicaId) {
            return false;
        }
    };

    /** How long a coordinator's append on a replicated partition may wait for the ISR. */
    private static final long COORDINATOR_COMMIT_TIMEOUT_MS = 30_000;

    /** After a refused ISR change, the partition's next proposal waits this long. */
    private static final long ISR_RETRY_BACKOFF_MS = 1_000;

    public void setIsrChanges(IsrChanges changes) {
        this.isrChanges = changes;
    }

    /**
     * A follower's fetch of a partition this node leads: its fetch offset is what it holds durably; the high
     * watermark may advance, and a follower that has caught up with the high watermark is proposed for the ISR.
     */
    private void onFollowerFetch(Partition partition, int replicaId, long fetchOffset) {
        long now = System.currentTimeMillis();
        partition.recordFollowerFetch(replicaId, fetchOffset, partition.log().logEndOffset(), now);
        maybeAdvanceHighWatermark(partition);
        List<Integer> expanded = partition.isrWithCaughtUpFollower(replicaId, fetchOffset, now);
        if (expanded != null && isrChanges.eligible(replicaId)) {
            partition.setPendingIsr(expanded);
            log.info("Partition {}: follower {} caught up (offset {}), proposing ISR {}", partition, replicaId,
                    fetchOffset, expanded);
            isrChanges.propose(partition, expanded);
        }
    }

    /**
     * On the leader, now and then: proposes to drop from the ISR every follower that has not been caught up for
     * {@code lagMs} (replica.lag.time.max.ms). The removal counts only once committed.
     */
    public void shrinkIsrs(long lagMs) {
        long now = System.currentTimeMillis();
        for (Partition partition : partitions.values()) {
            List<Integer> resend = partition.isLeader(nodeId) ? partition.pendingIsrToResend(now) : null;
            if (resend != null) {
                log.info("Partition {}: proposing ISR {} again (the last proposal got no answer)", partition, resend);
                isrChanges.propose(partition, resend);
                continue;
            }
            List<Integer> kept = partition.isrWithoutLaggingFollowers(nodeId, now, lagMs);
            if (kept != null) {
                List<Integer> isr = partition.state().isr();
                log.warn("Partition {}: followers {} have not caught up for {} ms, proposing ISR {}", partition,
                        isr.stream().filter(r -> !kept.contains(r)).toList(), lagMs, kept);
                partition.setPendingIsr(kept);
                isrChanges.propose(partition, kept);
            }
        }
    }

    /**
     * A proposed ISR change was refused ({@code error}) or got no answer (null): see
     * {@link Partition#onIsrChangeFailed}; a change whose outcome is unknown is sent again by {@link #shrinkIsrs}.
     */
    public void isrChangeFailed(Partition partition, Errors error) {
        partition.onIsrChangeFailed(error, System.currentTimeMillis(), ISR_RETRY_BACKOFF_MS);
    }

    /**
     * On a follower: appends batches fetched from the leader, keeping their offsets and epochs, then fsyncs them
     * (the next fetch offset tells the leader they are durable); the high watermark and the log start offset follow
     * the leader's.
     */
    public void appendAsFollower(Partition partition, ByteBuffer records, long leaderHighWatermark,
                                 long leaderLogStartOffset) {
        Log partitionLog = partition.log();
        if (records != null && records.hasRemaining()) {
            partitionLog.appendAsFollower(records);
        }
        if (partitionLog.flushedOffset() < partitionLog.logEndOffset()) {
            partitionLog.flush();
        }
        long hw = Math.min(leaderHighWatermark, partitionLog.logEndOffset());
        if (hw > partitionLog.highWatermark()) {
            partitionLog.updateHighWatermark(hw);
            delayed.onChange(partition);
        }
        if (leaderLogStartOffset > partitionLog.logStartOffset()) {
            partitionLog.maybeAdvanceLogStartOffset(leaderLogStartOffset);
        }
    }

    // ---- Fetch -----------------------------------------------------------------------------------------------------

    /**
     * Reads the partitions of a fetch: each up to its high watermark (the last stable offset is the same until
     * transactions exist), whole batches, at least one whole batch for the first partition that has data (KIP-74),
     * within the partition and response budgets. Parked until min bytes are there or max wait passes.
     */
    public CompletableFuture<List<FetchPartitionData>> fetchMessages(FetchParams params) {
        if (params.fromFollower()) {
            for (FetchParams.PartitionFetch p : params.partitions()) {
                Partition partition = p.topic() == null ? null : partition(p.topic(), p.partition());
                if (partition != null && partition.isLeader(nodeId) && partition.state().replicas().contains(params.replicaId())
                        && partition.checkLeaderEpoch(p.currentLeaderEpoch()) == Errors.NONE) {
                    onFollowerFetch(partition, params.replicaId(), p.fetchOffset());
                }
            }
        }
        FetchPass first = read(params);
        if (first.hasError || first.bytes >= params.minBytes() || params.maxWaitMs() <= 0 || first.watched.isEmpty()) {
            return CompletableFuture.completedFuture(first.partitions);
        }
        CompletableFuture<List<FetchPartitionData>> result = new CompletableFuture<>();
        DelayedOperations.Operation op = new DelayedOperations.Operation() {
            /** The read that satisfied the request, answered as is; a timeout reads afresh. */
            private volatile FetchPass satisfied;

            @Override
            protected boolean tryComplete() {
                FetchPass again = read(params);
                if (again.bytes < params.minBytes() && !again.hasError) {
                    return false;
                }
                satisfied = again;
                return forceComplete();
            }

            @Override
            protected void onComplete() {
                try {
                    FetchPass done = satisfied;
                    result.complete((done != null ? done : read(params)).partitions);
                } catch (RuntimeException e) {
                    result.completeExceptionally(e);
                }
            }
        };
        delayed.park(op, first.watched, Math.min(params.maxWaitMs(), MAX_WAIT_CAP_MS));
        return result;
    }

    private record FetchPass(List<FetchPartitionData> partitions, int bytes, boolean hasError, Set<Partition> watched) {
    }

    private FetchPass read(FetchParams params) {
        List<FetchPartitionData> out = new ArrayList<>(params.partitions().size());
        int bytes = 0;
        boolean hasError = false;
        Set<Partition> watched = new LinkedHashSet<>();
        for (FetchParams.PartitionFetch p : params.partitions()) {
            Partition partition = p.topic() == null ? null : partition(p.topic(), p.partition());
            if (partition == null) {
                out.add(FetchPartitionData.error(Errors.UNKNOWN_TOPIC_OR_PARTITION));
                hasError = true;
                continue;
            }
            Errors epochError = partition.checkLeaderEpoch(p.currentLeaderEpoch());
            if (epochError == Errors.NONE && (!partition.isLeader(nodeId)
                    || params.fromFollower() && !partition.state().replicas().contains(params.replicaId()))) {
                epochError = Errors.NOT_LEADER_OR_FOLLOWER;
            }
            if (epochError != Errors.NONE) {
                out.add(FetchPartitionData.error(epochError));
                hasError = true;
                continue;
            }
            Log partitionLog = partition.log();
            long hw = partitionLog.highWatermark();
            long lso = partitionLog.lastStableOffset();
            long logStart = partitionLog.logStartOffset();
            // Followers copy the whole log; consumers see what is committed, read_committed ones what is decided.
            long readLimit = params.fromFollower() ? Long.MAX_VALUE : params.readCommitted() ? lso : hw;
            watched.add(partition);
            int budget = Math.max(0, Math.min(p.maxBytes(), params.maxBytes() - bytes));
            int reach = (int) Math.min(Integer.MAX_VALUE, (long) (budget * params.reach()));
            boolean throttled = params.fromFollower() && partition.leaderThrottled()
                    && !partition.inSync(params.replicaId()) && leaderQuota.limited();
            if (throttled && leaderQuota.isExceeded()) {
                // leader.replication.throttled.rate: this follower catches up later (never a follower in the ISR).
                out.add(new FetchPartitionData(partition, Errors.NONE, hw, lso, logStart, null));
                continue;
            }
            try {
                var slice = partitionLog.read(p.fetchOffset(), reach, readLimit, bytes == 0);
                FileSliceRecords records = slice.isEmpty() ? null : new FileSliceRecords(slice);
                if (records != null && throttled) {
                    leaderQuota.record(slice.size());
                }
                if (records != null) {
                    // A reach past the budget (down-conversion) counts only what the answer may hold.
                    bytes += params.reach() > 1 ? Math.min(slice.size(), Math.max(budget, 1)) : slice.size();
                }
                List<org.apache.kafka.common.message.FetchResponseData.AbortedTransaction> aborted = null;
                if (params.readCommitted()) {
                    aborted = new ArrayList<>();
                    if (records != null) {
                        for (var txn : partitionLog.abortedTransactions(p.fetchOffset(), slice.lastOffset() + 1)) {
                            aborted.add(new org.apache.kafka.common.message.FetchResponseData.AbortedTransaction()
                                    .setProducerId(txn.producerId()).setFirstOffset(txn.firstOffset()));
                        }
                    }
                }
                out.add(new FetchPartitionData(partition, Errors.NONE, hw, lso, logStart, records, aborted));
            } catch (OffsetOutOfRangeException e) {
                out.add(new FetchPartitionData(partition, Errors.OFFSET_OUT_OF_RANGE, hw, lso, logStart, null));
                hasError = true;
            } catch (KafkaStorageException e) {
                log.error("Storage error reading {}: {}", partition, e.getMessage());
                out.add(new FetchPartitionData(partition, Errors.KAFKA_STORAGE_ERROR, -1, -1, -1, null));
                hasError = true;
            }
        }
        return new FetchPass(out, bytes, hasError, watched);
    }

    /**
     * Reads whole batches of {@code partition} from {@code offset}, up to {@code maxBytes} (at least one batch when
     * {@code minOneBatch}) and below {@code maxOffset}; null when there are none.
     *
     * @throws org.apache.kafka.common.errors.OffsetOutOfRangeException outside the log
     * @throws org.apache.kafka.common.errors.KafkaStorageException when the log cannot be read
     */
    public FileSliceRecords read(Partition partition, long offset, int maxBytes, long maxOffset, boolean minOneBatch) {
        try {
            var slice = partition.log().read(offset, maxBytes, maxOffset, minOneBatch);
            return slice.isEmpty() ? null : new FileSliceRecords(slice);
        } catch (OffsetOutOfRangeException e) {
            throw new org.apache.kafka.common.errors.OffsetOutOfRangeException(e.getMessage());
        } catch (KafkaStorageException e) {
            throw new org.apache.kafka.common.errors.KafkaStorageException(e.getMessage(), e);
        }
    }

    // ---- Offsets ---------------------------------------------------------------------------------------------------

    /** ListOffsets special timestamps, as Kafka names them. */
    public static final long LATEST = -1;
    public static final long EARLIEST = -2;
    public static final long MAX_TIMESTAMP = -3;
    public static final long EARLIEST_LOCAL = -4;
    public static final long LATEST_TIERED = -5;
    public static final long EARLIEST_PENDING_UPLOAD = -6;

    /** What ListOffsets answers for a partition: the offset and timestamp found (-1 when there is none). */
    public record OffsetResult(Errors error, long timestamp, long offset) {
    }

    /**
     * The offset for a ListOffsets timestamp: latest (the high watermark; no tiered storage, so latest tiered too),
     * earliest (the log start, local or not), earliest pending upload (none), the record with the largest timestamp,
     * or the first record at or after a timestamp. INVALID_REQUEST for another negative timestamp.
     */
    public OffsetResult fetchOffsetForTimestamp(Partition partition, long timestamp) {
        return fetchOffsetForTimestamp(partition, timestamp, false);
    }

    /**
     * As {@link #fetchOffsetForTimestamp(Partition, long)}; for a read_committed client ({@code readCommitted}) the
     * last stable offset takes the high watermark's place, as in Kafka: latest is the last stable offset, and
     * lookups find nothing at or past it.
     */
    public OffsetResult fetchOffsetForTimestamp(Partition partition, long timestamp, boolean readCommitted) {
        if (!partition.isLeader(nodeId)) {
            return new OffsetResult(Errors.NOT_LEADER_OR_FOLLOWER, -1, -1);
        }
        Log partitionLog = partition.log();
        long hw = readCommitted ? partitionLog.lastStableOffset() : partitionLog.highWatermark();
        if (timestamp == LATEST || timestamp == LATEST_TIERED) {
            return new OffsetResult(Errors.NONE, -1, hw);
        }
        if (timestamp == EARLIEST || timestamp == EARLIEST_LOCAL) {
            return new OffsetResult(Errors.NONE, -1, partitionLog.logStartOffset());
        }
        if (timestamp == EARLIEST_PENDING_UPLOAD) {
            return new OffsetResult(Errors.NONE, -1, -1);
        }
        if (timestamp == MAX_TIMESTAMP) {
            TimestampOffset max = TimestampLookup.maxTimestamp(partitionLog, hw);
            return max == null ? new OffsetResult(Errors.NONE, -1, -1) : new OffsetResult(Errors.NONE, max.timestamp(), max.offset());
        }
        if (timestamp >= 0) {
            TimestampOffset found = TimestampLookup.firstAtOrAfter(partitionLog, timestamp, hw);
            return found == null ? new OffsetResult(Errors.NONE, -1, -1)
                    : new OffsetResult(Errors.NONE, found.timestamp(), found.offset());
        }
        return new OffsetResult(Errors.INVALID_REQUEST, -1, -1);
    }

    /** A producer of a partition, as DescribeProducers shows it. */
    public record ProducerView(long producerId, short producerEpoch, int lastSequence, long lastTimestamp,
                               long currentTxnStartOffset, int coordinatorEpoch) {
    }

    /** The producers {@code partition}'s leader keeps state for; NOT_LEADER_OR_FOLLOWER on a follower. */
    public List<ProducerView> activeProducers(Partition partition) {
        if (!partition.isLeader(nodeId)) {
            throw new org.apache.kafka.common.errors.NotLeaderOrFollowerException("Node " + nodeId
                    + " is not the leader of " + partition);
        }
        return partition.log().activeProducers().stream().map(p -> new ProducerView(p.producerId(), p.producerEpoch(),
                p.lastSequence(), p.lastTimestamp(), p.currentTxnStartOffset(), p.coordinatorEpoch())).toList();
    }

    /** What DeleteRecords answers for a partition. */
    public record DeleteRecordsResult(Errors error, long lowWatermark) {
    }

    /** DeleteRecords: moves the log start to {@code offset} (-1: the high watermark). OFFSET_OUT_OF_RANGE past it. */
    public DeleteRecordsResult deleteRecords(Partition partition, long offset) {
        Log partitionLog = partition.log();
        long target = offset == -1 ? partitionLog.highWatermark() : offset;
        Errors error = Errors.NONE;
        if (target < 0 || target > partitionLog.highWatermark()) {
            error = Errors.OFFSET_OUT_OF_RANGE;
        } else {
            try {
                partitionLog.deleteRecordsBefore(target);
            } catch (IllegalArgumentException e) {
                // The high watermark only grows, but a concurrent truncation may have lowered it since the check.
                error = Errors.OFFSET_OUT_OF_RANGE;
            } catch (KafkaStorageException e) {
                error = Errors.KAFKA_STORAGE_ERROR;
            }
        }
        return new DeleteRecordsResult(error, partitionLog.logStartOffset());
    }

    /** OffsetForLeaderEpoch: the largest epoch at most {@code epoch} and the end offset of it. */
    public EpochEnd endOffsetForEpoch(Partition partition, int epoch) {
        EpochEndOffset found = partition.log().endOffsetForEpoch(epoch);
        return new EpochEnd(found.epoch(), found.endOffset());
    }

    /** The answer of {@link #endOffsetForEpoch}. */
    public record EpochEnd(int epoch, long endOffset) {
    }

    public int parkedOperations() {
        return delayed.parked();
    }

    @Override
    public void close() {
        flusher.close();
        delayed.close();
    }
}
