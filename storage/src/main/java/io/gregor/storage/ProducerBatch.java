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
 * @param controlType for a control batch, the type of its first record's key ({@link #ABORT}, {@link #COMMIT}, or
 *     another type Kafka defines); -1 for a data batch or when the buffer does not hold the record
 */
record ProducerBatch(long producerId, short epoch, int baseSequence, long baseOffset, long lastOffset,
                     long maxTimestamp, short attributes, short controlType, int coordinatorEpoch) {

    private static final int TRANSACTIONAL = 1 << 4;
    private static final int CONTROL = 1 << 5;
    /** Control record key types (Kafka's ControlRecordType). */
    static final short ABORT = 0;
    static final short COMMIT = 1;

    /** The fields of the batch whose header starts at {@code start}, with the offsets it has (or will have). */
    static ProducerBatch read(ByteBuffer buffer, int start, long baseOffset, long lastOffset) {
        short attributes = buffer.getShort(start + RecordBatchHeader.ATTRIBUTES);
        return new ProducerBatch(buffer.getLong(start + RecordBatchHeader.PRODUCER_ID),
                buffer.getShort(start + RecordBatchHeader.PRODUCER_EPOCH),
                buffer.getInt(start + RecordBatchHeader.BASE_SEQUENCE), baseOffset, lastOffset,
                buffer.getLong(start + RecordBatchHeader.MAX_TIMESTAMP), attributes,
                (attributes & CONTROL) != 0 ? controlType(buffer, start) : (short) -1,
                (attributes & CONTROL) != 0 ? markerCoordinatorEpoch(buffer, start) : -1);
    }

    /**
     * The coordinator epoch in the value of the first record of the (uncompressed) control batch at {@code start}: after
     * the key (version and type, two int16) comes the value's length (a varint), then its version (int16) and the
     * coordinator epoch (int32). -1 when the buffer ends before it.
     */
    static int markerCoordinatorEpoch(ByteBuffer buffer, int start) {
        int limit = buffer.limit();
        try {
            int at = skipVarint(buffer, firstKey(buffer, start, limit) + 4, limit); // past the key and value length
            return at + 6 > limit ? -1 : buffer.getInt(at + 2);
        } catch (IndexOutOfBoundsException e) {
            return -1;
        }
    }

    /**
     * The key type of the first record of the (uncompressed) control batch at {@code start}: the key's version and
     * type (two int16). -1 when the buffer ends before it.
     */
    static short controlType(ByteBuffer buffer, int start) {
        int limit = buffer.limit();
        try {
            int at = firstKey(buffer, start, limit);
            return at + 4 > limit ? -1 : buffer.getShort(at + 2);
        } catch (IndexOutOfBoundsException e) {
            return -1;
        }
    }

    /**
     * Where the key of the batch's first record starts: after the record's length, attributes, timestamp delta,
     * offset delta and key length (varints but the attributes byte).
     *
     * @throws IndexOutOfBoundsException when the buffer ends before it
     */
    private static int firstKey(ByteBuffer buffer, int start, int limit) {
        int at = start + RecordBatchHeader.HEADER_SIZE;
        at = skipVarint(buffer, at, limit); // record length
        at += 1; // attributes
        at = skipVarint(buffer, at, limit); // timestamp delta
        at = skipVarint(buffer, at, limit); // offset delta
        return skipVarint(buffer, at, limit); // key length
    }

    private static int skipVarint(ByteBuffer buffer, int at, int limit) {
        for (int i = 0; i < 10; i++) {
            if (at >= limit) {
                throw new IndexOutOfBoundsException();
            }
            if ((buffer.get(at++) & 0x80) == 0) {
                return at;
            }
        }
        throw new IndexOutOfBoundsException();
    }

    boolean isAbortMarker() {
        return isControl() && controlType == ABORT;
    }

    boolean isCommitMarker() {
        return isControl() && controlType == COMMIT;
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
