package io.gregor.storage;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * Builds magic-v2 record batches by hand for tests. The records section is opaque filler
 * (storage never parses it), but record count and last offset delta are kept consistent and the
 * CRC32C is real, as a producer would send them (base offset 0, leader epoch -1).
 */
final class TestBatches {

    private TestBatches() {}

    /** A batch of {@code records} records with {@code payloadBytes} of record bytes and the given max timestamp. */
    static ByteBuffer batch(int records, int payloadBytes, long maxTimestamp) {
        int size = RecordBatchHeader.HEADER_SIZE + payloadBytes;
        ByteBuffer buffer = ByteBuffer.allocate(size);
        buffer.putLong(0L);
        buffer.putInt(size - RecordBatchHeader.LOG_OVERHEAD);
        buffer.putInt(-1);
        buffer.put(RecordBatchHeader.MAGIC_V2);
        buffer.putInt(0);
        buffer.putShort((short) 0);
        buffer.putInt(records - 1);
        buffer.putLong(maxTimestamp - records + 1);
        buffer.putLong(maxTimestamp);
        buffer.putLong(-1L);
        buffer.putShort((short) -1);
        buffer.putInt(-1);
        buffer.putInt(records);
        for (int i = 0; i < payloadBytes; i++) {
            buffer.put((byte) (i * 31 + records));
        }
        buffer.flip();
        fixCrc(buffer, 0);
        return buffer;
    }

    /** Several batches concatenated into one buffer. */
    static ByteBuffer concat(ByteBuffer... batches) {
        int total = 0;
        for (ByteBuffer batch : batches) {
            total += batch.remaining();
        }
        ByteBuffer out = ByteBuffer.allocate(total);
        for (ByteBuffer batch : batches) {
            out.put(batch.duplicate());
        }
        return out.flip();
    }

    static void fixCrc(ByteBuffer buffer, int batchStart) {
        int size = buffer.getInt(batchStart + RecordBatchHeader.LENGTH) + RecordBatchHeader.LOG_OVERHEAD;
        CRC32C crc = new CRC32C();
        crc.update(buffer.slice(batchStart + RecordBatchHeader.ATTRIBUTES, size - RecordBatchHeader.ATTRIBUTES));
        buffer.putInt(batchStart + RecordBatchHeader.CRC, (int) crc.getValue());
    }

    /** Reads a fetch slice's bytes. */
    static ByteBuffer bytesOf(FetchSlice slice) throws java.io.IOException {
        ByteBuffer out = ByteBuffer.allocate(slice.size());
        long at = slice.position();
        while (out.hasRemaining()) {
            int n = slice.channel().read(out, at);
            if (n < 0) {
                throw new java.io.EOFException();
            }
            at += n;
        }
        return out.flip();
    }

    /** Base offsets of the batches in a buffer. */
    static java.util.List<Long> baseOffsets(ByteBuffer buffer) {
        java.util.List<Long> offsets = new java.util.ArrayList<>();
        for (int position = buffer.position(); position < buffer.limit(); ) {
            offsets.add(buffer.getLong(position));
            position += buffer.getInt(position + RecordBatchHeader.LENGTH) + RecordBatchHeader.LOG_OVERHEAD;
        }
        return offsets;
    }
}
