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
        long fileDeleteDelayMs) {

    private static final long SEVEN_DAYS_MS = 7L * 24 * 60 * 60 * 1000;
    private static final LogConfig DEFAULTS = new LogConfig(
            1 << 30, SEVEN_DAYS_MS, 4096, 10 * 1024 * 1024, SEVEN_DAYS_MS, -1L,
            Long.MAX_VALUE, Long.MAX_VALUE, false, 1048588, 60_000L);

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
                flushMessages, flushMs, logAppendTime, maxMessageBytes, fileDeleteDelayMs);
    }

    public LogConfig withSegmentMs(long value) {
        return new LogConfig(segmentBytes, value, indexIntervalBytes, maxIndexBytes, retentionMs, retentionBytes,
                flushMessages, flushMs, logAppendTime, maxMessageBytes, fileDeleteDelayMs);
    }

    public LogConfig withIndexIntervalBytes(int value) {
        return new LogConfig(segmentBytes, segmentMs, value, maxIndexBytes, retentionMs, retentionBytes,
                flushMessages, flushMs, logAppendTime, maxMessageBytes, fileDeleteDelayMs);
    }

    public LogConfig withMaxIndexBytes(int value) {
        return new LogConfig(segmentBytes, segmentMs, indexIntervalBytes, value, retentionMs, retentionBytes,
                flushMessages, flushMs, logAppendTime, maxMessageBytes, fileDeleteDelayMs);
    }

    public LogConfig withRetentionMs(long value) {
        return new LogConfig(segmentBytes, segmentMs, indexIntervalBytes, maxIndexBytes, value, retentionBytes,
                flushMessages, flushMs, logAppendTime, maxMessageBytes, fileDeleteDelayMs);
    }

    public LogConfig withRetentionBytes(long value) {
        return new LogConfig(segmentBytes, segmentMs, indexIntervalBytes, maxIndexBytes, retentionMs, value,
                flushMessages, flushMs, logAppendTime, maxMessageBytes, fileDeleteDelayMs);
    }

    public LogConfig withFlushMessages(long value) {
        return new LogConfig(segmentBytes, segmentMs, indexIntervalBytes, maxIndexBytes, retentionMs, retentionBytes,
                value, flushMs, logAppendTime, maxMessageBytes, fileDeleteDelayMs);
    }

    public LogConfig withFlushMs(long value) {
        return new LogConfig(segmentBytes, segmentMs, indexIntervalBytes, maxIndexBytes, retentionMs, retentionBytes,
                flushMessages, value, logAppendTime, maxMessageBytes, fileDeleteDelayMs);
    }

    public LogConfig withLogAppendTime(boolean value) {
        return new LogConfig(segmentBytes, segmentMs, indexIntervalBytes, maxIndexBytes, retentionMs, retentionBytes,
                flushMessages, flushMs, value, maxMessageBytes, fileDeleteDelayMs);
    }

    public LogConfig withMaxMessageBytes(int value) {
        return new LogConfig(segmentBytes, segmentMs, indexIntervalBytes, maxIndexBytes, retentionMs, retentionBytes,
                flushMessages, flushMs, logAppendTime, value, fileDeleteDelayMs);
    }

    public LogConfig withFileDeleteDelayMs(long value) {
        return new LogConfig(segmentBytes, segmentMs, indexIntervalBytes, maxIndexBytes, retentionMs, retentionBytes,
                flushMessages, flushMs, logAppendTime, maxMessageBytes, value);
    }
}
