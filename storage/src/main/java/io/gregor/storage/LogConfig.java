package io.gregor.storage;

/**
 * Per-log settings. Immutable; defaults equal Kafka's topic-level defaults. Copy with the
 * {@code withX} methods: {@code LogConfig.defaults().withSegmentBytes(1 << 20)}.
 *
 * @param segmentBytes {@code segment.bytes}, default 1 GiB
 * @param segmentMs {@code segment.ms}, default 7 days
 * @param indexIntervalBytes {@code index.interval.bytes}, default 4096
 * @param maxIndexBytes {@code segment.index.bytes}, default 10 MiB
 * @param retentionMs {@code retention.ms}, default 7 days, -1 = unlimited
 * @param retentionBytes {@code retention.bytes}, default -1 = unlimited
 * @param flushMessages {@code flush.messages}, default {@link Long#MAX_VALUE}
 * @param flushMs {@code flush.ms}, default {@link Long#MAX_VALUE}
 * @param logAppendTime {@code message.timestamp.type=LogAppendTime}, default false (CreateTime)
 * @param maxMessageBytes {@code max.message.bytes}, default 1048588
 * @param fileDeleteDelayMs {@code file.delete.delay.ms}, default 60000
 */
public record LogConfig(
        int segmentBytes,
        long segmentMs,
        int indexIntervalBytes,
        int maxIndexBytes,
        long retentionMs,
        long retentionBytes,
        long flushMessages,
        long flushMs,
        boolean logAppendTime,
        int maxMessageBytes,
        long fileDeleteDelayMs,
        Compaction compaction) {

    private static final long SEVEN_DAYS_MS = 7L * 24 * 60 * 60 * 1000;
    private static final LogConfig DEFAULTS = new LogConfig(
            1 << 30, SEVEN_DAYS_MS, 4096, 10 * 1024 * 1024, SEVEN_DAYS_MS, -1L,
            Long.MAX_VALUE, Long.MAX_VALUE, false, 1048588, 60_000L, Compaction.DEFAULTS);

    public LogConfig {
        require(segmentBytes >= RecordBatchHeader.HEADER_SIZE, "segment.bytes", segmentBytes);
        require(segmentMs >= 1, "segment.ms", segmentMs);
        require(indexIntervalBytes >= 0, "index.interval.bytes", indexIntervalBytes);
        require(maxIndexBytes >= TimeIndex.ENTRY_SIZE, "segment.index.bytes", maxIndexBytes);
        require(retentionMs >= -1, "retention.ms", retentionMs);
        require(retentionBytes >= -1, "retention.bytes", retentionBytes);
        require(flushMessages >= 1, "flush.messages", flushMessages);
        require(flushMs >= 0, "flush.ms", flushMs);
        require(maxMessageBytes >= 0, "max.message.bytes", maxMessageBytes);
        require(fileDeleteDelayMs >= 0, "file.delete.delay.ms", fileDeleteDelayMs);
        java.util.Objects.requireNonNull(compaction, "compaction");
    }

    /**
     * {@code cleanup.policy} and the log cleaner's settings for this log.
     *
     * @param compact the policy has {@code compact}: the cleaner keeps the latest record of each key
     * @param delete the policy has {@code delete}: {@code retention.ms} and {@code retention.bytes} delete segments
     * @param minCleanableDirtyRatio {@code min.cleanable.dirty.ratio}: clean when this share of the log is dirty
     * @param minCompactionLagMs {@code min.compaction.lag.ms}: records younger than this are not compacted
     * @param maxCompactionLagMs {@code max.compaction.lag.ms}: a dirty record older than this forces a cleaning
     * @param deleteRetentionMs {@code delete.retention.ms}: how long a tombstone is kept once cleaned
     */
    public record Compaction(boolean compact, boolean delete, double minCleanableDirtyRatio, long minCompactionLagMs,
                             long maxCompactionLagMs, long deleteRetentionMs) {
        public static final Compaction DEFAULTS = new Compaction(false, true, 0.5, 0L, Long.MAX_VALUE, 86_400_000L);

        public Compaction {
            check(compact || delete, "cleanup.policy (neither compact nor delete)", 0);
            check(minCleanableDirtyRatio >= 0 && minCleanableDirtyRatio <= 1, "min.cleanable.dirty.ratio",
                    (long) minCleanableDirtyRatio);
            check(minCompactionLagMs >= 0, "min.compaction.lag.ms", minCompactionLagMs);
            check(maxCompactionLagMs >= 1, "max.compaction.lag.ms", maxCompactionLagMs);
            check(deleteRetentionMs >= 0, "delete.retention.ms", deleteRetentionMs);
        }

        // Its own check, not LogConfig's: using LogConfig here would initialise LogConfig before DEFAULTS exists.
        private static void check(boolean valid, String name, long value) {
            if (!valid) {
                throw new IllegalArgumentException("Invalid value " + value + " for " + name);
            }
        }
    }

    public LogConfig withCompaction(Compaction value) {
        return new LogConfig(segmentBytes, segmentMs, indexIntervalBytes, maxIndexBytes, retentionMs, retentionBytes,
                flushMessages, flushMs, logAppendTime, maxMessageBytes, fileDeleteDelayMs, value);
    }

    private static void require(boolean valid, String name, long value) {
        if (!valid) {
            throw new IllegalArgumentException("Invalid value " + value + " for " + name);
        }
    }

    /** Kafka's defaults. */
    public static LogConfig defaults() {
        return DEFAULTS;
    }

    public LogConfig withSegmentBytes(int value) {
        return new LogConfig(value, segmentMs, indexIntervalBytes, maxIndexBytes, retentionMs, retentionBytes,
                flushMessages, flushMs, logAppendTime, maxMessageBytes, fileDeleteDelayMs, compaction);
    }

    public LogConfig withSegmentMs(long value) {
        return new LogConfig(segmentBytes, value, indexIntervalBytes, maxIndexBytes, retentionMs, retentionBytes,
                flushMessages, flushMs, logAppendTime, maxMessageBytes, fileDeleteDelayMs, compaction);
    }

    public LogConfig withIndexIntervalBytes(int value) {
        return new LogConfig(segmentBytes, segmentMs, value, maxIndexBytes, retentionMs, retentionBytes,
                flushMessages, flushMs, logAppendTime, maxMessageBytes, fileDeleteDelayMs, compaction);
    }

    public LogConfig withMaxIndexBytes(int value) {
        return new LogConfig(segmentBytes, segmentMs, indexIntervalBytes, value, retentionMs, retentionBytes,
                flushMessages, flushMs, logAppendTime, maxMessageBytes, fileDeleteDelayMs, compaction);
    }

    public LogConfig withRetentionMs(long value) {
        return new LogConfig(segmentBytes, segmentMs, indexIntervalBytes, maxIndexBytes, value, retentionBytes,
                flushMessages, flushMs, logAppendTime, maxMessageBytes, fileDeleteDelayMs, compaction);
    }

    public LogConfig withRetentionBytes(long value) {
        return new LogConfig(segmentBytes, segmentMs, indexIntervalBytes, maxIndexBytes, retentionMs, value,
                flushMessages, flushMs, logAppendTime, maxMessageBytes, fileDeleteDelayMs, compaction);
    }

    public LogConfig withFlushMessages(long value) {
        return new LogConfig(segmentBytes, segmentMs, indexIntervalBytes, maxIndexBytes, retentionMs, retentionBytes,
                value, flushMs, logAppendTime, maxMessageBytes, fileDeleteDelayMs, compaction);
    }

    public LogConfig withFlushMs(long value) {
        return new LogConfig(segmentBytes, segmentMs, indexIntervalBytes, maxIndexBytes, retentionMs, retentionBytes,
                flushMessages, value, logAppendTime, maxMessageBytes, fileDeleteDelayMs, compaction);
    }

    public LogConfig withLogAppendTime(boolean value) {
        return new LogConfig(segmentBytes, segmentMs, indexIntervalBytes, maxIndexBytes, retentionMs, retentionBytes,
                flushMessages, flushMs, value, maxMessageBytes, fileDeleteDelayMs, compaction);
    }

    public LogConfig withMaxMessageBytes(int value) {
        return new LogConfig(segmentBytes, segmentMs, indexIntervalBytes, maxIndexBytes, retentionMs, retentionBytes,
                flushMessages, flushMs, logAppendTime, value, fileDeleteDelayMs, compaction);
    }

    public LogConfig withFileDeleteDelayMs(long value) {
        return new LogConfig(segmentBytes, segmentMs, indexIntervalBytes, maxIndexBytes, retentionMs, retentionBytes,
                flushMessages, flushMs, logAppendTime, maxMessageBytes, value, compaction);
    }
}
