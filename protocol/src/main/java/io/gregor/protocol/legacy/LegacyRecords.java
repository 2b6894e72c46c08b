package io.gregor.protocol.legacy;

import io.gregor.legacy.kafka.common.record.AbstractLegacyRecordBatch;
import io.gregor.legacy.kafka.common.record.LegacyRecord;
import io.gregor.legacy.kafka.common.record.MemoryRecordsBuilder;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.CompressionType;
import org.apache.kafka.common.record.ControlRecordType;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.MutableRecordBatch;
import org.apache.kafka.common.record.Record;
import org.apache.kafka.common.record.RecordBatch;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.utils.BufferSupplier;
import org.apache.kafka.common.utils.CloseableIterator;

/**
 * Message formats v0 and v1 (magic 0 and 1), converted to and from the v2 batches Gregor stores.
 *
 * <ul>
 *   <li>{@link #toCurrentFormat}: a produced v0/v1 message set becomes one v2 batch with the same keys, values, order
 *   and (v1) timestamps, compressed with the codec the producer used. Every message's CRC32 is checked; compressed
 *   wrapper messages are unwrapped (gzip, snappy, lz4 with the framing of its magic) and their inner messages checked
 *   too. Nested compression, ZStandard in v0/v1, mixed formats and truncated or malformed messages are refused with
 *   the error Kafka gives.</li>
 *   <li>{@link #toLegacyFormat}: stored v2 batches become v0/v1 messages with their offsets, keys, values and (v1)
 *   timestamps, each batch compressed with its own codec; headers are dropped (the formats have none); control
 *   batches and records of aborted transactions are left out. The output is bounded by the fetch's byte limit, with
 *   at least one message when there is one to give.</li>
 * </ul>
 *
 * <p>The v0/v1 layouts are read and written by kafka-clients 3.9.1 (relocated), the last release that carries them.
 * Thread-safe (stateless).
 */
public final class LegacyRecords {
    /** Offset of the magic byte in every format: offset (8), size (4), CRC (4). */
    private static final int MAGIC_OFFSET = 16;

    private LegacyRecords() {
    }

    /** A v0/v1 message set that cannot be accepted, with the Kafka error to answer it with. */
    public static final class InvalidRecordsException extends RuntimeException {
        private final transient Errors error;

        InvalidRecordsException(Errors error, String message, Throwable cause) {
            super(message, cause);
            this.error = error;
        }

        public Errors error() {
            return error;
        }
    }

    /** The magic byte of the first batch or message in {@code records}, or -1 when there are too few bytes. */
    public static byte magic(ByteBuffer records) {
        return records.remaining() > MAGIC_OFFSET ? records.get(records.position() + MAGIC_OFFSET) : -1;
    }

    /**
     * Converts a produced v0/v1 message set to one v2 batch (base offset 0, no producer id), ready to be validated
     * and appended like any other produce batch.
     *
     * @throws InvalidRecordsException with CORRUPT_MESSAGE (bad CRC, size or framing, undecompressable data) or
     *     INVALID_RECORD (nested compression, ZStandard, a v2 batch in the set, an empty compressed wrapper)
     */
    public static ByteBuffer toCurrentFormat(ByteBuffer legacy) {
        return toCurrentFormat(legacy, null);
    }

