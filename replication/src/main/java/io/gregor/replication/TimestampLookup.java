package io.gregor.replication;

import io.gregor.storage.FetchSlice;
import io.gregor.storage.Log;
import io.gregor.storage.TimestampOffset;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.MutableRecordBatch;
import org.apache.kafka.common.record.Record;
import org.apache.kafka.common.record.TimestampType;

/**
 * Record-level timestamp lookups for ListOffsets. Storage finds the batch (its index works on batch maximum
 * timestamps); this reads that one batch and walks its records (decompressing if needed) to find the exact record,
 * as Kafka answers.
 */
final class TimestampLookup {
    private TimestampLookup() {
    }

    /** The first record at or after {@code target} with timestamp >= target, below {@code maxOffset}; null if none. */
    static TimestampOffset firstAtOrAfter(Log log, long target, long maxOffset) {
        TimestampOffset batchHit = log.offsetForTimestamp(target);
        if (batchHit == null || batchHit.offset() >= maxOffset) {
            return null;
        }
        long from = Math.max(batchHit.offset(), log.logStartOffset());
        MemoryRecords records = readBatches(log, from, maxOffset);
        for (MutableRecordBatch batch : records.batches()) {
            for (Record record : batch) {
                long ts = batch.timestampType() == TimestampType.LOG_APPEND_TIME ? batch.maxTimestamp() : record.timestamp();
                if (record.offset() >= from && record.offset() < maxOffset && ts >= target) {
                    return new TimestampOffset(ts, record.offset());
                }
            }
        }
        return null;
    }

    /** The record holding the largest timestamp (the earliest such record), below {@code maxOffset}. */
    static TimestampOffset maxTimestamp(Log log, long maxOffset) {
        TimestampOffset batchHit = log.maxTimestampAndOffset();
        if (batchHit == null || batchHit.offset() >= maxOffset) {
            return null;
        }
        MemoryRecords records = readBatches(log, Math.max(batchHit.offset(), log.logStartOffset()), maxOffset);
        for (MutableRecordBatch batch : records.batches()) {
            if (batch.maxTimestamp() != batchHit.timestamp()) {
                continue;
            }
            for (Record record : batch) {
                long ts = batch.timestampType() == TimestampType.LOG_APPEND_TIME ? batch.maxTimestamp() : record.timestamp();
                if (ts == batch.maxTimestamp() && record.offset() < maxOffset) {
                    return new TimestampOffset(ts, record.offset());
                }
            }
        }
        return batchHit;
    }

    private static MemoryRecords readBatches(Log log, long from, long maxOffset) {
        FetchSlice slice = log.read(from, 1, maxOffset, true);
        if (slice.isEmpty()) {
            return MemoryRecords.EMPTY;
        }
        ByteBuffer buffer = ByteBuffer.allocate(slice.size());
        try {
            while (buffer.hasRemaining()) {
                int n = slice.channel().read(buffer, slice.position() + buffer.position());
                if (n < 0) {
                    break;
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        buffer.flip();
        return MemoryRecords.readableRecords(buffer);
    }
}
