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

    /**
     * Where a read that must end by byte {@code endPosition} and below offset {@code maxOffsetExclusive} can resume
     * its walk of the batch headers after the batch at {@code from}: the position of an indexed batch every batch
     * before which (and itself) ends by {@code endPosition} and starts below {@code maxOffsetExclusive}; {@code from}
     * when the index knows none past it. Saves reading each batch header of a large read.
     */
    int resumePosition(int from, long endPosition, long maxOffsetExclusive) {
        MappedByteBuffer buffer = buffer();
        int byOffset = floorSlot(maxOffsetExclusive - baseOffset(), false);
        int low = 0;
        int high = entries() - 1;
        int byPosition = -1;
        while (low <= high) {
            int mid = (low + high) >>> 1;
            if (positionAt(buffer, mid) <= endPosition) {
                byPosition = mid;
                low = mid + 1;
            } else {
                high = mid - 1;
            }
        }
        // The batch before the one at either bound ends before that one starts, and starts at a smaller offset.
        int slot = Math.min(byOffset, byPosition) - 1;
        if (slot < 0) {
            return from;
        }
        int position = positionAt(buffer, slot);
        return Math.max(position, from);
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
