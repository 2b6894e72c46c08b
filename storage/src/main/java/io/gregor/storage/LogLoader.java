package io.gregor.storage;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentSkipListMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads a log directory at open and repairs it.
 *
 * <ol>
 *   <li>Removes leftovers: {@code *.deleted} segments, {@code *.tmp} checkpoints and index files
 *       without a {@code .log}.
 *   <li>Opens every segment. After an unclean shutdown every segment from the one holding the
 *       checkpointed recovery point onwards is recovered: each batch is validated (length,
 *       magic, CRC32C, offsets), indexes are rebuilt, and the file is truncated at the first bad
 *       batch, dropping every later segment. Other segments only get their indexes
 *       sanity-checked, and are recovered the same way when an index is missing or corrupt.
 *   <li>Clamps the persisted log start offset into the log, trims the leader epoch cache, and
 *       fsyncs what it recovered so the whole log counts as flushed.
 * </ol>
 * Everything it repairs is logged at WARN. Not thread-safe; runs before the log is published.
 */
final class LogLoader {

    private static final Logger LOG = LoggerFactory.getLogger(LogLoader.class);

    /** The state a {@link Log} starts from. */
    record Result(ConcurrentSkipListMap<Long, LogSegment> segments, long logStartOffset, long logEndOffset, long highWatermark) {}

    private final Path dir;
    private final LogConfig config;
    private final Time time;
    private final boolean hadCleanShutdown;

    LogLoader(Path dir, LogConfig config, Time time, boolean hadCleanShutdown) {
        this.dir = dir;
        this.config = config;
        this.time = time;
        this.hadCleanShutdown = hadCleanShutdown;
    }

    private LeaderEpochCache epochs;

    Result load(LogCheckpoints checkpoints, LeaderEpochCache epochs) throws IOException {
        this.epochs = epochs;
        Files.createDirectories(dir);
        TreeSet<Long> bases = removeLeftoversAndListSegments();
        long logStartOffset = checkpoints.logStartOffset();
        long recoveryPoint = checkpoints.recoveryPoint();
        ConcurrentSkipListMap<Long, LogSegment> segments = new ConcurrentSkipListMap<>();
        if (bases.isEmpty()) {
            long base = Math.max(0, logStartOffset);
            segments.put(base, LogSegment.open(dir, base, config.maxIndexBytes(), time.milliseconds()));
        } else {
            Long recoverFrom = hadCleanShutdown ? null : bases.floor(recoveryPoint);
            loadSegments(bases, recoverFrom == null && !hadCleanShutdown ? bases.first() : recoverFrom, segments);
        }
        LogSegment active = segments.lastEntry().getValue();
        active.onBecomeActive(config.maxIndexBytes());
        long logEndOffset = active.nextOffset();
        logStartOffset = Math.max(logStartOffset, segments.firstKey());
        if (logStartOffset > logEndOffset) {
            LOG.warn("{}: log start offset {} is beyond the log end offset {}; discarding all segments", dir, logStartOffset, logEndOffset);
            for (LogSegment segment : segments.values()) {
                segment.closeHandle();
                segment.deleteFiles();
            }
            segments.clear();
            segments.put(logStartOffset, LogSegment.open(dir, logStartOffset, config.maxIndexBytes(), time.milliseconds()));
            logEndOffset = logStartOffset;
        }
        epochs.truncateFromEnd(logEndOffset);
        epochs.truncateFromStart(logStartOffset);
        if (!hadCleanShutdown && !bases.isEmpty()) {
            // Recovered data counts as flushed from here on, so make it so; a brand-new log has nothing to sync.
            for (LogSegment segment : segments.values()) {
                segment.flush();
            }
            epochs.flush();
        }
        long highWatermark = Math.min(Math.max(checkpoints.highWatermark(), logStartOffset), logEndOffset);
        return new Result(segments, logStartOffset, logEndOffset, highWatermark);
    }

    private void loadSegments(TreeSet<Long> bases, Long recoverFrom, Map<Long, LogSegment> segments) throws IOException {
        List<Long> ordered = new ArrayList<>(bases);
        for (int i = 0; i < ordered.size(); i++) {
            long base = ordered.get(i);
            boolean last = i == ordered.size() - 1;
            boolean indexesPresent = LogSegment.indexFilesExist(dir, base);
            LogSegment segment = LogSegment.open(dir, base, last ? config.maxIndexBytes() : 0, time.milliseconds());
            segments.put(base, segment);
            int truncated = 0;
            if (recoverFrom != null && base >= recoverFrom) {
                truncated = recover(segment, last, "unclean shutdown");
            } else if (!indexesPresent) {
                truncated = recover(segment, last, "missing index files");
            } else {
                try {
                    segment.loadFromIndexes();
                } catch (CorruptIndexException e) {
                    truncated = recover(segment, last, e.getMessage());
                }
            }
            if (truncated > 0 && !last) {
                dropSegmentsAfter(ordered.subList(i + 1, ordered.size()));
                return;
            }
        }
    }

