package io.gregor.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One partition's log: a directory of {@link LogSegment}s named by base offset, plus the
 * {@code leader-epoch-checkpoint}, {@code recovery-point}, {@code log-start-offset} and
 * {@code high-watermark} checkpoint files ({@link CheckpointFile} format).
 *
 * <p>Named offsets, in order: {@code logStartOffset <= highWatermark <= logEndOffset} and
 * {@code flushedOffset <= logEndOffset}. The log end offset (LEO) is the next offset to assign;
 * the flushed offset (recovery point) bounds what is known to be fsynced; the high watermark is
 * set by the broker.
 *
 * <p>Thread-safety: appends, rolls, retention and truncation are serialized by one lock; reads,
 * {@link #flush()} and the offset accessors are lock-free (flushes serialize among themselves so
 * an fsync never blocks an append). Appends publish the segment size before index entries and
 * the log end offset last, so a reader that sees an offset below the LEO finds its bytes.
 */
public final class Log implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Log.class);
    private static final long RECOVERY_POINT_CHECKPOINT_INTERVAL_MS = 60_000L;

    private final Path dir;
    private final Time time;
    private final FailureProbe probe;
    private final ReentrantLock lock = new ReentrantLock();
    private final java.util.concurrent.locks.ReentrantLock flushLock = new java.util.concurrent.locks.ReentrantLock();
    private final ConcurrentSkipListMap<Long, LogSegment> segments;
    private final LogCheckpoints checkpoints;
    private final LeaderEpochCache epochs;
    private final ProducerStateManager producerState;
    private final AbortedTransactionIndex abortedTransactions;
    /** The producer state's first unstable offset at the last change (Long.MAX_VALUE: none). */
    private volatile long firstUnstableOffset = Long.MAX_VALUE;
    private final DeletedSegments deleted = new DeletedSegments();
    private final AtomicBoolean directoryDirty = new AtomicBoolean();
    /** A new log: the parent directory's entry for it must be synced with the first flush. */
    private final AtomicBoolean parentDirty = new AtomicBoolean();
    private volatile LogConfig config;
    private volatile long logStartOffset;
    private volatile long logEndOffset;
    private volatile long highWatermark;
    private volatile long flushedOffset;
    private volatile long lastFlushMs;
    private volatile boolean closed;
    private volatile long tombstoneHorizonMs = -1;
    private long lastRecoveryPointCheckpointMs;

    private Log(Path dir, LogConfig config, Time time, FailureProbe probe, LogCheckpoints checkpoints,
                LeaderEpochCacheHolder holder, LogLoader.Result loaded, ProducerStateManager producerState,
                AbortedTransactionIndex abortedTransactions) {
        this.dir = dir;
        this.producerState = producerState;
        this.abortedTransactions = abortedTransactions;
        this.config = config;
        this.time = time;
        this.probe = probe;
        this.checkpoints = checkpoints;
        this.epochs = holder.cache;
        this.segments = loaded.segments();
        this.logStartOffset = loaded.logStartOffset();
        this.logEndOffset = loaded.logEndOffset();
        this.highWatermark = loaded.highWatermark();
        this.flushedOffset = loaded.logEndOffset();
        this.lastFlushMs = time.milliseconds();
        this.lastRecoveryPointCheckpointMs = lastFlushMs;
        holder.log = this;
        refreshStable();
    }

    /** Lets the epoch cache read the LEO of a log that does not exist yet while loading. */
    private static final class LeaderEpochCacheHolder {
        private LeaderEpochCache cache;
        private Log log;
        private long loadingEndOffset;

        long logEndOffset() {
            return log == null ? loadingEndOffset : log.logEndOffset();
        }
    }

    /**
     * Opens (creating if needed) the log in {@code dir}. Recovers the tail when
     * {@code hadCleanShutdown} is false, and any segment whose index files are missing or corrupt.
     *
     * @throws KafkaStorageException on an I/O error
     */
    public static Log open(Path dir, LogConfig config, Time time, FailureProbe probe, boolean hadCleanShutdown) {
        try {
            LogCheckpoints checkpoints = new LogCheckpoints(dir);
            boolean created = !java.nio.file.Files.isDirectory(dir);
            java.nio.file.Files.createDirectories(dir);
            long recoveryPoint = checkpoints.recoveryPoint();
            LeaderEpochCacheHolder holder = new LeaderEpochCacheHolder();
            holder.cache = new LeaderEpochCache(new CheckpointFile(dir.resolve(LeaderEpochCache.FILE_NAME)), holder::logEndOffset);
            LogLoader.Result loaded = new LogLoader(dir, config, time, hadCleanShutdown).load(checkpoints, holder.cache);
            holder.loadingEndOffset = loaded.logEndOffset();
            checkpoints.writeRecoveryPoint(loaded.logEndOffset());
            checkpoints.writeLogStartOffset(loaded.logStartOffset());
            LOG.debug("{}: opened, log start offset {}, log end offset {}, {} segments",
                    dir, loaded.logStartOffset(), loaded.logEndOffset(), loaded.segments().size());
            AbortedTransactionIndex aborted = new AbortedTransactionIndex(dir);
            aborted.truncateTo(loaded.logEndOffset());
            ProducerStateManager producerState = new ProducerStateManager(dir);
            producerState.onAbort(txn -> appendAborted(dir, aborted, txn));
            // After a crash the replay starts at or below the recovery point: the aborts after it may not be durable.
            producerState.load(loaded.segments(), loaded.logEndOffset(), !hadCleanShutdown,
                    hadCleanShutdown ? Long.MAX_VALUE : recoveryPoint);
            Log log = new Log(dir, config, time, probe, checkpoints, holder, loaded, producerState, aborted);
            if (created) {
                // Neither the first segment's entry in the new directory nor the directory's entry in its parent is
                // durable yet; the first flush syncs both, so acknowledged writes never depend on unsynced entries.
                log.directoryDirty.set(true);
                log.parentDirty.set(true);
            }
            return log;
        } catch (IOException e) {
            throw new KafkaStorageException("Failed to open log " + dir + ": " + e.getMessage(), e);
        }
    }

    /**
     * Appends one or more magic-v2 batches (the buffer's position..limit) exactly as a producer
     * sent them, after validating each; stamps base offset and leader epoch (and LogAppendTime
     * when configured) in place. Either every batch is appended or none is.
     *
     * @throws CorruptRecordException on a malformed batch
     * @throws RecordTooLargeException when a batch exceeds {@code max.message.bytes}
     * @throws KafkaStorageException on an I/O error (the file is truncated back)
     */
    public LogAppendInfo append(ByteBuffer records, int leaderEpoch) {
        return append(records, leaderEpoch, false);
    }

    /**
     * As {@link #append(ByteBuffer, int)}; {@code fromCoordinator} marks batches a coordinator writes (transactional
     * offsets, markers): their producer epochs are checked but not their sequence numbers, and they are never taken
     * for retries, as in Kafka.
     */
    public LogAppendInfo append(ByteBuffer records, int leaderEpoch, boolean fromCoordinator) {
        return append(records, leaderEpoch, fromCoordinator, -1, NO_VERIFICATION, false);
    }

    /** {@link #transactionVerificationToken}: nothing to verify. */
    public static final long NO_VERIFICATION = ProducerStateManager.NO_VERIFICATION;

    /**
     * The token of a transactional batch that was not verified because its transaction was open in this log: {@link
     * #appendVerified} refuses it if that transaction ended meanwhile (it would open one its coordinator knows not of).
     */
    public static final long EXPECT_OPEN = ProducerStateManager.EXPECT_OPEN;

    /**
     * Whether a transactional batch of {@code producerId} at {@code epoch} must be verified with its transaction
     * coordinator before it may open a transaction in this log (KIP-890 part 1): {@link #NO_VERIFICATION} when its
     * transaction is open here already, else a token to hand to {@link #appendVerified} once the coordinator agreed.
     */
    public long transactionVerificationToken(long producerId, short epoch) {
        lock.lock();
        try {
            return producerState.verificationToken(producerId, epoch);
        } finally {
            lock.unlock();
        }
    }

    /**
     * As {@link #append(ByteBuffer, int)} for batches whose transaction the coordinator verified: one of
     * {@code producerId} that would open a transaction fails with {@link InvalidTxnStateException} if a marker of
     * that producer was appended since {@code token} was taken.
     */
    public LogAppendInfo appendVerified(ByteBuffer records, int leaderEpoch, long producerId, long token) {
        return appendVerified(records, leaderEpoch, producerId, token, false);
    }

    /**
     * As {@link #appendVerified(ByteBuffer, int, long, long)}; with {@code epochBumpingMarkers} (a producer of
     * transaction version 2, whose transactions end with markers of the next epoch) a marker at the batch's own epoch
     * that arrived since the token ended the previous transaction and does not refuse the batch.
     */
    public LogAppendInfo appendVerified(ByteBuffer records, int leaderEpoch, long producerId, long token,
                                        boolean epochBumpingMarkers) {
        return append(records, leaderEpoch, false, producerId, token, epochBumpingMarkers);
    }

    private LogAppendInfo append(ByteBuffer records, int leaderEpoch, boolean fromCoordinator, long verifiedProducerId,
                                 long token, boolean epochBumpingMarkers) {
        ByteBuffer buffer = records.duplicate().order(ByteOrder.BIG_ENDIAN);
        int start = buffer.position();
        int end = buffer.limit();
        if (start == end) {
            throw new CorruptRecordException("Empty record set");
        }
        LogConfig current = config;
        List<Integer> sizes = new ArrayList<>();
        for (int position = start; position < end; ) {
            int size = RecordBatchHeader.validate(buffer, position, end - position, current.maxMessageBytes());
            sizes.add(size);
            position += size;
        }
        lock.lock();
        try {
            ensureOpen();
            return appendValidated(buffer, start, end, sizes, leaderEpoch, current, (token == NO_VERIFICATION
                    ? producerState.beginAppend(fromCoordinator) : producerState.beginVerifiedAppend(verifiedProducerId, token,
                    epochBumpingMarkers)).onEmptyLog(logEndOffset() == 0));
        } finally {
            lock.unlock();
        }
    }

    /**
     * Appends batches copied from the partition's leader, keeping their offsets and leader epochs (a follower's
     * log becomes a copy of the leader's). The first batch must start at this log's end offset and offsets must
     * follow on; compacted batches (fewer records than offsets) are accepted. Every batch is appended or none.
     *
     * @throws CorruptRecordException on a malformed batch or offsets that do not follow on
     * @throws KafkaStorageException on an I/O error
     */
    public LogAppendInfo appendAsFollower(ByteBuffer records) {
        ByteBuffer buffer = records.duplicate().order(ByteOrder.BIG_ENDIAN);
        int start = buffer.position();
        int end = buffer.limit();
        if (start == end) {
            throw new CorruptRecordException("Empty record set");
        }
        List<Integer> sizes = new ArrayList<>();
        for (int position = start; position < end; ) {
            if (end - position < RecordBatchHeader.HEADER_SIZE) {
                throw new CorruptRecordException("Record batch truncated at " + position);
            }
            int size = RecordBatchHeader.sizeInBytes(buffer, position);
            if (size < RecordBatchHeader.HEADER_SIZE || size > end - position) {
                throw new CorruptRecordException("Record batch length " + size + " inconsistent with " + (end - position)
                        + " bytes available");
            }
            RecordBatchHeader.validateContent(buffer, position, size, false);
            sizes.add(size);
            position += size;
        }
        lock.lock();
        try {
            ensureOpen();
            long nowMs = time.milliseconds();
            long next = logEndOffset;
            long maxTimestamp = -1L;
            long offsetOfMaxTimestamp = next;
            int recordCount = 0;
            List<FileBatchScanner.Entry> batches = new ArrayList<>(sizes.size());
            List<Integer> batchEpochs = new ArrayList<>();
            List<ProducerBatch> producerBatches = new ArrayList<>(sizes.size());
            int position = start;
            for (int size : sizes) {
                long base = RecordBatchHeader.baseOffset(buffer, position);
                if (base != next) {
                    throw new CorruptRecordException("Batch from the leader starts at offset " + base + ", but the log of "
                            + dir + " ends at " + next);
                }
                int delta = RecordBatchHeader.lastOffsetDelta(buffer, position);
                long batchMax = RecordBatchHeader.maxTimestamp(buffer, position);
                if (batchMax > maxTimestamp) {
                    maxTimestamp = batchMax;
                    offsetOfMaxTimestamp = base;
                }
                recordCount += RecordBatchHeader.recordCount(buffer, position);
                batches.add(new FileBatchScanner.Entry(position - start, size, base, base + delta, batchMax));
                batchEpochs.add(buffer.getInt(position + RecordBatchHeader.PARTITION_LEADER_EPOCH));
                producerBatches.add(ProducerBatch.read(buffer, position, base, base + delta));
                next = base + delta + 1L;
                position += size;
            }
            long firstOffset = logEndOffset;
            writeToActiveSegment(buffer, start, end, batches, next - 1, nowMs, config);
            producerBatches.forEach(producerState::applyStored);
            logEndOffset = next;
            refreshStable();
            for (int i = 0; i < batches.size(); i++) {
                int epoch = batchEpochs.get(i);
                if (epoch >= 0 && epoch > epochs.latestEpoch()) {
                    epochs.assign(epoch, batches.get(i).baseOffset());
                }
            }
            return new LogAppendInfo(firstOffset, next - 1, -1L, maxTimestamp, offsetOfMaxTimestamp, end - start,
                    recordCount);
        } finally {
            lock.unlock();
        }
    }

    private LogAppendInfo appendValidated(ByteBuffer buffer, int start, int end, List<Integer> sizes, int leaderEpoch,
                                          LogConfig current, ProducerStateManager.ProducedAppend producers) {
        long nowMs = time.milliseconds();
        long next = logEndOffset;
        long appendTime = current.logAppendTime() ? nowMs : -1L;
        // Producer checks first, with the offsets the batches will get: a retried batch is answered with where it was
        // stored, and a batch out of sequence or of a fenced epoch fails the whole append before anything is written.
        long expected = next;
        int checkAt = start;
        for (int size : sizes) {
            long last = expected + RecordBatchHeader.lastOffsetDelta(buffer, checkAt);
            ProducerBatch batch = ProducerBatch.read(buffer, checkAt, expected, last);
            ProducerStateManager.BatchMetadata duplicate = producers.check(batch,
                    current.logAppendTime() ? nowMs : batch.maxTimestamp());
            if (duplicate != null) {
                LOG.debug("{}: batch of producer {} epoch {} sequences {}-{} is a retry of offsets {}-{}", dir,
                        batch.producerId(), batch.epoch(), duplicate.firstSeq(), duplicate.lastSeq(),
                        duplicate.firstOffset(), duplicate.lastOffset());
                return new LogAppendInfo(duplicate.firstOffset(), duplicate.lastOffset(),
                        current.logAppendTime() ? duplicate.timestamp() : -1L, duplicate.timestamp(),
                        duplicate.firstOffset(), 0, 0);
            }
            expected = last + 1;
            checkAt += size;
        }
        long maxTimestamp = -1L;
        long offsetOfMaxTimestamp = next;
        int recordCount = 0;
        List<FileBatchScanner.Entry> batches = new ArrayList<>(sizes.size());
        int position = start;
        for (int size : sizes) {
            RecordBatchHeader.stampOffsetAndEpoch(buffer, position, next, leaderEpoch);
            if (current.logAppendTime()) {
                RecordBatchHeader.stampLogAppendTime(buffer, position, size, nowMs);
            }
            int delta = RecordBatchHeader.lastOffsetDelta(buffer, position);
            long batchMaxTimestamp = RecordBatchHeader.maxTimestamp(buffer, position);
            if (batchMaxTimestamp > maxTimestamp) {
                maxTimestamp = batchMaxTimestamp;
                offsetOfMaxTimestamp = next;
            }
            recordCount += RecordBatchHeader.recordCount(buffer, position);
            batches.add(new FileBatchScanner.Entry(position - start, size, next, next + delta, batchMaxTimestamp));
            next += delta + 1L;
            position += size;
        }
        long firstOffset = logEndOffset;
        long lastOffset = next - 1;
        writeToActiveSegment(buffer, start, end, batches, lastOffset, nowMs, current);
        producers.commit();
        logEndOffset = next;
        refreshStable();
        if (leaderEpoch >= 0 && leaderEpoch > epochs.latestEpoch()) {
            epochs.assign(leaderEpoch, firstOffset);
        }
        return new LogAppendInfo(firstOffset, lastOffset, appendTime, maxTimestamp, offsetOfMaxTimestamp, end - start, recordCount);
    }

    /** Writes validated batches to the active segment, rolling it first when they would not belong in it. */
    private void writeToActiveSegment(ByteBuffer buffer, int start, int end, List<FileBatchScanner.Entry> batches,
                                      long lastOffset, long nowMs, LogConfig current) {
        try {
            LogSegment active = segments.lastEntry().getValue();
            long incomingTimestamp = -1;
            for (FileBatchScanner.Entry batch : batches) {
                incomingTimestamp = Math.max(incomingTimestamp, batch.maxTimestamp());
            }
            if (active.shouldRoll(end - start, lastOffset, nowMs, incomingTimestamp < 0 ? nowMs : incomingTimestamp, current)) {
                active = roll(active, nowMs);
            }
            active.append(buffer.duplicate().position(start).limit(end), batches, probe, current.indexIntervalBytes());
        } catch (IOException e) {
            throw new KafkaStorageException("Append to " + dir + " at offset " + logEndOffset + " failed: "
                    + e.getMessage(), e);
        }
    }

    private LogSegment roll(LogSegment active, long nowMs) throws IOException {
        probe.beforeRoll(active.logFile());
        long base = logEndOffset;
        LogSegment rolled = LogSegment.open(dir, base, config.maxIndexBytes(), nowMs);
        active.onBecomeInactive();
        segments.put(base, rolled);
        directoryDirty.set(true);
        writeProducerSnapshot(base);
        LOG.debug("{}: rolled new segment at offset {}", dir, base);
        return rolled;
    }

    /**
     * Whole batches from the one holding {@code startOffset}, within one segment: stops before a
     * batch whose base offset is {@code >= maxOffsetExclusive} or that would take the total past
     * {@code maxBytes}; when {@code minOneBatch} the first batch is returned even if larger.
     *
     * @throws OffsetOutOfRangeException when {@code startOffset} is outside [log start, log end]
     */
    public FetchSlice read(long startOffset, int maxBytes, long maxOffsetExclusive, boolean minOneBatch) {
        long start = logStartOffset;
        long end = logEndOffset;
        if (startOffset < start || startOffset > end) {
            throw new OffsetOutOfRangeException("Offset " + startOffset + " is out of range [" + start + ", " + end + "] of " + dir);
        }
        if (startOffset == end) {
            return FetchSlice.EMPTY;
        }
        Map.Entry<Long, LogSegment> entry = segments.floorEntry(startOffset);
        if (entry == null) {
            throw new OffsetOutOfRangeException("Offset " + startOffset + " was deleted from " + dir + " (log start " + logStartOffset + ")");
        }
        try {
            while (entry != null) {
                FetchSlice slice = entry.getValue().read(startOffset, maxBytes, maxOffsetExclusive, minOneBatch);
                if (slice != null) {
                    return slice;
                }
                entry = segments.higherEntry(entry.getKey());
            }
            return FetchSlice.EMPTY;
        } catch (IOException e) {
            throw new KafkaStorageException("Read from " + dir + " at offset " + startOffset + " failed: " + e.getMessage(), e);
        }
    }

    private static void appendAborted(Path dir, AbortedTransactionIndex index, AbortedTransaction txn) {
        try {
            index.append(txn);
        } catch (IOException e) {
            // The batches are written: failing the append now would leave them unacknowledged but stored. The index
            // entry is rebuilt by the replay of the next open after a crash; until then read_committed readers of
            // this range are not told of this abort.
            LOG.error("{}: cannot record the aborted transaction {}: {}", dir, txn, e.toString());
        }
    }

    /** Recomputes the first unstable offset from the producer state; under the lock. */
    private void refreshStable() {
        firstUnstableOffset = producerState.firstUnstableOffset(highWatermark);
    }

    /**
     * The last stable offset: the high watermark, or the first record of the earliest transaction below it that is
     * open or whose marker the high watermark has not passed. A read_committed reader reads up to it.
     */
    public long lastStableOffset() {
        return Math.min(highWatermark, firstUnstableOffset);
    }

    /**
     * The aborted transactions whose records a read of {@code [fetchOffset, upperBound)} may hold (marker at or
     * after {@code fetchOffset}, first record before {@code upperBound}), in marker order.
     */
    public List<AbortedTransaction> abortedTransactions(long fetchOffset, long upperBound) {
        return abortedTransactions.collect(fetchOffset, upperBound);
    }

    /**
     * Forgets the aborted transactions whose abort markers are at {@code markerOffsets}: the log cleaner removes those
     * markers, after every record of their transactions, and calls this (durably) before it swaps the segments, so
     * the index never names a transaction whose marker is gone (a reader would then drop that producer's later
     * transactions as well).
     */
    void forgetAbortedTransactions(java.util.Set<Long> markerOffsets) {
        if (markerOffsets.isEmpty()) {
            return;
        }
        lock.lock();
        try {
            ensureOpen();
            abortedTransactions.remove(markerOffsets);
        } catch (IOException e) {
            throw new KafkaStorageException("Rewriting the aborted-transaction index of " + dir + " failed: " + e.getMessage(), e);
        } finally {
            lock.unlock();
        }
    }

    /** How many transactions are open in this log. */
    public int ongoingTransactions() {
        lock.lock();
        try {
            return producerState.ongoingTransactions();
        } finally {
            lock.unlock();
        }
    }

    public long logStartOffset() {
        return logStartOffset;
    }

    public long logEndOffset() {
        return logEndOffset;
    }

    /** Every offset below this is fsynced (the recovery point). */
    public long flushedOffset() {
        return flushedOffset;
    }

    public long highWatermark() {
        return highWatermark;
    }

    /** Sets the high watermark, clamped to [log start offset, log end offset]. */
    public void updateHighWatermark(long hw) {
        lock.lock();
        try {
            highWatermark = Math.min(Math.max(hw, logStartOffset), logEndOffset);
            refreshStable();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Fsyncs every segment that may hold unflushed data and advances the flushed offset to the
     * log end offset seen at the start. Concurrent appends continue meanwhile.
     *
     * @throws KafkaStorageException on an I/O error
     */
    public void flush() {
        flushLock.lock();
        try {
            flushLocked();
        } finally {
            flushLock.unlock();
        }
    }

    private void flushLocked() {
        long target = logEndOffset;
        long nowMs = time.milliseconds();
        if (target <= flushedOffset) {
            lastFlushMs = nowMs;
            return;
        }
        // The epochs of the records about to be durable, first.
        epochs.flush();
        try {
            Long from = segments.floorKey(flushedOffset);
            for (LogSegment segment : (from == null ? segments : segments.tailMap(from)).values()) {
                if (segment.baseOffset() >= target) {
                    break;
                }
                probe.beforeFlush(segment.logFile());
                segment.flush();
            }
            abortedTransactions.flush();
            if (directoryDirty.getAndSet(false)) {
                CheckpointFile.fsyncDirectory(dir);
            }
            if (parentDirty.getAndSet(false) && dir.getParent() != null) {
                CheckpointFile.fsyncDirectory(dir.getParent());
            }
        } catch (IOException e) {
            throw new KafkaStorageException("Flush of " + dir + " failed: " + e.getMessage(), e);
        }
        flushedOffset = target;
        lastFlushMs = nowMs;
        maybeCheckpointRecoveryPoint(nowMs);
    }

    private void maybeCheckpointRecoveryPoint(long nowMs) {
        if (nowMs - lastRecoveryPointCheckpointMs < RECOVERY_POINT_CHECKPOINT_INTERVAL_MS) {
            return;
        }
        lastRecoveryPointCheckpointMs = nowMs;
        try {
            checkpoints.writeRecoveryPoint(flushedOffset);
            checkpoints.writeHighWatermark(highWatermark);
        } catch (IOException e) {
            LOG.warn("{}: failed to checkpoint the recovery point: {}", dir, e.toString());
        }
    }

    /** True when {@code flush.messages} or {@code flush.ms} says the unflushed tail must be flushed. */
    public boolean needsFlushByPolicy() {
        long unflushed = logEndOffset - flushedOffset;
        LogConfig current = config;
        return unflushed > 0
                && (unflushed >= current.flushMessages() || time.milliseconds() - lastFlushMs >= current.flushMs());
    }

    /**
     * The first batch whose max timestamp is {@code >= targetTimestamp}, as (that max timestamp,
     * its base offset, or the log start offset if larger); null when none.
     */
    public TimestampOffset offsetForTimestamp(long targetTimestamp) {
        try {
            for (LogSegment segment : segments.values()) {
                TimestampOffset found = segment.maxTimestamp().timestamp() >= targetTimestamp ? segment.findByTimestamp(targetTimestamp) : null;
                if (found != null) {
                    return new TimestampOffset(found.timestamp(), Math.max(found.offset(), logStartOffset));
                }
            }
            return null;
        } catch (IOException e) {
            throw new KafkaStorageException("Timestamp lookup in " + dir + " failed: " + e.getMessage(), e);
        }
    }

    /** The largest batch max timestamp and that batch's base offset; null when the log is empty. */
    public TimestampOffset maxTimestampAndOffset() {
        if (logEndOffset == logStartOffset) {
            return null;
        }
        TimestampOffset max = null;
        for (LogSegment segment : segments.values()) {
            TimestampOffset candidate = segment.maxTimestamp();
            if (segment.size() > 0 && (max == null || candidate.timestamp() > max.timestamp())) {
                max = candidate;
            }
        }
        return max;
    }

    /**
     * DeleteRecords: advances the log start offset to {@code offset} (persisted) and deletes the
     * segments wholly below it.
     *
     * @throws IllegalArgumentException when {@code offset} is beyond the high watermark
     */
    public void deleteRecordsBefore(long offset) {
        lock.lock();
        try {
            ensureOpen();
            if (offset > highWatermark) {
                throw new IllegalArgumentException("Cannot delete records before " + offset + ": beyond the high watermark " + highWatermark);
            }
            if (offset <= logStartOffset) {
                return;
            }
            advanceLogStartOffset(offset);
            for (LogSegment segment : nonActiveSegments()) {
                Long nextBase = segments.higherKey(segment.baseOffset());
                if (nextBase == null || nextBase > offset) {
                    break;
                }
                deleteSegment(segment, "log start offset " + offset);
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Deletes whole non-active segments by {@code retention.ms} (largest timestamp older than now
     * minus retention) and {@code retention.bytes} (oldest first while the log stays at or above
     * the limit). A segment is only deleted when the high watermark has passed its last offset.
     *
     * @return the number of segments deleted
     */
    public int applyRetention() {
        lock.lock();
        try {
            ensureOpen();
            long nowMs = time.milliseconds();
            deleted.sweep(nowMs);
            LogConfig current = config;
            int count = 0;
            if (!current.compaction().delete()) {
                return 0; // cleanup.policy=compact: only the cleaner removes records
            }
            boolean bySize = current.retentionBytes() >= 0;
            long excessBytes = bySize ? sizeInBytes() - current.retentionBytes() : 0;
            for (LogSegment segment : nonActiveSegments()) {
                long nextBase = segments.higherKey(segment.baseOffset());
                boolean expired = current.retentionMs() >= 0 && segment.maxTimestamp().timestamp() < nowMs - current.retentionMs();
                boolean oversize = bySize && excessBytes - segment.size() >= 0;
                if (nextBase > highWatermark || !(expired || oversize)) {
                    break;
                }
                excessBytes -= segment.size();
                advanceLogStartOffset(nextBase);
                deleteSegment(segment, expired ? "retention.ms" : "retention.bytes");
                count++;
            }
            return count;
        } finally {
            lock.unlock();
        }
    }

    /** Rolls the active segment when it is older than {@code segment.ms}. */
    public void maybeRoll() {
        lock.lock();
        try {
            ensureOpen();
            long nowMs = time.milliseconds();
            LogSegment active = segments.lastEntry().getValue();
            if (active.shouldRoll(0, logEndOffset, nowMs, nowMs, config)) {
                roll(active, nowMs);
            }
        } catch (IOException e) {
            throw new KafkaStorageException("Roll of " + dir + " failed: " + e.getMessage(), e);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Removes every offset {@code >= offset} (a follower truncating to its leader). The batch
     * holding {@code offset} goes too, so the new log end offset may be lower than {@code offset}.
     */
    public void truncateTo(long offset) {
        lock.lock();
        try {
            ensureOpen();
            if (offset >= logEndOffset) {
                return;
            }
            if (offset < logStartOffset) {
                throw new IllegalArgumentException("Cannot truncate " + dir + " to " + offset + " below log start " + logStartOffset);
            }
            for (LogSegment segment : new ArrayList<>(segments.tailMap(offset, false).values())) {
                if (segments.size() > 1 && segment.baseOffset() >= offset) {
                    deleteSegment(segment, "truncation to " + offset);
                }
            }
            LogSegment active = segments.lastEntry().getValue();
            long newEnd = Math.max(active.truncateTo(offset), active.baseOffset());
            active.onBecomeActive(config.maxIndexBytes());
            logEndOffset = newEnd;
            highWatermark = Math.min(highWatermark, newEnd);
            flushLock.lock();
            try {
                flushedOffset = Math.min(flushedOffset, newEnd);
            } finally {
                flushLock.unlock();
            }
            checkpoints.writeRecoveryPoint(flushedOffset);
            epochs.truncateFromEnd(newEnd);
            abortedTransactions.truncateTo(newEnd);
            producerState.load(segments, newEnd, true);
            refreshStable();
            LOG.info("{}: truncated to offset {}, log end offset now {}", dir, offset, newEnd);
        } catch (IOException e) {
            throw new KafkaStorageException("Truncation of " + dir + " failed: " + e.getMessage(), e);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Empties the log and starts it again at {@code offset} (a follower whose leader no longer has the records this
     * log ends at: retention or DeleteRecords removed them there). Every segment goes; the log start, log end, high
     * watermark and recovery point become {@code offset}.
     */
    public void truncateFullyAndStartAt(long offset) {
        lock.lock();
        try {
            ensureOpen();
            if (offset < 0) {
                throw new IllegalArgumentException("Cannot start " + dir + " at negative offset " + offset);
            }
            long nowMs = time.milliseconds();
            for (LogSegment segment : new ArrayList<>(segments.values())) {
                deleteSegment(segment, "restart at offset " + offset);
            }
            segments.put(offset, LogSegment.open(dir, offset, config.maxIndexBytes(), nowMs));
            directoryDirty.set(true);
            logStartOffset = offset;
            logEndOffset = offset;
            highWatermark = offset;
            flushLock.lock();
            try {
                flushedOffset = offset;
            } finally {
                flushLock.unlock();
            }
            checkpoints.writeLogStartOffset(offset);
            checkpoints.writeRecoveryPoint(offset);
            epochs.truncateFromEnd(0);
            producerState.clear();
            producerState.deleteAllSnapshots();
            abortedTransactions.clear();
            refreshStable();
            LOG.info("{}: emptied and restarted at offset {}", dir, offset);
        } catch (IOException e) {
            throw new KafkaStorageException("Restart of " + dir + " at " + offset + " failed: " + e.getMessage(), e);
        } finally {
            lock.unlock();
        }
    }

    /**
     * A follower follows its leader's log start offset: moves its own up to {@code offset} when that is within what
     * it holds up to its high watermark (never past it), deleting the segments wholly below.
     */
    public void maybeAdvanceLogStartOffset(long offset) {
        lock.lock();
        try {
            if (offset > logStartOffset && offset <= highWatermark) {
                deleteRecordsBefore(offset);
            }
        } finally {
            lock.unlock();
        }
    }

    /** Records that leader epoch {@code epoch} starts at {@code startOffset}. */
    public void assignEpoch(int epoch, long startOffset) {
        epochs.assign(epoch, startOffset);
    }

    /**
     * OffsetForLeaderEpoch: for the latest epoch, the log end offset; for an earlier one, the
     * start offset of the next higher epoch, with the largest known epoch {@code <= epoch}; -1/-1
     * when unknown.
     */
    public EpochEndOffset endOffsetForEpoch(int epoch) {
        return epochs.endOffsetFor(epoch);
    }

    /** The latest leader epoch, or -1. */
    public int latestEpoch() {
        return epochs.latestEpoch();
    }

    /**
     * Forgets the producers whose last batch here is {@code expirationMs} or more old ({@code
     * producer.id.expiration.ms}); a later batch of theirs is accepted with any sequence number, as from a new
     * producer. Returns how many were forgotten.
     */
    public int expireProducers(long expirationMs) {
        lock.lock();
        try {
            return closed ? 0 : producerState.expire(time.milliseconds(), expirationMs);
        } finally {
            lock.unlock();
        }
    }

    /** How many producers this log keeps state for. */
    public int producerCount() {
        lock.lock();
        try {
            return producerState.producerCount();
        } finally {
            lock.unlock();
        }
    }

    /** Every producer this log keeps state for (DescribeProducers). */
    public List<ActiveProducer> activeProducers() {
        lock.lock();
        try {
            return producerState.activeProducers();
        } finally {
            lock.unlock();
        }
    }

    /** The last offset of every producer's last batch here: the cleaner keeps that batch (maybe empty), as Kafka. */
    java.util.Map<Long, Long> lastBatchOffsets() {
        lock.lock();
        try {
            java.util.Map<Long, Long> last = new java.util.HashMap<>();
            for (var entries = producerState.entries(); entries.hasNext(); ) {
                ProducerStateManager.ProducerEntry entry = entries.next();
                if (entry.lastBatchOffset() >= 0) {
                    last.put(entry.producerId(), entry.lastBatchOffset());
                }
            }
            return last;
        } finally {
            lock.unlock();
        }
    }

    ProducerStateManager.ProducerEntry producerEntry(long producerId) {
        lock.lock();
        try {
            ProducerStateManager.ProducerEntry entry = producerState.entry(producerId);
            return entry == null ? null : entry.copy();
        } finally {
            lock.unlock();
        }
    }

    /** A snapshot that cannot be written costs only a longer rebuild at the next open. */
    private void writeProducerSnapshot(long offset) {
        try {
            producerState.writeSnapshot(offset);
        } catch (IOException e) {
            LOG.warn("{}: failed to write the producer state snapshot at {}: {}", dir, offset, e.toString());
        }
    }

    /** Takes effect for the next append or roll; index sizes at the next roll. */
    public void updateConfig(LogConfig config) {
        this.config = config;
    }

    public LogConfig config() {
        return config;
    }

    public long sizeInBytes() {
        long total = 0;
        for (LogSegment segment : segments.values()) {
            total += segment.size();
        }
        return total;
    }

    public int numberOfSegments() {
        return segments.size();
    }

    public Path dir() {
        return dir;
    }

    /** Flushes, writes the final index entries and checkpoints, and closes every file. */
    @Override
    public void close() {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            try {
                flush();
                epochs.flush();
                writeProducerSnapshot(logEndOffset);
            } catch (KafkaStorageException e) {
                LOG.error("{}: flush at close failed; the next open recovers the tail", dir, e);
            }
            deleted.releaseAll();
            for (LogSegment segment : segments.values()) {
                segment.close();
            }
            abortedTransactions.close();
            checkpoints.writeRecoveryPoint(flushedOffset);
            checkpoints.writeLogStartOffset(logStartOffset);
            checkpoints.writeHighWatermark(highWatermark);
        } catch (IOException e) {
            throw new KafkaStorageException("Close of " + dir + " failed: " + e.getMessage(), e);
        } finally {
            lock.unlock();
        }
    }

    // Compaction (LogCleaner): the cleaner reads segments without the lock and swaps the cleaned ones in under it.

    /** Every segment, oldest first; the last is the active one. */
    List<LogSegment> segmentList() {
        return new ArrayList<>(segments.values());
    }

    /** The offset below which the cleaner has cleaned. */
    long cleanerCheckpoint() {
        return checkpoints.cleanerOffset();
    }

    void writeCleanerCheckpoint(long offset) {
        try {
            checkpoints.writeCleanerOffset(offset);
        } catch (IOException e) {
            throw new KafkaStorageException("Failed to checkpoint the cleaner offset of " + dir, e);
        }
    }

    Time time() {
        return time;
    }

    /**
     * When the earliest tombstone the cleaner kept may go (its batch's delete horizon), or -1 when it kept none. Kept
     * in memory: after a restart the next cleaning finds the horizons again.
     */
    long tombstoneHorizonMs() {
        return tombstoneHorizonMs;
    }

    void tombstoneHorizonMs(long value) {
        tombstoneHorizonMs = value;
    }

    /**
     * Replaces {@code group} (consecutive non-active segments) by {@code cleaned}, a fsynced file holding what the
     * cleaner kept of them. Crash-safe: renaming the file to its swap name is the commit point, after which a restart
     * completes the swap ({@link LogLoader}); before it, the old segments stay. Readers of the old segments keep
     * their channels until {@code file.delete.delay.ms} has passed. Returns false, deleting {@code cleaned}, when a
     * segment of the group is gone (retention or truncation ran meanwhile).
     */
    boolean replaceSegments(List<LogSegment> group, Path cleaned) {
        lock.lock();
        try {
            ensureOpen();
            for (LogSegment segment : group) {
                if (segments.get(segment.baseOffset()) != segment || segment == segments.lastEntry().getValue()) {
                    java.nio.file.Files.deleteIfExists(cleaned);
                    return false;
                }
            }
            long base = group.get(0).baseOffset();
            Path swap = SegmentFiles.swapFile(dir, base, group.get(group.size() - 1).baseOffset());
            java.nio.file.Files.move(cleaned, swap, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            CheckpointFile.fsyncDirectory(dir);
            long nowMs = time.milliseconds();
            for (LogSegment segment : group) {
                segment.renameToDeleted();
            }
            java.nio.file.Files.move(swap, SegmentFiles.logFile(dir, base), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            LogSegment fresh = LogSegment.open(dir, base, config.maxIndexBytes(), nowMs);
            fresh.recover(config.indexIntervalBytes());
            fresh.onBecomeInactive();
            fresh.flush();
            CheckpointFile.fsyncDirectory(dir);
            // The fresh segment takes the first one's place before the others leave, so a reader never finds a gap.
            segments.put(base, fresh);
            for (LogSegment segment : group) {
                if (segment.baseOffset() != base) {
                    segments.remove(segment.baseOffset());
                }
                deleted.add(segment, nowMs + config.fileDeleteDelayMs());
            }
            return true;
        } catch (IOException e) {
            throw new KafkaStorageException("Swapping cleaned segments into " + dir + " failed: " + e.getMessage(), e);
        } finally {
            lock.unlock();
        }
    }

    /** Closes every file and removes the directory. */
    public void deleteFiles() {
        markDeleted();
        releaseHandles();
        LogFiles.deleteRecursively(dir);
    }

    /** Refuses further appends and changes; reads keep working on open channels. */
    void markDeleted() {
        lock.lock();
        try {
            closed = true;
        } finally {
            lock.unlock();
        }
    }

    /** Closes every channel without touching files (after {@link #markDeleted()}). */
    void releaseHandles() {
        deleted.closeAll();
        for (LogSegment segment : segments.values()) {
            segment.closeHandle();
        }
        try {
            abortedTransactions.close();
        } catch (IOException ignored) {
            // The log's files are being discarded.
        }
    }

    int pendingDeletions() {
        return deleted.size();
    }

    private void ensureOpen() {
        if (closed) {
            throw new KafkaStorageException("Log " + dir + " is closed");
        }
    }

    private List<LogSegment> nonActiveSegments() {
        List<LogSegment> all = new ArrayList<>(segments.values());
        return all.subList(0, all.size() - 1);
    }

    private void advanceLogStartOffset(long offset) {
        if (offset <= logStartOffset) {
            return;
        }
        logStartOffset = offset;
        highWatermark = Math.max(highWatermark, offset);
        try {
            checkpoints.writeLogStartOffset(offset);
        } catch (IOException e) {
            throw new KafkaStorageException("Failed to checkpoint log start offset of " + dir, e);
        }
        epochs.truncateFromStart(offset);
        try {
            abortedTransactions.trimBelow(offset);
        } catch (IOException e) {
            LOG.warn("{}: failed to trim the aborted transactions below {}: {}", dir, offset, e.toString());
        }
    }

    private void deleteSegment(LogSegment segment, String reason) {
        segments.remove(segment.baseOffset());
        try {
            segment.renameToDeleted();
        } catch (IOException e) {
            LOG.warn("{}: failed to rename deleted segment {}: {}", dir, segment.baseOffset(), e.toString());
        }
        deleted.add(segment, time.milliseconds() + config.fileDeleteDelayMs());
        if (!segments.isEmpty()) {
            try {
                producerState.deleteSnapshotsBefore(segments.firstKey());
            } catch (IOException e) {
                LOG.warn("{}: failed to delete producer state snapshots below {}: {}", dir, segments.firstKey(), e.toString());
            }
        }
        LOG.info("{}: deleted segment {} ({})", dir, segment.baseOffset(), reason);
        deleted.sweep(time.milliseconds());
    }

    @Override
    public String toString() {
        return "Log(" + dir + ", logStartOffset=" + logStartOffset + ", logEndOffset=" + logEndOffset + ")";
    }
}
