package io.gregor.storage;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The per-log single-value checkpoints, each a {@link CheckpointFile} in the log directory:
 * {@code recovery-point} (every offset below it was fsynced; recovery after an unclean shutdown
 * starts at the segment holding it), {@code log-start-offset} (advanced by retention and
 * DeleteRecords) and {@code high-watermark}. A missing or unreadable file reads as 0.
 * Not thread-safe; the log serializes writes.
 */
final class LogCheckpoints {

    static final String RECOVERY_POINT = "recovery-point";
    static final String LOG_START_OFFSET = "log-start-offset";
    static final String HIGH_WATERMARK = "high-watermark";

    private final CheckpointFile recoveryPoint;
    private final CheckpointFile logStartOffset;
    private final CheckpointFile highWatermark;

    LogCheckpoints(Path dir) {
        this.recoveryPoint = new CheckpointFile(dir.resolve(RECOVERY_POINT));
        this.logStartOffset = new CheckpointFile(dir.resolve(LOG_START_OFFSET));
        this.highWatermark = new CheckpointFile(dir.resolve(HIGH_WATERMARK));
    }

    long recoveryPoint() {
        return recoveryPoint.readLong(0L);
    }

    long logStartOffset() {
        return logStartOffset.readLong(0L);
    }

    long highWatermark() {
        return highWatermark.readLong(0L);
    }

    void writeRecoveryPoint(long value) throws IOException {
        recoveryPoint.writeLong(value);
    }

    void writeLogStartOffset(long value) throws IOException {
        logStartOffset.writeLong(value);
    }

    void writeHighWatermark(long value) throws IOException {
        highWatermark.writeLong(value);
    }
}