    private int recover(LogSegment segment, boolean last, String reason) throws IOException {
        segment.onBecomeActive(config.maxIndexBytes());
        // The leader epochs of the recovered batches go into the epoch cache (as Kafka's recovery does): an entry
        // that was only in memory when the node died is rebuilt from the batches it covers.
        int truncated = segment.recover(config.indexIntervalBytes(), (epoch, baseOffset) -> {
            if (epoch >= 0 && epoch > epochs.latestEpoch()) {
                epochs.assign(epoch, baseOffset);
            }
        });
        if (truncated > 0) {
            LOG.warn("{}: recovered segment {} ({}): truncated {} invalid bytes, next offset {}",
                    dir, segment.baseOffset(), reason, truncated, segment.nextOffset());
        } else {
            LOG.info("{}: recovered segment {} ({}): rebuilt indexes, next offset {}", dir, segment.baseOffset(), reason, segment.nextOffset());
        }
        if (!last) {
            segment.onBecomeInactive();
        }
        return truncated;
    }

    private void dropSegmentsAfter(List<Long> later) throws IOException {
        for (long base : later) {
            LOG.warn("{}: deleting segment {} after a truncated segment", dir, base);
            Files.deleteIfExists(SegmentFiles.logFile(dir, base));
            Files.deleteIfExists(SegmentFiles.indexFile(dir, base));
            Files.deleteIfExists(SegmentFiles.timeIndexFile(dir, base));
        }
    }

    /**
     * Finishes a cleaning that reached its commit point (the swap file exists): the segments it replaces go, and it
     * becomes the segment of its base offset; its indexes are rebuilt because they are missing.
     */
    private void completeSwap(Path swap, TreeSet<Long> bases) throws IOException {
        long[] range = SegmentFiles.swapRange(swap.getFileName().toString());
        for (long base : new ArrayList<>(bases.subSet(range[0], true, range[1], true))) {
            Files.deleteIfExists(SegmentFiles.logFile(dir, base));
            Files.deleteIfExists(SegmentFiles.indexFile(dir, base));
            Files.deleteIfExists(SegmentFiles.timeIndexFile(dir, base));
            bases.remove(base);
        }
        Files.deleteIfExists(SegmentFiles.indexFile(dir, range[0]));
        Files.deleteIfExists(SegmentFiles.timeIndexFile(dir, range[0]));
        Files.move(swap, SegmentFiles.logFile(dir, range[0]), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        CheckpointFile.fsyncDirectory(dir);
        bases.add(range[0]);
        LOG.warn("{}: completed an interrupted cleaning: segment {} replaces segments {} to {}", dir, range[0], range[0], range[1]);
    }

    private TreeSet<Long> removeLeftoversAndListSegments() throws IOException {
        TreeSet<Long> bases = new TreeSet<>();
        List<Path> indexFiles = new ArrayList<>();
        List<Path> swaps = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
            for (Path file : files) {
                String name = file.getFileName().toString();
                if (SegmentFiles.swapRange(name) != null) {
                    swaps.add(file);
                } else if (name.endsWith(SegmentFiles.CLEANED_SUFFIX)) {
                    LOG.info("{}: removing unfinished cleaned segment {}", dir, name);
                    Files.deleteIfExists(file);
                } else if (name.endsWith(SegmentFiles.DELETED_SUFFIX) || name.endsWith(CheckpointFile.TMP_SUFFIX)) {
                    LOG.info("{}: removing leftover file {}", dir, name);
                    Files.deleteIfExists(file);
                } else if (name.endsWith(SegmentFiles.INDEX_SUFFIX) || name.endsWith(SegmentFiles.TIME_INDEX_SUFFIX)) {
                    indexFiles.add(file);
                } else if (SegmentFiles.baseOffsetOf(name) >= 0) {
                    bases.add(SegmentFiles.baseOffsetOf(name));
                }
            }
        }
        for (Path swap : swaps) {
            completeSwap(swap, bases);
        }
        for (Path index : indexFiles) {
            String name = index.getFileName().toString();
            String logName = name.substring(0, name.lastIndexOf('.')) + SegmentFiles.LOG_SUFFIX;
            if (SegmentFiles.baseOffsetOf(logName) < 0 || !bases.contains(SegmentFiles.baseOffsetOf(logName))) {
                LOG.warn("{}: removing index file {} without a segment", dir, name);
                Files.deleteIfExists(index);
            }
        }
        return bases;
    }
}
