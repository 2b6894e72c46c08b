package io.gregor.benchmarks;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/** Builds a magic-v2 record batch with opaque record bytes and a valid CRC32C, as a producer would send it. */
final class BenchmarkBatches {

    private static final int HEADER_SIZE = 61;

    private BenchmarkBatches() {}

    static ByteBuffer batch(int records, int payloadBytes, long maxTimestamp) {
        int size = HEADER_SIZE + payloadBytes;
        ByteBuffer buffer = ByteBuffer.allocate(size);
        buffer.putLong(0L).putInt(size - 12).putInt(-1).put((byte) 2).putInt(0).putShort((short) 0)
                .putInt(records - 1).putLong(maxTimestamp).putLong(maxTimestamp)
                .putLong(-1L).putShort((short) -1).putInt(-1).putInt(records);
        for (int i = 0; i < payloadBytes; i++) {
            buffer.put((byte) i);
        }
        buffer.flip();
        CRC32C crc = new CRC32C();
        crc.update(buffer.slice(21, size - 21));
        buffer.putInt(17, (int) crc.getValue());
        return buffer;
    }

    /**
     * Gives {@code batch} a producer id, epoch and base sequence (an idempotent producer's batch) and its CRC again;
     * {@code producerId} -1 leaves it a plain batch and only recomputes the CRC, the same work.
     */
    static void stamp(ByteBuffer batch, long producerId, short epoch, int baseSequence) {
        if (producerId >= 0) {
            batch.putLong(43, producerId).putShort(51, epoch).putInt(53, baseSequence);
        }
        CRC32C crc = new CRC32C();
        crc.update(batch.slice(21, batch.limit() - 21));
        batch.putInt(17, (int) crc.getValue());
    }
}
