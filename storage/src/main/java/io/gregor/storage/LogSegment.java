package io.gregor.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * One segment of a log: the {@code <base>.log} file of concatenated magic-v2 batches exactly as
 * stored, plus its {@link OffsetIndex} and {@link TimeIndex}. The first batch's base offset is
 * {@code >= baseOffset}; offsets strictly increase through the file.
 *
 * <p>Named offsets and sizes: {@link #size()} is the committed byte length (bytes beyond it may
 * be a write in progress), {@link #nextOffset()} the offset after the last committed batch.
 *
 * <p>Thread-safety: mutators ({@code append}, {@code recover}, {@code truncateTo}, roll and
 * close) run under the owning log's lock. Readers ({@code read}, {@code translate},
 * {@code findByTimestamp}) are lock-free: the appender writes the file, then publishes
 * {@code size}, then index entries, then {@code nextOffset}; readers read the index before the
 * size so every index entry they use points inside the size they see.
 */
final class LogSegment {

    private final long baseOffset;
    private final Path dir;
    private final FileChannel channel;
    private final OffsetIndex offsetIndex;
    private final TimeIndex timeIndex;
    private final long createdMs;
    private volatile Path logFile;
    private volatile int size;
    private volatile long nextOffset;
    private volatile TimestampOffset maxTimestamp;
    private long firstBatchTimestamp = -1;
    private int bytesSinceLastIndexEntry;

