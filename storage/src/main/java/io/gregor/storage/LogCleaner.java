package io.gregor.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.MutableRecordBatch;
import org.apache.kafka.common.record.Record;
import org.apache.kafka.common.record.RecordBatch;
import org.apache.kafka.common.utils.BufferSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Log compaction for {@code cleanup.policy=compact} (and {@code compact,delete}): keeps the latest record of every
 * key, as Kafka's log cleaner does.
 *
 * <p>A log is split at its <em>first dirty offset</em> (the {@code cleaner-offset} checkpoint): below it, the log has
 * been cleaned; above it, records are new. It is cleanable up to the <em>first uncleanable offset</em>: the active
 * segment, the high watermark and any segment with a record younger than {@code min.compaction.lag.ms} are never
 * cleaned. A cleaning runs when the dirty part is at least {@code min.cleanable.dirty.ratio} of the cleanable log,
 * when its oldest segment is older than {@code max.compaction.lag.ms}, or when a tombstone it kept has reached its
 * delete horizon (then the cleaned part alone is rewritten, so tombstones go without waiting for new records). It
 * then:
 * <ol>
 *   <li>maps every key of the dirty part to its latest offset ({@link OffsetMap}, bounded by
 *       {@code log.cleaner.dedupe.buffer.size}; when it fills, the cleaning stops at the offset it reached);</li>
 *   <li>rewrites every segment below that offset, in groups no larger than {@code segment.bytes}: a record is dropped
 *       when a later record has its key; a tombstone (null value) is kept until {@code delete.retention.ms} after the
 *       cleaning that first saw it (the batch's delete horizon, KIP-534), then dropped; offsets, batch metadata,
 *       compression, control batches and keyless records are kept;</li>
 *   <li>swaps each rewritten group in for the segments it replaces ({@link Log#replaceSegments}, crash-safe) and
 *       moves the first dirty offset forward.</li>
 * </ol>
 * Reading and writing is throttled to {@code log.cleaner.io.max.bytes.per.second}. One cleaner cleans one log at a
 * time; it is not thread-safe.
 */
public final class LogCleaner {
    private static final Logger LOG = LoggerFactory.getLogger(LogCleaner.class);
    private static final int READ_CHUNK_BYTES = 1 << 20;
    /** Base offset and length: what comes before a batch's length counts. */
    private static final int LOG_OVERHEAD = 12;

    /** Cleaner-wide settings: Kafka's {@code log.cleaner.*} broker properties. */
    public record Settings(long dedupeBufferBytes, double ioMaxBytesPerSecond) {
        public static final Settings DEFAULTS = new Settings(128L << 20, Double.MAX_VALUE);

        public Settings {
            if (dedupeBufferBytes < 16L * OffsetMap.BYTES_PER_ENTRY || ioMaxBytesPerSecond <= 0) {
                throw new IllegalArgumentException("log.cleaner.dedupe.buffer.size " + dedupeBufferBytes
                        + " or log.cleaner.io.max.bytes.per.second " + ioMaxBytesPerSecond + " out of range");
            }
        }
    }

    /** What one cleaning did. */
    public record Result(long firstDirtyOffset, long cleanedUpTo, int segmentsBefore, int segmentsAfter, long bytesRead,
                         long bytesWritten, long recordsRead, long recordsRetained) {
    }

    private final Settings settings;
    private final BufferSupplier decompression = BufferSupplier.create();
    private final Throttle throttle;
    private volatile boolean stopping;

    public LogCleaner(Settings settings, Time time) {
        this.settings = settings;
        this.throttle = new Throttle(settings.ioMaxBytesPerSecond(), time);
    }

    /**
     * The share of the cleanable part of {@code log} that is dirty, from 0 to 1; 0 when the log is not compacted or
     * has nothing cleanable.
     */
    /**
     * Asks a running cleaning to stop at its next batch (the broker shuts down): the partly written cleaned file is
     * deleted and the log keeps its segments as they were. Stopping this way, rather than by interrupting the
     * cleaner's thread, never leaves a swap half done or closes a segment's file channel under a reader.
     */
    public void stop() {
        stopping = true;
    }

    /** Thrown inside a cleaning that {@link #stop()} ended. */
    private static final class Stopped extends RuntimeException {
        Stopped() {
            super("the cleaner is stopping", null, false, false);
        }
    }

    public static double dirtyRatio(Log log) {
        Range range = Range.of(log);
        return range == null ? 0 : range.dirtyRatio();
    }

    /** Cleans {@code log} when its policy is compact and it is dirty enough (or overdue); null when it was not. */
    public Result maybeClean(Log log) {
        Range range = Range.of(log);
        if (range == null) {
            return null;
        }
        LogConfig.Compaction compaction = log.config().compaction();
        long nowMs = log.time().milliseconds();
        boolean overdue = range.oldestDirtyTimestamp >= 0
                && nowMs - range.oldestDirtyTimestamp > compaction.maxCompactionLagMs();
        if (range.dirtyRatio() < compaction.minCleanableDirtyRatio() && !overdue && !range.tombstonesDue) {
            return null;
        }
        return clean(log, range, nowMs);
    }

    /** Cleans {@code log} now if it has anything cleanable, whatever its ratio; null when it has not. */
    public Result clean(Log log) {
        Range range = Range.of(log);
        return range == null ? null : clean(log, range, log.time().milliseconds());
    }

    private Result clean(Log log, Range range, long nowMs) {
        try {
            // With nothing dirty (only tombstones to drop), the map stays empty and the cleaned part is rewritten.
            OffsetMap map = new OffsetMap(range.dirtyBytes == 0 ? 16L * OffsetMap.BYTES_PER_ENTRY : settings.dedupeBufferBytes());
            Aborted aborted = new Aborted(log.abortedTransactions(range.segments.get(0).baseOffset(), range.firstUncleanable));
            long mappedUpTo = range.dirtyBytes == 0 ? range.firstDirty : buildMap(range, map, aborted);
            if (mappedUpTo <= range.firstDirty && range.dirtyBytes > 0) {
                LOG.warn("{}: the cleaner's dedupe buffer ({} bytes) cannot hold the keys of one batch; not cleaned",
                        log.dir(), settings.dedupeBufferBytes());
                return null;
            }
            Stats stats = new Stats();
            List<List<LogSegment>> groups = groups(range.segments, mappedUpTo, log.config());
            if (groups.isEmpty()) {
                log.tombstoneHorizonMs(-1);
                return null;
            }
            int segmentsBefore = groups.stream().mapToInt(List::size).sum();
            Transactions transactions = new Transactions(log.lastBatchOffsets());
            for (List<LogSegment> group : groups) {
                if (stopping) {
                    return null;
                }
                Path cleaned = writeCleaned(log, group, map, mappedUpTo, nowMs, stats, aborted, transactions);
                // Before the swap: an index entry without its marker is harmless, a marker gone with its entry kept is not.
                log.forgetAbortedTransactions(transactions.removedAbortMarkers);
                transactions.removedAbortMarkers.clear();
                if (!log.replaceSegments(group, cleaned)) {
                    LOG.info("{}: segments changed while being cleaned; the cleaning stops here", log.dir());
                    return null;
                }
            }
            log.writeCleanerCheckpoint(mappedUpTo);
            log.tombstoneHorizonMs(stats.earliestHorizonMs);
            Result result = new Result(range.firstDirty, mappedUpTo, segmentsBefore, groups.size(), stats.bytesRead,
                    stats.bytesWritten, stats.recordsRead, stats.recordsRetained);
            LOG.info("{}: cleaned offsets {} to {}: {} segments into {}, {} of {} records kept ({} of {} bytes){}", log.dir(),
                    range.firstDirty, mappedUpTo, segmentsBefore, groups.size(), stats.recordsRetained, stats.recordsRead,
                    stats.bytesWritten, stats.bytesRead,
                    stats.markersRemoved == 0 ? "" : ", " + stats.markersRemoved + " transaction markers removed");
            return result;
        } catch (Stopped e) {
            LOG.info("{}: cleaning stopped: the node is shutting down", log.dir());
            return null;
        } catch (IOException e) {
            throw new KafkaStorageException("Cleaning " + log.dir() + " failed: " + e.getMessage(), e);
        }
    }

    /**
     * The aborted transactions of the part being cleaned: a transactional batch of producer P whose base offset lies
     * between the first offset and the marker of one of P's aborted transactions was aborted. Its records are removed
     * and never mapped (a later aborted value must not hide an earlier committed one), as Kafka's cleaner does.
     */
    static final class Aborted {
        private final java.util.Map<Long, List<AbortedTransaction>> byProducer = new java.util.HashMap<>();

        Aborted(List<AbortedTransaction> aborted) {
            for (AbortedTransaction txn : aborted) {
                byProducer.computeIfAbsent(txn.producerId(), p -> new ArrayList<>()).add(txn);
            }
        }

        boolean contains(RecordBatch batch) {
            if (!batch.isTransactional() || batch.isControlBatch() || byProducer.isEmpty()) {
                return false;
            }
            List<AbortedTransaction> txns = byProducer.get(batch.producerId());
            if (txns == null) {
                return false;
            }
            for (AbortedTransaction txn : txns) {
                if (batch.baseOffset() >= txn.firstOffset() && batch.baseOffset() < txn.lastOffset()) {
                    return true;
                }
            }
            return false;
        }
    }

    /** Maps the keys of the dirty part; returns the offset the map reached (exclusive). */
    private long buildMap(Range range, OffsetMap map, Aborted aborted) throws IOException {
        long reached = range.firstDirty;
        for (LogSegment segment : range.segments) {
            if (segment.nextOffset() <= range.firstDirty) {
                continue;
            }
            if (segment.baseOffset() >= range.firstUncleanable) {
                break;
            }
            BatchReader reader = new BatchReader(segment);
            ByteBuffer chunk;
            while ((chunk = reader.next()) != null) {
                for (MutableRecordBatch batch : MemoryRecords.readableRecords(chunk).batches()) {
                    if (batch.lastOffset() < range.firstDirty) {
                        continue;
                    }
                    if (batch.baseOffset() >= range.firstUncleanable) {
                        return reached;
                    }
                    if (!batch.isControlBatch() && !aborted.contains(batch) && !mapBatch(batch, map, range.firstDirty)) {
                        return reached; // full: this batch and later ones stay dirty
                    }
                    reached = batch.lastOffset() + 1;
                }
            }
        }
        return Math.min(reached, range.firstUncleanable);
    }

    private boolean mapBatch(RecordBatch batch, OffsetMap map, long firstDirty) {
        try (var records = batch.streamingIterator(decompression)) {
            while (records.hasNext()) {
                Record record = records.next();
                if (record.offset() >= firstDirty && record.hasKey() && !map.put(record.key(), record.offset())) {
                    return false;
                }
            }
        }
        return true;
    }

    /** Consecutive segments below {@code end}, grouped so that each group fits one segment and its indexes. */
    private static List<List<LogSegment>> groups(List<LogSegment> segments, long end, LogConfig config) {
        List<List<LogSegment>> groups = new ArrayList<>();
        List<LogSegment> current = new ArrayList<>();
        long bytes = 0;
        for (int i = 0; i < segments.size() - 1; i++) {
            LogSegment segment = segments.get(i);
            if (segment.baseOffset() >= end) {
                break;
            }
            long next = segments.get(i + 1).baseOffset();
            boolean fits = bytes + segment.size() <= config.segmentBytes()
                    && (current.isEmpty() || next - current.get(0).baseOffset() <= Integer.MAX_VALUE);
            if (!current.isEmpty() && !fits) {
                groups.add(current);
                current = new ArrayList<>();
                bytes = 0;
            }
            current.add(segment);
            bytes += segment.size();
        }
        if (!current.isEmpty()) {
            groups.add(current);
        }
        return groups;
    }

    /** Writes what is kept of {@code group} to a fsynced {@code .cleaned} file. */
    private Path writeCleaned(Log log, List<LogSegment> group, OffsetMap map, long mappedUpTo, long nowMs, Stats stats,
                              Aborted aborted, Transactions transactions) throws IOException {
        Path cleaned = SegmentFiles.cleanedFile(log.dir(), group.get(0).baseOffset());
        Files.deleteIfExists(cleaned);
        Retention retention = new Retention(map, mappedUpTo, nowMs, log.config().compaction().deleteRetentionMs(), stats,
                aborted, transactions);
        ByteBuffer out = ByteBuffer.allocate(READ_CHUNK_BYTES);
        try (FileChannel channel = FileChannel.open(cleaned, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            for (LogSegment segment : group) {
                BatchReader reader = new BatchReader(segment);
                ByteBuffer chunk;
                while ((chunk = reader.next()) != null) {
                    if (stopping) {
                        throw new Stopped();
                    }
                    stats.bytesRead += chunk.remaining();
                    throttle.acquire(chunk.remaining());
                    out.clear();
                    MemoryRecords.FilterResult result = MemoryRecords.readableRecords(chunk)
                            .filterTo(retention, out, decompression);
                    ByteBuffer kept = result.outputBuffer().flip();
                    stats.recordsRead += result.messagesRead();
                    stats.recordsRetained += result.messagesRetained();
                    stats.bytesWritten += kept.remaining();
                    while (kept.hasRemaining()) {
                        channel.write(kept);
                    }
                    out = result.outputBuffer().capacity() > out.capacity() ? result.outputBuffer() : out;
                }
            }
            channel.force(true);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(cleaned);
            throw e;
        }
        return cleaned;
    }

    /**
     * The transactions a cleaning passes through, in offset order across all the groups it rewrites: per producer,
     * whether a batch of the transaction it has under way is kept. A marker (commit or abort) whose transaction keeps
     * nothing is, as in Kafka, kept for {@code delete.retention.ms} more (its batch gets a delete horizon, so a reader
     * that has seen the transaction's records still finds the marker) and removed by the first cleaning after that.
     * Removing it earlier would leave records without their decision; keeping it forever would keep every
     * transaction's marker in a compacted topic forever.
     */
    private static final class Transactions {
        /** Producers whose transaction under way has a batch this cleaning keeps. */
        private final java.util.Set<Long> dataKept = new java.util.HashSet<>();
        /** Per producer, the last offset of its last batch: that batch is kept, maybe empty, for its sequence. */
        private final java.util.Map<Long, Long> lastBatchOffsets;
        /** Abort markers removed by the group being written: their aborted-transaction index entries go with them. */
        final java.util.Set<Long> removedAbortMarkers = new java.util.HashSet<>();

        Transactions(java.util.Map<Long, Long> lastBatchOffsets) {
            this.lastBatchOffsets = lastBatchOffsets;
        }

        boolean lastOfItsProducer(RecordBatch batch) {
            return batch.hasProducerId() && Long.valueOf(batch.lastOffset()).equals(lastBatchOffsets.get(batch.producerId()));
        }

        void kept(RecordBatch batch) {
            if (batch.isTransactional() && !batch.isControlBatch()) {
                dataKept.add(batch.producerId());
            }
        }

        /** The marker ends its producer's transaction; whether a batch of that transaction is kept. */
        boolean end(RecordBatch marker) {
            return dataKept.remove(marker.producerId());
        }
    }

    /** Which records a cleaning keeps. */
    private static final class Retention extends MemoryRecords.RecordFilter {
        private final OffsetMap map;
        private final long mappedUpTo;
        private final Stats stats;
        private final Aborted aborted;
        private final Transactions transactions;
        /** The batch being filtered is kept only for its producer's sequence: none of its records stays. */
        private boolean discardRecords;

        Retention(OffsetMap map, long mappedUpTo, long nowMs, long deleteRetentionMs, Stats stats, Aborted aborted,
                  Transactions transactions) {
            super(nowMs, deleteRetentionMs);
            this.map = map;
            this.mappedUpTo = mappedUpTo;
            this.stats = stats;
            this.aborted = aborted;
            this.transactions = transactions;
        }

        @Override
        protected BatchRetentionResult checkBatchRetention(RecordBatch batch) {
            if (batch.isControlBatch()) {
                return markerRetention(batch);
            }
            // An aborted transaction's records all go.
            discardRecords = batch.lastOffset() < mappedUpTo && aborted.contains(batch);
            if (transactions.lastOfItsProducer(batch)) {
                // Kept even when empty, so a restart that rebuilds the producer state from the log still knows its
                // last sequence (a kept transactional batch keeps its transaction's marker too).
                transactions.kept(batch);
                return new BatchRetentionResult(BatchRetention.RETAIN_EMPTY, false);
            }
            return new BatchRetentionResult(discardRecords ? BatchRetention.DELETE : BatchRetention.DELETE_EMPTY, false);
        }

        private BatchRetentionResult markerRetention(RecordBatch marker) {
            discardRecords = false;
            boolean dataKept = transactions.end(marker);
            if (dataKept || marker.lastOffset() >= mappedUpTo) {
                return new BatchRetentionResult(BatchRetention.RETAIN_EMPTY, false);
            }
            if (marker.deleteHorizonMs().isPresent() && marker.deleteHorizonMs().getAsLong() <= currentTime) {
                stats.markersRemoved++;
                if (isAbort(marker)) {
                    transactions.removedAbortMarkers.add(marker.lastOffset());
                }
                return new BatchRetentionResult(BatchRetention.DELETE, false);
            }
            long horizon = marker.deleteHorizonMs().isPresent() ? marker.deleteHorizonMs().getAsLong()
                    : currentTime + deleteRetentionMs;
            stats.earliestHorizonMs = stats.earliestHorizonMs < 0 ? horizon : Math.min(stats.earliestHorizonMs, horizon);
            // true: the batch is written again with its delete horizon set, if it had none.
            return new BatchRetentionResult(BatchRetention.RETAIN_EMPTY, true);
        }

        private static boolean isAbort(RecordBatch marker) {
            var records = marker.iterator();
            return records.hasNext() && org.apache.kafka.common.record.ControlRecordType.parse(records.next().key())
                    == org.apache.kafka.common.record.ControlRecordType.ABORT;
        }

        @Override
        protected boolean shouldRetainRecord(RecordBatch batch, Record record) {
            boolean keep = retain(batch, record);
            if (keep) {
                transactions.kept(batch);
            }
            return keep;
        }

        private boolean retain(RecordBatch batch, Record record) {
            if (discardRecords) {
                return false;
            }
            if (batch.isControlBatch() || record.offset() >= mappedUpTo || !record.hasKey()) {
                return true;
            }
            if (map.get(record.key()) > record.offset()) {
                return false; // a later record has this key
            }
            if (!record.hasValue()) {
                // A tombstone: kept until the delete horizon the first cleaning that saw it set on its batch.
                long horizon = batch.deleteHorizonMs().isPresent() ? batch.deleteHorizonMs().getAsLong()
                        : currentTime + deleteRetentionMs;
                if (batch.deleteHorizonMs().isPresent() && currentTime >= horizon) {
                    return false;
                }
                stats.earliestHorizonMs = stats.earliestHorizonMs < 0 ? horizon : Math.min(stats.earliestHorizonMs, horizon);
                return true;
            }
            return true;
        }
    }

    /** Reads a segment's committed bytes as chunks of whole batches (one larger batch whole). */
    private static final class BatchReader {
        private final LogSegment segment;
        private final int end;
        private int position;

        BatchReader(LogSegment segment) {
            this.segment = segment;
            this.end = segment.size();
        }

        ByteBuffer next() throws IOException {
            if (end - position < LOG_OVERHEAD) {
                return null;
            }
            ByteBuffer buffer = read(Math.min(READ_CHUNK_BYTES, end - position));
            int whole = 0;
            while (whole + LOG_OVERHEAD <= buffer.limit()) {
                int size = LOG_OVERHEAD + buffer.getInt(whole + 8);
                if (size < LOG_OVERHEAD || whole + size > buffer.limit()) {
                    break;
                }
                whole += size;
            }
            if (whole == 0) {
                int size = LOG_OVERHEAD + buffer.getInt(8);
                if (size < LOG_OVERHEAD || size > end - position) {
                    throw new CorruptRecordException("Batch of " + size + " bytes at position " + position + " of "
                            + segment.logFile() + " passes the segment's end");
                }
                buffer = read(size);
                whole = size;
            }
            position += whole;
            return buffer.limit(whole);
        }

        private ByteBuffer read(int bytes) throws IOException {
            ByteBuffer buffer = ByteBuffer.allocate(bytes);
            while (buffer.hasRemaining()) {
                if (segment.channel().read(buffer, position + buffer.position()) < 0) {
                    throw new CorruptRecordException("Segment " + segment.logFile() + " ended before its size");
                }
            }
            return buffer.flip();
        }
    }

    /** The cleanable part of a compacted log: from the first dirty offset to the first uncleanable one. */
    private record Range(List<LogSegment> segments, long firstDirty, long firstUncleanable, long cleanBytes,
                         long dirtyBytes, long oldestDirtyTimestamp, boolean tombstonesDue) {

        static Range of(Log log) {
            LogConfig config = log.config();
            if (!config.compaction().compact()) {
                return null;
            }
            List<LogSegment> segments = log.segmentList();
            long nowMs = log.time().milliseconds();
            long firstDirty = Math.max(log.cleanerCheckpoint(), log.logStartOffset());
            // Below the last stable offset only: what an undecided transaction wrote may still be aborted.
            long firstUncleanable = Math.min(segments.get(segments.size() - 1).baseOffset(), log.lastStableOffset());
            for (LogSegment segment : segments) {
                if (segment.baseOffset() >= firstUncleanable) {
                    break;
                }
                if (segment.nextOffset() > firstDirty
                        && segment.maxTimestamp().timestamp() > nowMs - config.compaction().minCompactionLagMs()) {
                    firstUncleanable = segment.baseOffset();
                    break;
                }
            }
            boolean tombstonesDue = log.tombstoneHorizonMs() >= 0 && log.tombstoneHorizonMs() <= nowMs;
            if (firstDirty >= firstUncleanable && !tombstonesDue) {
                return null;
            }
            firstDirty = Math.min(firstDirty, firstUncleanable);
            long clean = 0;
            long dirty = 0;
            long oldestDirty = -1;
            for (LogSegment segment : segments) {
                if (segment.baseOffset() >= firstUncleanable) {
                    break;
                }
                if (segment.nextOffset() <= firstDirty) {
                    clean += segment.size();
                } else {
                    dirty += segment.size();
                    if (oldestDirty < 0) {
                        oldestDirty = segment.maxTimestamp().timestamp();
                    }
                }
            }
            return dirty == 0 && !tombstonesDue ? null
                    : new Range(segments, firstDirty, firstUncleanable, clean, dirty, oldestDirty, tombstonesDue);
        }

        double dirtyRatio() {
            return cleanBytes + dirtyBytes == 0 ? 0 : (double) dirtyBytes / (cleanBytes + dirtyBytes);
        }
    }

    private static final class Stats {
        long bytesRead;
        long bytesWritten;
        long recordsRead;
        long recordsRetained;
        long earliestHorizonMs = -1;
        long markersRemoved;
    }

    /** Limits the bytes per second the cleaner reads. */
    private static final class Throttle {
        private final double bytesPerSecond;
        private final Time time;
        private long windowStartMs = -1;
        private long windowBytes;

        Throttle(double bytesPerSecond, Time time) {
            this.bytesPerSecond = bytesPerSecond;
            this.time = time;
        }

        void acquire(long bytes) {
            if (bytesPerSecond == Double.MAX_VALUE) {
                return;
            }
            long nowMs = time.milliseconds();
            if (windowStartMs < 0 || nowMs - windowStartMs > 1000) {
                windowStartMs = nowMs;
                windowBytes = 0;
            }
            windowBytes += bytes;
            long dueMs = (long) (windowBytes * 1000.0 / bytesPerSecond);
            long waitMs = dueMs - (nowMs - windowStartMs);
            if (waitMs > 0) {
                time.sleep(waitMs);
            }
        }
    }
}