    /**
     * As {@link #toCurrentFormat(ByteBuffer)}, compressing the batch with {@code codec} instead of the producer's
     * (the topic's {@code compression.type}), so the records are compressed once, not twice; null keeps the producer's.
     */
    public static ByteBuffer toCurrentFormat(ByteBuffer legacy, CompressionType codecOverride) {
        List<Message> messages = new ArrayList<>();
        CompressionType codec = CompressionType.NONE;
        TimestampType timestampType = TimestampType.CREATE_TIME;
        int position = legacy.position();
        int end = legacy.limit();
        try {
            while (position < end) {
                if (end - position < 12) {
                    throw corrupt("message set ends with " + (end - position) + " bytes, too few for a message header", null);
                }
                int size = legacy.getInt(position + 8);
                if (size < LegacyRecord.RECORD_OVERHEAD_V0) {
                    throw corrupt("message at byte " + (position - legacy.position()) + " has size " + size
                            + ", below the minimum of " + LegacyRecord.RECORD_OVERHEAD_V0, null);
                }
                if (size > end - position - 12) {
                    throw corrupt("message at byte " + (position - legacy.position()) + " is truncated: size " + size
                            + " but " + (end - position - 12) + " bytes follow", null);
                }
                ByteBuffer one = legacy.duplicate().position(position).limit(position + 12 + size).slice();
                byte magic = one.get(MAGIC_OFFSET);
                if (magic > RecordBatch.MAGIC_VALUE_V1) {
                    throw invalid("message format v" + magic + " cannot be mixed into a v0/v1 message set", null);
                }
                var shallow = io.gregor.legacy.kafka.common.record.MemoryRecords.readableRecords(one).batches().iterator();
                if (!shallow.hasNext()) {
                    throw corrupt("unreadable message at byte " + (position - legacy.position()), null);
                }
                var wrapper = (AbstractLegacyRecordBatch) shallow.next();
                wrapper.ensureValid();
                if (magic == RecordBatch.MAGIC_VALUE_V1 && wrapper.timestampType().id == TimestampType.LOG_APPEND_TIME.id) {
                    timestampType = TimestampType.LOG_APPEND_TIME;
                }
                var wrapperCodec = wrapper.compressionType();
                if (wrapperCodec == io.gregor.legacy.kafka.common.record.CompressionType.NONE) {
                    messages.add(new Message(magic == 0 ? RecordBatch.NO_TIMESTAMP : wrapper.timestamp(),
                            copy(wrapper.key()), copy(wrapper.value())));
                } else {
                    if (wrapperCodec == io.gregor.legacy.kafka.common.record.CompressionType.ZSTD) {
                        throw invalid("ZStandard compression is not allowed in message format v" + magic, null);
                    }
                    codec = CompressionType.forId(wrapperCodec.id);
                    unwrap(wrapper, magic, messages);
                }
                position += 12 + size;
            }
        } catch (InvalidRecordsException e) {
            throw e;
        } catch (io.gregor.legacy.kafka.common.errors.CorruptRecordException e) {
            throw corrupt(e.getMessage(), e);
        } catch (io.gregor.legacy.kafka.common.InvalidRecordException e) {
            throw invalid(e.getMessage(), e);
        } catch (RuntimeException e) {
            // Decompression failures surface as KafkaException, BufferUnderflowException and the like.
            throw corrupt("cannot read message set: " + e, e);
        }
        if (messages.isEmpty()) {
            throw corrupt("message set holds no messages", null);
        }
        int estimate = 64;
        for (Message m : messages) {
            estimate += 32 + (m.key == null ? 0 : m.key.remaining()) + (m.value == null ? 0 : m.value.remaining());
        }
        var builder = MemoryRecords.builder(ByteBuffer.allocate(estimate), RecordBatch.MAGIC_VALUE_V2,
                Compression.of(codecOverride != null ? codecOverride : codec).build(), timestampType, 0L);
        long offset = 0;
        for (Message m : messages) {
            builder.appendWithOffset(offset++, m.timestamp, m.key, m.value);
        }
        return builder.build().buffer();
    }

    private record Message(long timestamp, ByteBuffer key, ByteBuffer value) {
    }

    private static void unwrap(AbstractLegacyRecordBatch wrapper, byte magic, List<Message> messages) {
        int before = messages.size();
        for (var inner : wrapper) {
            var innerMessage = (AbstractLegacyRecordBatch) inner;
            if (innerMessage.compressionType() != io.gregor.legacy.kafka.common.record.CompressionType.NONE) {
                throw invalid("compressed message at offset " + wrapper.lastOffset()
                        + " holds a compressed inner message (nested compression)", null);
            }
            if (innerMessage.magic() != magic) {
                throw invalid("inner message of format v" + innerMessage.magic() + " in a v" + magic + " wrapper", null);
            }
            innerMessage.ensureValid();
            messages.add(new Message(magic == 0 ? RecordBatch.NO_TIMESTAMP : inner.timestamp(), copy(inner.key()),
                    copy(inner.value())));
        }
        if (messages.size() == before) {
            throw invalid("compressed message at offset " + wrapper.lastOffset() + " holds no inner messages", null);
        }
    }

    private static ByteBuffer copy(ByteBuffer b) {
        if (b == null) {
            return null;
        }
        ByteBuffer copy = ByteBuffer.allocate(b.remaining());
        copy.put(b.duplicate());
        return copy.flip();
    }

    /**
     * Down-converted fetch records; {@code error} is set (and {@code records} empty) when nothing could be given.
     * {@code stopped} says that the conversion ended before the end of its input: the byte limit was reached, or a
     * transaction with no decision in the input, or a ZStandard batch, came next; what follows must not be given
     * before it.
     */
    public record Converted(MemoryRecords records, Errors error, int messages, boolean stopped) {
    }

