package io.gregor.replication;

import io.gregor.storage.CorruptRecordException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.CompressionType;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.MemoryRecordsBuilder;
import org.apache.kafka.common.record.MutableRecordBatch;
import org.apache.kafka.common.record.Record;
import org.apache.kafka.common.record.RecordBatch;
import org.apache.kafka.common.record.TimestampType;

/**
 * A topic's {@code compression.type}, applied on the way in as Kafka does: {@code producer} keeps batches as sent (the
 * default and the zero-copy path); {@code uncompressed}, {@code gzip}, {@code snappy}, {@code lz4} or {@code zstd}
 * rewrite every produced batch whose codec differs, keeping its offsets deltas, timestamps, keys, values, headers and
 * producer fields (id, epoch, base sequence, transactional flag), so idempotence and transactions are unaffected.
 * Levels are each codec's default.
 *
 * <p>The batch's CRC is checked before it is rewritten, so a corrupted batch is refused, never given a fresh CRC.
 * Thread-safe (stateless).
 */
public final class Recompression {
    public static final String PRODUCER = "producer";

    private Recompression() {
    }

    /**
     * Returns {@code records} unchanged when every batch already has the topic's codec (or the topic keeps the
     * producer's), else the batches rewritten.
     *
     * @throws CorruptRecordException when a batch that must be rewritten is corrupt or cannot be decompressed
     */
    public static ByteBuffer apply(ByteBuffer records, String topicCompression) {
        CompressionType target = target(topicCompression);
        if (target == null) {
            return records;
        }
        List<MutableRecordBatch> batches = new ArrayList<>();
        boolean rewrite = false;
        try {
            for (MutableRecordBatch batch : MemoryRecords.readableRecords(records.duplicate()).batches()) {
                if (batch.magic() < RecordBatch.MAGIC_VALUE_V2) {
                    return records; // the log's own validation refuses these
                }
                batches.add(batch);
                rewrite |= batch.compressionType() != target && !batch.isControlBatch();
            }
        } catch (RuntimeException e) {
            return records; // malformed framing: left for the log's validation to refuse with its message
        }
        if (!rewrite) {
            return records;
        }
        ByteBuffer out = ByteBuffer.allocate(records.remaining() + 64);
        for (MutableRecordBatch batch : batches) {
            if (batch.compressionType() == target || batch.isControlBatch()) {
                out = append(out, batchBytes(batch));
                continue;
            }
            out = append(out, rewrite(batch, target));
        }
        return out.flip();
    }

    /** The codec a topic's {@code compression.type} stores batches with; null for {@code producer} (keep as sent). */
    public static CompressionType target(String topicCompression) {
        if (topicCompression == null || PRODUCER.equals(topicCompression)) {
            return null;
        }
        return "uncompressed".equals(topicCompression) ? CompressionType.NONE : CompressionType.forName(topicCompression);
    }

    private static ByteBuffer rewrite(MutableRecordBatch batch, CompressionType target) {
        try {
            batch.ensureValid();
            long logAppendTime = batch.timestampType() == TimestampType.LOG_APPEND_TIME ? batch.maxTimestamp() : RecordBatch.NO_TIMESTAMP;
            MemoryRecordsBuilder builder = MemoryRecords.builder(ByteBuffer.allocate(batch.sizeInBytes() + 64),
                    RecordBatch.MAGIC_VALUE_V2, Compression.of(target).build(), batch.timestampType(), batch.baseOffset(),
                    logAppendTime, batch.producerId(), batch.producerEpoch(), batch.baseSequence(), batch.isTransactional(),
                    batch.partitionLeaderEpoch());
            for (Record record : batch) {
                builder.appendWithOffset(record.offset(), record.timestamp(), record.key(), record.value(), record.headers());
            }
            return builder.build().buffer();
        } catch (RuntimeException e) {
            throw new CorruptRecordException("Batch at offset " + batch.baseOffset() + " cannot be recompressed to "
                    + target.name + ": " + e.getMessage());
        }
    }

    private static ByteBuffer batchBytes(MutableRecordBatch batch) {
        ByteBuffer copy = ByteBuffer.allocate(batch.sizeInBytes());
        batch.writeTo(copy);
        return copy.flip();
    }

    private static ByteBuffer append(ByteBuffer out, ByteBuffer bytes) {
        if (out.remaining() < bytes.remaining()) {
            ByteBuffer bigger = ByteBuffer.allocate(Math.max(out.capacity() * 2, out.position() + bytes.remaining()));
            bigger.put(out.flip());
            out = bigger;
        }
        return out.put(bytes);
    }
}
