package io.gregor.storage;

/**
 * What an append did.
 *
 * @param firstOffset base offset assigned to the first batch
 * @param lastOffset last offset of the last batch
 * @param logAppendTimeMs the stamped broker time, or -1 unless the log uses LogAppendTime
 * @param maxTimestamp largest batch max timestamp of the append
 * @param offsetOfMaxTimestamp base offset of the batch holding {@code maxTimestamp}
 * @param validBytes bytes written
 * @param recordCount records written (sum of the batches' record counts)
 */
public record LogAppendInfo(
        long firstOffset,
        long lastOffset,
        long logAppendTimeMs,
        long maxTimestamp,
        long offsetOfMaxTimestamp,
        int validBytes,
        int recordCount) {}