    /**
     * Converts stored v2 batches for a v0/v1 reader.
     *
     * @param batches whole v2 batches as read from the log (a partial batch at the end is ignored)
     * @param magic 0 or 1
     * @param fetchOffset messages below it are left out
     * @param maxBytes the output stops before it would pass this size, but holds at least one message
     * @return the messages; UNSUPPORTED_COMPRESSION_TYPE when the first batch to give is ZStandard-compressed (v0/v1
     *     readers cannot decompress it, as in Kafka 3.x)
     */
    public static Converted toLegacyFormat(ByteBuffer batches, byte magic, long fetchOffset, int maxBytes) {
        return toLegacyFormat(batches, magic, fetchOffset, maxBytes, true, null, BufferSupplier.create());
    }

    /** The room a conversion of {@code batches} bounded by {@code maxBytes} usually needs (old formats take more). */
    static int expectedSize(ByteBuffer batches, int maxBytes) {
        int expected = Math.min(Math.max(maxBytes, 0), batches.remaining());
        return expected + expected / 8 + 1024;
    }

    /**
     * As {@link #toLegacyFormat(ByteBuffer, byte, long, int)}, writing into {@code output} (from its position; null:
     * a new heap buffer) while it has room, and decompressing with buffers from {@code decompression}. When the
     * output is too small a larger heap buffer takes its place: the records returned are in one or the other.
     *
     * @param atLeastOne whether the first message is given even when it passes {@code maxBytes} (false: the output
     *     continues an answer, and nothing is better than a message that does not fit)
     */
    static Converted toLegacyFormat(ByteBuffer batches, byte magic, long fetchOffset, int maxBytes, boolean atLeastOne,
                                    ByteBuffer output, BufferSupplier decompression) {
        if (magic != RecordBatch.MAGIC_VALUE_V0 && magic != RecordBatch.MAGIC_VALUE_V1) {
            throw new IllegalArgumentException("magic " + magic);
        }
        MemoryRecords stored = MemoryRecords.readableRecords(batches.duplicate());
        Map<Long, TreeMap<Long, Boolean>> markers = transactionMarkers(stored);
        // Old formats take a little more room than v2 batches (a header per message): start an eighth larger.
        Output out = output != null ? new Output(output) : new Output(expectedSize(batches, maxBytes));
        int count = 0;
        boolean stopped = false;
        for (MutableRecordBatch batch : stored.batches()) {
            if (batch.isControlBatch() || batch.lastOffset() < fetchOffset) {
                continue;
            }
            if (batch.isTransactional()) {
                Boolean aborted = decidedAborted(markers, batch);
                if (aborted == null) {
                    stopped = true; // undecided: never hand out what may still be aborted
                    break;
                }
                if (aborted) {
                    continue;
                }
            }
            if (batch.compressionType() == CompressionType.ZSTD) {
                if (count == 0) {
                    return new Converted(MemoryRecords.EMPTY, Errors.UNSUPPORTED_COMPRESSION_TYPE, 0, true);
                }
                stopped = true;
                break;
            }
            boolean mustGive = atLeastOne && count == 0;
            if (!mustGive && batch.compressionType() != CompressionType.NONE
                    && (long) out.size() + batch.sizeInBytes() > maxBytes) {
                // A wrapper is about as large as its stored batch or larger (old formats take more room): one that
                // would not fit is not converted only to be taken back.
                stopped = true;
                break;
            }
            count += convert(batch, magic, fetchOffset, maxBytes, out, mustGive, decompression);
            if (out.full || out.size() >= maxBytes) {
                stopped = true;
                break;
            }
        }
        return new Converted(MemoryRecords.readableRecords(out.buffer()), Errors.NONE, count, stopped);
    }

