package io.gregor.storage;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * Field layout of a Kafka magic-v2 record batch header, read and written in place. Storage never
 * parses the records after the header.
 *
 * <pre>
 *  0                   8          12                     16     17       21           23
 *  +-------------------+-----------+----------------------+------+--------+------------+
 *  | baseOffset int64  | length i32| partitionLeaderEpoch | magic| crc u32| attributes |
 *  +-------------------+-----------+----------------------+------+--------+------------+
 *  23                 27                 35                 43             51       53
 *  | lastOffsetDelta  | baseTimestamp i64| maxTimestamp i64 | producerId i64| pEpoch | baseSeq i32 |
 *  57              61
 *  | recordCount i32 | records ...
 * </pre>
 *
 * All fields big-endian. {@code length} counts the bytes after the length field, so a batch
 * occupies {@code length + 12} bytes. The CRC32C covers the bytes from {@code attributes} to the
 * end of the batch. Attributes: bits 0-2 compression, bit 3 timestamp type (1 = LogAppendTime),
 * bit 4 transactional, bit 5 control.
 */
final class RecordBatchHeader {

    static final int BASE_OFFSET = 0;
    static final int LENGTH = 8;
    static final int PARTITION_LEADER_EPOCH = 12;
    static final int MAGIC = 16;
    static final int CRC = 17;
    static final int ATTRIBUTES = 21;
    static final int LAST_OFFSET_DELTA = 23;
    static final int BASE_TIMESTAMP = 27;
    static final int MAX_TIMESTAMP = 35;
    static final int PRODUCER_ID = 43;
    static final int PRODUCER_EPOCH = 51;
    static final int BASE_SEQUENCE = 53;
    static final int RECORD_COUNT = 57;
    static final int HEADER_SIZE = 61;
    /** Bytes before the part counted by {@code length}: base offset and the length field. */
    static final int LOG_OVERHEAD = 12;
    static final byte MAGIC_V2 = 2;
    static final short TIMESTAMP_TYPE_LOG_APPEND_TIME = 1 << 3;

    private RecordBatchHeader() {}

    static long baseOffset(ByteBuffer buffer, int batchStart) {
        return buffer.getLong(batchStart + BASE_OFFSET);
    }

    /** Total bytes the batch occupies, header included. */
    static int sizeInBytes(ByteBuffer buffer, int batchStart) {
        return buffer.getInt(batchStart + LENGTH) + LOG_OVERHEAD;
    }

    static int lastOffsetDelta(ByteBuffer buffer, int batchStart) {
        return buffer.getInt(batchStart + LAST_OFFSET_DELTA);
    }

    static long maxTimestamp(ByteBuffer buffer, int batchStart) {
        return buffer.getLong(batchStart + MAX_TIMESTAMP);
    }

    static int recordCount(ByteBuffer buffer, int batchStart) {
        return buffer.getInt(batchStart + RECORD_COUNT);
    }

    static long storedCrc(ByteBuffer buffer, int batchStart) {
        return buffer.getInt(batchStart + CRC) & 0xFFFFFFFFL;
    }

    /** CRC32C over attributes..end of the batch of {@code size} bytes starting at {@code batchStart}. */
    static long computeCrc(ByteBuffer buffer, int batchStart, int size) {
        CRC32C crc = new CRC32C();
        crc.update(buffer.slice(batchStart + ATTRIBUTES, size - ATTRIBUTES));
        return crc.getValue();
    }

    /**
     * Checks one batch beginning at {@code batchStart} with {@code available} bytes left in the
     * buffer, returning its size.
     *
     * @throws CorruptRecordException on a bad length, magic, CRC or offset/count mismatch
     * @throws RecordTooLargeException when larger than {@code maxBatchBytes}
     */
    static int validate(ByteBuffer buffer, int batchStart, int available, int maxBatchBytes) {
        if (available < HEADER_SIZE) {
            throw new CorruptRecordException("Record batch truncated: " + available + " bytes left, header needs " + HEADER_SIZE);
        }
        int size = sizeInBytes(buffer, batchStart);
        if (size < HEADER_SIZE || size > available) {
            throw new CorruptRecordException("Record batch length " + size + " inconsistent with " + available + " bytes available");
        }
        if (size > maxBatchBytes) {
            throw new RecordTooLargeException("Record batch of " + size + " bytes exceeds max.message.bytes " + maxBatchBytes);
        }
        validateContent(buffer, batchStart, size, true);
        return size;
    }

    /**
     * Checks magic, record count, offset delta and CRC of a batch whose length is already known good. A produced
     * batch has one record per offset; a stored one may have fewer (compaction removes records but keeps offsets, and
     * may leave an empty batch), so {@code produced} false accepts any count from 0 to the offset span.
     */
    static void validateContent(ByteBuffer buffer, int batchStart, int size, boolean produced) {
        byte magic = buffer.get(batchStart + MAGIC);
        if (magic != MAGIC_V2) {
            throw new CorruptRecordException("Unsupported record batch magic " + magic);
        }
        int count = recordCount(buffer, batchStart);
        int lastOffsetDelta = lastOffsetDelta(buffer, batchStart);
        boolean consistent = produced ? count >= 1 && lastOffsetDelta == count - 1
                : count >= 0 && lastOffsetDelta >= 0 && (long) count <= lastOffsetDelta + 1L;
        if (!consistent) {
            throw new CorruptRecordException("Inconsistent record batch: recordCount " + count + ", lastOffsetDelta " + lastOffsetDelta);
        }
        long stored = storedCrc(buffer, batchStart);
        long computed = computeCrc(buffer, batchStart, size);
        if (stored != computed) {
            throw new CorruptRecordException("Record batch CRC mismatch: stored " + stored + ", computed " + computed);
        }
    }

    /** Stamps the base offset and leader epoch; neither is covered by the CRC. */
    static void stampOffsetAndEpoch(ByteBuffer buffer, int batchStart, long baseOffset, int leaderEpoch) {
        buffer.putLong(batchStart + BASE_OFFSET, baseOffset);
        buffer.putInt(batchStart + PARTITION_LEADER_EPOCH, leaderEpoch);
    }

    /** Sets the LogAppendTime bit and max timestamp, then recomputes the CRC. */
    static void stampLogAppendTime(ByteBuffer buffer, int batchStart, int size, long nowMs) {
        short attributes = buffer.getShort(batchStart + ATTRIBUTES);
        buffer.putShort(batchStart + ATTRIBUTES, (short) (attributes | TIMESTAMP_TYPE_LOG_APPEND_TIME));
        buffer.putLong(batchStart + MAX_TIMESTAMP, nowMs);
        buffer.putInt(batchStart + CRC, (int) computeCrc(buffer, batchStart, size));
    }
}
