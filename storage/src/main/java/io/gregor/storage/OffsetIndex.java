package io.gregor.storage;

import java.io.IOException;
import java.nio.MappedByteBuffer;
import java.nio.file.Path;

/**
 * Sparse index from offset to file position in one segment, file {@code <baseOffset>.index}.
 *
 * <pre>
 *  entry (8 bytes, big-endian)
 *  +----------------------------+------------------------+
 *  | relativeOffset int32       | position int32         |
 *  +----------------------------+------------------------+
 * </pre>
 *
 * {@code relativeOffset} is a batch's base offset minus the segment base offset, {@code position}
 * the batch's byte position in the {@code .log} file. One entry is added about every
 * {@code index.interval.bytes}; both columns strictly increase. Thread-safety: see
 * {@link MappedIndex}.
 */
final class OffsetIndex extends MappedIndex {

    static final int ENTRY_SIZE = 8;

    OffsetIndex(Path file, long baseOffset, int capacityBytes) throws IOException {
        super(file, baseOffset, capacityBytes, ENTRY_SIZE);
    }

    @Override
    long keyAt(MappedByteBuffer buffer, int slot) {
        return buffer.getInt(slot * ENTRY_SIZE);
    }

    private int positionAt(MappedByteBuffer buffer, int slot) {
        return buffer.getInt(slot * ENTRY_SIZE + 4);
    }

    /** Appends an entry; the caller checks {@link #isFull()} first. */
    void append(long offset, int position) throws IOException {
        int slot = entries();
        MappedByteBuffer buffer = writableBuffer();
        buffer.putInt(slot * ENTRY_SIZE, (int) (offset - baseOffset()));
        buffer.putInt(slot * ENTRY_SIZE + 4, position);
        publishEntry();
    }

    /** Position of the last indexed batch whose base offset is {@code <= offset}, or 0. */
    int lookup(long offset) {
        MappedByteBuffer buffer = buffer();
        int slot = floorSlot(offset - baseOffset(), false);
        return slot < 0 ? 0 : positionAt(buffer, slot);
    }

    /** Removes entries for batches at or after file position {@code position}. */
    void truncateToPosition(int position) {
        MappedByteBuffer buffer = buffer();
        int keep = 0;
        while (keep < entries() && positionAt(buffer, keep) < position) {
            keep++;
        }
        truncateEntries(keep);
    }

    @Override
    void sanityCheck(long logSize) {
        MappedByteBuffer buffer = buffer();
        long previousOffset = -1;
        long previousPosition = -1;
        for (int slot = 0; slot < entries(); slot++) {
            long relative = keyAt(buffer, slot);
            int position = positionAt(buffer, slot);
            if (relative <= previousOffset || position <= previousPosition || position >= logSize) {
                throw new CorruptIndexException("Corrupt offset index " + file() + " at entry " + slot
                        + ": relative offset " + relative + ", position " + position + ", log size " + logSize);
            }
            previousOffset = relative;
            previousPosition = position;
        }
    }
}