    /**
     * Appends one batch's messages to {@code out}: uncompressed batches message by message while they fit, compressed
     * ones as one wrapper or not at all. Returns the number of messages added; marks the output full when a message
     * did not fit.
     */
    private static int convert(MutableRecordBatch batch, byte magic, long fetchOffset, int maxBytes, Output out,
                               boolean firstBatch, BufferSupplier decompression) {
        var codec = io.gregor.legacy.kafka.common.record.CompressionType.forId(batch.compressionType().id);
        boolean compressed = codec != io.gregor.legacy.kafka.common.record.CompressionType.NONE;
        var type = magic == 0 ? io.gregor.legacy.kafka.common.record.TimestampType.NO_TIMESTAMP_TYPE
                : batch.timestampType() == TimestampType.LOG_APPEND_TIME
                        ? io.gregor.legacy.kafka.common.record.TimestampType.LOG_APPEND_TIME
                        : io.gregor.legacy.kafka.common.record.TimestampType.CREATE_TIME;
        long logAppendTime = batch.timestampType() == TimestampType.LOG_APPEND_TIME ? batch.maxTimestamp() : RecordBatch.NO_TIMESTAMP;
        // The builder writes straight into the output (growing it if it must), so nothing is copied twice.
        int start = out.size();
        var stream = new io.gregor.legacy.kafka.common.utils.ByteBufferOutputStream(out.buffer);
        MemoryRecordsBuilder builder = new MemoryRecordsBuilder(stream,
                magic, io.gregor.legacy.kafka.common.compress.Compression.of(codec).build(), type, batch.baseOffset(),
                logAppendTime, RecordBatch.NO_PRODUCER_ID, RecordBatch.NO_PRODUCER_EPOCH, RecordBatch.NO_SEQUENCE,
                false, false, RecordBatch.NO_PARTITION_LEADER_EPOCH, Integer.MAX_VALUE);
        int added;
        try (CloseableIterator<Record> records = batch.streamingIterator(decompression)) {
            added = append(records, builder, magic, fetchOffset, compressed ? Integer.MAX_VALUE : maxBytes - start,
                    firstBatch && start == 0, out);
        }
        builder.close();
        out.buffer = stream.buffer();
        if (compressed && !firstBatch && out.size() > maxBytes) {
            out.buffer.position(start); // the wrapper does not fit: take it back
            out.full = true;
            return 0;
        }
        return added;
    }

    /**
     * Appends the records at or above {@code fetchOffset}; for uncompressed output, stops before a message that would
     * take the builder past {@code room} bytes (marking the output full), unless it is the very first one.
     */
    private static int append(CloseableIterator<Record> records, MemoryRecordsBuilder builder, byte magic, long fetchOffset,
                              int room, boolean firstOfOutput, Output out) {
        int added = 0;
        while (records.hasNext()) {
            Record record = records.next();
            if (record.offset() < fetchOffset) {
                continue;
            }
            int size = 12 + LegacyRecord.recordSize(magic, Math.max(0, record.keySize()), Math.max(0, record.valueSize()));
            if (!(firstOfOutput && added == 0) && (long) builder.estimatedSizeInBytes() + size > room) {
                out.full = true;
                break;
            }
            builder.appendWithOffset(record.offset(), magic == 0 ? RecordBatch.NO_TIMESTAMP : record.timestamp(),
                    record.key(), record.value());
            added++;
        }
        return added;
    }

    /** For each producer id, the offsets of its transaction markers in the slice (true = abort). */
    private static Map<Long, TreeMap<Long, Boolean>> transactionMarkers(MemoryRecords stored) {
        Map<Long, TreeMap<Long, Boolean>> markers = new HashMap<>();
        for (MutableRecordBatch batch : stored.batches()) {
            if (!batch.isControlBatch()) {
                continue;
            }
            for (Record record : batch) {
                ControlRecordType type = ControlRecordType.parse(record.key());
                if (type == ControlRecordType.ABORT || type == ControlRecordType.COMMIT) {
                    markers.computeIfAbsent(batch.producerId(), id -> new TreeMap<>())
                            .put(record.offset(), type == ControlRecordType.ABORT);
                }
            }
        }
        return markers;
    }

    /** Whether the first marker of the batch's producer after it is an abort; null when no marker follows. */
    private static Boolean decidedAborted(Map<Long, TreeMap<Long, Boolean>> markers, RecordBatch batch) {
        TreeMap<Long, Boolean> ofProducer = markers.get(batch.producerId());
        var next = ofProducer == null ? null : ofProducer.higherEntry(batch.lastOffset());
        return next == null ? null : next.getValue();
    }

    /** The output buffer: written up to its position; the builders replace it when they grow it. */
    private static final class Output {
        ByteBuffer buffer;
        boolean full;

        Output(int initial) {
            buffer = ByteBuffer.allocate(Math.max(initial, 64));
        }

        Output(ByteBuffer given) {
            buffer = given;
        }

        int size() {
            return buffer.position();
        }

        ByteBuffer buffer() {
            return buffer.duplicate().flip();
        }
    }

    private static InvalidRecordsException corrupt(String message, Throwable cause) {
        return new InvalidRecordsException(Errors.CORRUPT_MESSAGE, message, cause);
    }

    private static InvalidRecordsException invalid(String message, Throwable cause) {
        return new InvalidRecordsException(Errors.INVALID_RECORD, message, cause);
    }
}
