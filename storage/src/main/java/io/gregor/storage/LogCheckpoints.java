package io.gregor.storage;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The per-log single-value checkpoints, each a {@link CheckpointFile} in the log directory:
 * {@code recovery-point} (every offset below it was fsynced; recovery after an unclean shutdown
 * starts at the segment holding it), {@code log-start-offset} (advanced by retention and
 * DeleteRecords), {@code high-watermark} and {@code cleaner-offset} (the log cleaner's first dirty offset). A missing or unreadable file reads as 0.
 * Thread-safe (synchronized).
 */
final class LogCheckpoints {

    static final String RECOVERY_POINT = "recovery-point";
    static final String LOG_START_OFFSET = "log-start-offset";
    static final String HIGH_WATERMARK = "high-watermark";
    static final String CLEANER_OFFSET = "cleaner-offset";

    private final CheckpointFile recoveryPoint;
    private final CheckpointFile logStartOffset;
    private final CheckpointFile highWatermark;
    private final CheckpointFile cleanerOffset;
    private long persistedRecoveryPoint;
    private long persistedLogStartOffset;
    private long persistedHighWatermark;
    private long persistedCleanerOffset = -1;

    LogCheckpoints(Path dir) {
        this.recoveryPoint = new CheckpointFile(dir.resolve(RECOVERY_POINT));
        this.logStartOffset = new CheckpointFile(dir.resolve(LOG_START_OFFSET));
        this.highWatermark = new CheckpointFile(dir.resolve(HIGH_WATERMARK));
        this.cleanerOffset = new CheckpointFile(dir.resolve(CLEANER_OFFSET));
    }

    synchronized long recoveryPoint() {
        persistedRecoveryPoint = recoveryPoint.readLong(0L);
        return persistedRecoveryPoint;
    }

    synchronized long logStartOffset() {
        persistedLogStartOffset = logStartOffset.readLong(0L);
        return persistedLogStartOffset;
    }

    synchronized long highWatermark() {
        persistedHighWatermark = highWatermark.readLong(0L);
        return persistedHighWatermark;
    }

    /**
     * The offset below which the log cleaner has cleaned (everything at or above it is dirty). Read from its file
     * once; the cleaner asks for it every round of every compacted log.
     */
    synchronized long cleanerOffset() {
        if (persistedCleanerOffset < 0) {
            persistedCleanerOffset = cleanerOffset.readLong(0L);
        }
        return persistedCleanerOffset;
    }

    synchronized void writeCleanerOffset(long value) throws IOException {
        cleanerOffset.writeLong(value);
        persistedCleanerOffset = value;
    }

    // Each write costs two fsyncs, so a value equal to the one on disk is not rewritten.

    synchronized void writeRecoveryPoint(long value) throws IOException {
        if (value != persistedRecoveryPoint) {
            recoveryPoint.writeLong(value);
            persistedRecoveryPoint = value;
        }
    }

    synchronized void writeLogStartOffset(long value) throws IOException {
        if (value != persistedLogStartOffset) {
            logStartOffset.writeLong(value);
            persistedLogStartOffset = value;
        }
    }

    synchronized void writeHighWatermark(long value) throws IOException {
        if (value != persistedHighWatermark) {
            highWatermark.writeLong(value);
            persistedHighWatermark = value;
        }
    }
}
