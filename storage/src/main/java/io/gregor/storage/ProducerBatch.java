package io.gregor.storage;

import java.nio.ByteBuffer;

/**
 * The producer fields of one stored or produced magic-v2 batch, read from its header.
 *
 * @param producerId -1 when the batch has none (a producer that is not idempotent)
 * @param epoch the producer epoch, -1 when none
 * @param baseSequence the sequence number of the first record, -1 when none
 * @param baseOffset offset of the first record
 * @param lastOffset offset of the last record
 * @param maxTimestamp the batch's max timestamp (the broker's time under LogAppendTime)
 * @param attributes the batch attributes (bit 4 transactional, bit 5 control)
 */
record ProducerBatch(long producerId, short epoch, int baseSequence, long baseOffset, long lastOffset,
                     long maxTimestamp, short attributes) {

    private static final int TRANSACTIONAL = 1 << 4;
    private static final int CONTROL = 1 << 5;

    /** The fields of the batch whose header starts at {@code start}, with the offsets it has (or will have). */
    static ProducerBatch read(ByteBuffer buffer, int start, long baseOffset, long lastOffset) {
        return new ProducerBatch(buffer.getLong(start + RecordBatchHeader.PRODUCER_ID),
                buffer.getShort(start + RecordBatchHeader.PRODUCER_EPOCH),
                buffer.getInt(start + RecordBatchHeader.BASE_SEQUENCE), baseOffset, lastOffset,
                buffer.getLong(start + RecordBatchHeader.MAX_TIMESTAMP),
                buffer.getShort(start + RecordBatchHeader.ATTRIBUTES));
    }

    boolean hasProducerId() {
        return producerId >= 0;
    }

    boolean isControl() {
        return (attributes & CONTROL) != 0;
    }

    boolean isTransactional() {
        return (attributes & TRANSACTIONAL) != 0;
    }

    /** The sequence number of the last record: sequences wrap from {@link Integer#MAX_VALUE} to 0, as Kafka's do. */
    int lastSequence() {
        return addSequence(baseSequence, (int) (lastOffset - baseOffset));
    }

    static int addSequence(int sequence, int increment) {
        if (sequence < 0) {
            return sequence;
        }
        return sequence > Integer.MAX_VALUE - increment ? increment - (Integer.MAX_VALUE - sequence) - 1 : sequence + increment;
    }
}