    private LogSegment(Path dir, long baseOffset, int indexCapacityBytes, long nowMs) throws IOException {
        this.dir = dir;
        this.baseOffset = baseOffset;
        this.logFile = SegmentFiles.logFile(dir, baseOffset);
        this.channel = FileChannel.open(logFile, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        this.offsetIndex = new OffsetIndex(SegmentFiles.indexFile(dir, baseOffset), baseOffset, indexCapacityBytes);
        this.timeIndex = new TimeIndex(SegmentFiles.timeIndexFile(dir, baseOffset), baseOffset, indexCapacityBytes);
        this.size = (int) Math.min(channel.size(), Integer.MAX_VALUE);
        this.nextOffset = baseOffset;
        this.maxTimestamp = new TimestampOffset(-1L, baseOffset);
        this.createdMs = nowMs;
    }

    /** Creates or opens the segment files; {@code load} must follow for an existing segment. */
    static LogSegment open(Path dir, long baseOffset, int indexCapacityBytes, long nowMs) throws IOException {
        return new LogSegment(dir, baseOffset, indexCapacityBytes, nowMs);
    }

    static boolean indexFilesExist(Path dir, long baseOffset) {
        return Files.exists(SegmentFiles.indexFile(dir, baseOffset)) && Files.exists(SegmentFiles.timeIndexFile(dir, baseOffset));
    }

    long baseOffset() {
        return baseOffset;
    }

    int size() {
        return size;
    }

    long nextOffset() {
        return nextOffset;
    }

    TimestampOffset maxTimestamp() {
        return maxTimestamp;
    }

    Path logFile() {
        return logFile;
    }

    FileChannel channel() {
        return channel;
    }

    /**
     * True when the append of {@code bytes} ending at {@code lastOffset}, whose largest timestamp is
     * {@code incomingTimestamp}, must go to a new segment. As Kafka: segment.ms is measured between the first batch's
     * timestamp and the incoming one (records with old timestamps, mirrored or replayed, do not roll a segment per
     * batch), or from the segment's creation when it has no timestamp.
     */
    boolean shouldRoll(int bytes, long lastOffset, long nowMs, long incomingTimestamp, LogConfig config) {
        if (size == 0) {
            return false;
        }
        long waited = firstBatchTimestamp >= 0 ? incomingTimestamp - firstBatchTimestamp : nowMs - createdMs;
        return (long) size + bytes > config.segmentBytes()
                || waited > config.segmentMs()
                || offsetIndex.isFull()
                || timeIndex.isFull()
                || lastOffset - baseOffset > Integer.MAX_VALUE;
    }

    /**
     * Writes {@code records} (position..limit) at the end of the file with one positional write
     * loop, then indexes {@code batches} (whose positions are relative to the buffer position).
     * On an I/O error the file is truncated back and nothing is published.
     */
    void append(ByteBuffer records, List<FileBatchScanner.Entry> batches, FailureProbe probe, int indexIntervalBytes) throws IOException {
        int start = size;
        int bytes = records.remaining();
        try {
            probe.beforeAppend(logFile, bytes);
            long at = start;
            while (records.hasRemaining()) {
                at += channel.write(records, at);
            }
        } catch (IOException | RuntimeException e) {
            truncateFile(start);
            throw e;
        }
        size = start + bytes;
        for (FileBatchScanner.Entry batch : batches) {
            indexBatch(batch.baseOffset(), start + batch.position(), batch.size(), batch.maxTimestamp(), indexIntervalBytes);
        }
        nextOffset = batches.get(batches.size() - 1).lastOffset() + 1;
    }

    private void truncateFile(int length) {
        try {
            channel.truncate(length);
        } catch (IOException suppressed) {
            // The size field still excludes the torn bytes, so readers never see them; the next
            // append overwrites them and recovery truncates them after a crash.
        }
    }

    private void indexBatch(long batchBaseOffset, int position, int batchSize, long batchMaxTimestamp, int indexIntervalBytes)
            throws IOException {
        if (firstBatchTimestamp < 0) {
            firstBatchTimestamp = batchMaxTimestamp >= 0 ? batchMaxTimestamp : createdMs;
        }
        if (batchMaxTimestamp > maxTimestamp.timestamp()) {
            maxTimestamp = new TimestampOffset(batchMaxTimestamp, batchBaseOffset);
        }
        if (bytesSinceLastIndexEntry > indexIntervalBytes) {
            if (!offsetIndex.isFull()) {
                offsetIndex.append(batchBaseOffset, position);
            }
            timeIndex.maybeAppend(maxTimestamp.timestamp(), maxTimestamp.offset());
            bytesSinceLastIndexEntry = 0;
        }
        bytesSinceLastIndexEntry += batchSize;
    }

    /**
     * The first batch whose last offset is {@code >= offset}, scanning from the index; null if
     * none in this segment.
     */
    FileBatchScanner.Entry translate(long offset) throws IOException {
        int startPosition = offsetIndex.lookup(offset);
        FileBatchScanner scanner = new FileBatchScanner(channel, startPosition, size);
        FileBatchScanner.Entry entry;
        while ((entry = scanner.next()) != null && entry.lastOffset() < offset) {
            // skip batches before the target
        }
        return entry;
    }

    /**
     * Whole batches starting with the one holding {@code startOffset}; null when this segment
     * has no batch at or after it. See {@link Log#read} for the size rules.
     */
    FetchSlice read(long startOffset, int maxBytes, long maxOffsetExclusive, boolean minOneBatch) throws IOException {
        int startPosition = offsetIndex.lookup(startOffset);
        FileBatchScanner scanner = new FileBatchScanner(channel, startPosition, size);
        FileBatchScanner.Entry first;
        while ((first = scanner.next()) != null && first.lastOffset() < startOffset) {
            // skip batches before the target
        }
        if (first == null) {
            return null;
        }
        if (first.baseOffset() >= maxOffsetExclusive || (first.size() > maxBytes && !minOneBatch)) {
            return FetchSlice.EMPTY;
        }
        long total = first.size();
        FileBatchScanner.Entry last = first;
        int resume = offsetIndex.resumePosition(first.position(), Math.min((long) first.position() + maxBytes, size),
                maxOffsetExclusive);
        if (resume > first.position()) {
            // Every batch up to and including the one at resume is in the read: skip their headers.
            FileBatchScanner skipped = new FileBatchScanner(channel, resume, size);
            FileBatchScanner.Entry at = skipped.next();
            if (at != null) {
                scanner = skipped;
                last = at;
                total = at.end() - first.position();
            }
        }
        FileBatchScanner.Entry entry;
        while ((entry = scanner.next()) != null && entry.baseOffset() < maxOffsetExclusive && total + entry.size() <= maxBytes) {
            total += entry.size();
            last = entry;
        }
        return new FetchSlice(channel, first.position(), (int) total, first.baseOffset(), last.lastOffset());
    }

    /** Hands the producer fields of every batch whose base offset is {@code >= fromOffset} to {@code sink}, in order. */
    void forEachBatchFrom(long fromOffset, java.util.function.Consumer<ProducerBatch> sink) throws IOException {
        FileBatchScanner scanner = new FileBatchScanner(channel, offsetIndex.lookup(fromOffset), size);
        FileBatchScanner.Entry entry;
        while ((entry = scanner.next()) != null) {
            if (entry.baseOffset() >= fromOffset) {
                sink.accept(scanner.producerBatch(entry));
            }
        }
    }

    /** The first batch whose max timestamp is {@code >= target}, as (its max timestamp, its base offset); null if none. */
    TimestampOffset findByTimestamp(long target) throws IOException {
        if (maxTimestamp.timestamp() < target) {
            return null;
        }
        long scanFrom = timeIndex.lookupScanStart(target);
        FileBatchScanner scanner = new FileBatchScanner(channel, offsetIndex.lookup(scanFrom), size);
        FileBatchScanner.Entry entry;
        while ((entry = scanner.next()) != null) {
            if (entry.maxTimestamp() >= target) {
                return new TimestampOffset(entry.maxTimestamp(), entry.baseOffset());
            }
        }
        return null;
    }

    /** Sanity-checks both indexes and computes the next offset and largest timestamp from them. */
    void loadFromIndexes() throws IOException {
        offsetIndex.sanityCheck(size);
        timeIndex.sanityCheck(size);
        FileBatchScanner first = new FileBatchScanner(channel, 0, size);
        FileBatchScanner.Entry head = first.next();
        firstBatchTimestamp = head == null ? -1 : head.maxTimestamp() >= 0 ? head.maxTimestamp() : createdMs;
        TimestampOffset max = timeIndex.lastEntry();
        maxTimestamp = max == null ? new TimestampOffset(-1L, baseOffset) : max;
        FileBatchScanner scanner = new FileBatchScanner(channel, offsetIndex.lookup(Long.MAX_VALUE), size);
        FileBatchScanner.Entry entry;
        long next = baseOffset;
        while ((entry = scanner.next()) != null) {
            next = entry.lastOffset() + 1;
            if (entry.maxTimestamp() > maxTimestamp.timestamp()) {
                maxTimestamp = new TimestampOffset(entry.maxTimestamp(), entry.baseOffset());
            }
        }
        if (scanner.position() != size) {
            throw new CorruptIndexException("Segment " + logFile + " does not end on a batch boundary");
        }
        nextOffset = next;
    }

    /**
     * Validates every batch (length, magic, CRC, count, increasing offsets), rebuilds both indexes
     * and truncates the file at the first invalid batch. Returns the bytes truncated.
     */
    /** Told the leader epoch and base offset of every valid batch (magic 2) that a recovery keeps. */
    interface BatchEpochs {
        void accept(int leaderEpoch, long baseOffset);
    }

    int recover(int indexIntervalBytes) throws IOException {
        return recover(indexIntervalBytes, null);
    }

    int recover(int indexIntervalBytes, BatchEpochs epochs) throws IOException {
        offsetIndex.truncateEntries(0);
        timeIndex.truncateEntries(0);
        bytesSinceLastIndexEntry = 0;
        firstBatchTimestamp = -1;
        maxTimestamp = new TimestampOffset(-1L, baseOffset);
        int fileSize = (int) Math.min(channel.size(), Integer.MAX_VALUE);
        FileBatchScanner scanner = new FileBatchScanner(channel, 0, fileSize);
        long next = baseOffset;
        int valid = 0;
        FileBatchScanner.Entry entry;
        while ((entry = scanner.next()) != null && isPlausible(entry, next)) {
            ByteBuffer batch = FileBatchScanner.readBatch(channel, entry);
            try {
                RecordBatchHeader.validateContent(batch, 0, entry.size(), false);
            } catch (CorruptRecordException e) {
                break;
            }
            indexBatch(entry.baseOffset(), entry.position(), entry.size(), entry.maxTimestamp(), indexIntervalBytes);
            if (epochs != null && batch.get(RecordBatchHeader.MAGIC) >= 2) {
                epochs.accept(batch.getInt(RecordBatchHeader.PARTITION_LEADER_EPOCH), entry.baseOffset());
            }
            next = entry.lastOffset() + 1;
            valid = entry.end();
        }
        channel.truncate(valid);
        size = valid;
        nextOffset = next;
        return fileSize - valid;
    }

    private boolean isPlausible(FileBatchScanner.Entry entry, long expectedAtLeast) {
        return entry.baseOffset() >= expectedAtLeast
                && entry.lastOffset() >= entry.baseOffset()
                && entry.lastOffset() - baseOffset <= Integer.MAX_VALUE;
    }

    /**
     * Removes every batch whose base offset is {@code >= offset}, along with the batch holding
     * {@code offset}. Returns the new next offset.
     */
    long truncateTo(long offset) throws IOException {
        FileBatchScanner.Entry cut = translate(offset);
        if (cut == null) {
            return nextOffset;
        }
        int position = cut.position();
        offsetIndex.truncateToPosition(position);
        timeIndex.truncateToOffset(cut.baseOffset());
        channel.truncate(position);
        size = position;
        return recomputeAfterTruncation(cut.baseOffset());
    }

    private long recomputeAfterTruncation(long cutOffset) throws IOException {
        FileBatchScanner scanner = new FileBatchScanner(channel, 0, size);
        FileBatchScanner.Entry entry;
        long next = baseOffset;
        TimestampOffset max = new TimestampOffset(-1L, baseOffset);
        while ((entry = scanner.next()) != null) {
            next = entry.lastOffset() + 1;
            if (entry.maxTimestamp() > max.timestamp()) {
                max = new TimestampOffset(entry.maxTimestamp(), entry.baseOffset());
            }
        }
        maxTimestamp = max;
        if (size == 0) {
            firstBatchTimestamp = -1;
        }
        nextOffset = Math.min(next, cutOffset);
        return nextOffset;
    }

    /** Makes the indexes fit a read-only segment: final time index entry, trimmed files. */
    void onBecomeInactive() throws IOException {
        timeIndex.maybeAppend(maxTimestamp.timestamp(), maxTimestamp.offset());
        offsetIndex.trimToValidSize();
        timeIndex.trimToValidSize();
    }

    /** Re-extends the index files to their preallocated size (the active segment). */
    void onBecomeActive(int maxIndexBytes) throws IOException {
        offsetIndex.resize(maxIndexBytes);
        timeIndex.resize(maxIndexBytes);
    }

    void flush() throws IOException {
        channel.force(false);
    }

    /** Writes the final index entries, trims and closes. */
    void close() throws IOException {
        try {
            onBecomeInactive();
        } finally {
            channel.close();
        }
    }

    /** Closes the file handle without touching the files (they may be renamed or gone). */
    void closeHandle() {
        try {
            channel.close();
        } catch (IOException ignored) {
            // Nothing to do: the segment is being discarded.
        }
    }

    /** Renames the files to {@code *.deleted}; the open channel keeps serving reads. */
    void renameToDeleted() throws IOException {
        Path target = SegmentFiles.deleted(logFile);
        // Replaces an older segment of the same base awaiting deletion (cleaned twice within file.delete.delay.ms);
        // readers of either keep their open channel.
        Files.move(logFile, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        logFile = target;
        offsetIndex.renameTo(SegmentFiles.deleted(offsetIndex.file()));
        timeIndex.renameTo(SegmentFiles.deleted(timeIndex.file()));
    }

    /** Unlinks the (possibly renamed) files. */
    void deleteFiles() throws IOException {
        Files.deleteIfExists(logFile);
        offsetIndex.deleteFile();
        timeIndex.deleteFile();
    }

    Path dir() {
        return dir;
    }

    @Override
    public String toString() {
        return "LogSegment(" + logFile + ", baseOffset=" + baseOffset + ", size=" + size + ", nextOffset=" + nextOffset + ")";
    }
}
