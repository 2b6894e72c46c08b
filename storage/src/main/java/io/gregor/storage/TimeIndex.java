package io.gregor.storage;

import java.io.IOException;
import java.nio.MappedByteBuffer;
import java.nio.file.Path;

/**
 * Sparse index from timestamp to offset in one segment, file {@code <baseOffset>.timeindex}.
 *
 * <pre>
 *  entry (12 bytes, big-endian)
 *  +-----------------------------------+--------------------------+
 *  | timestamp int64                   | relativeOffset int32     |
 *  +-----------------------------------+--------------------------+
 * </pre>
 *
 * An entry {@code (t, o)} says that the batch with base offset {@code o} raised the segment's
 * largest timestamp to {@code t}, so every batch before it has a max timestamp {@code <= t}.
 * Entries are added at most once per {@code index.interval.bytes} and when a segment rolls or
 * closes (so the last entry holds the segment's largest timestamp); timestamps strictly increase.
 * Thread-safety: see {@link MappedIndex}.
 */
final class TimeIndex extends MappedIndex {

    static final int ENTRY_SIZE = 12;

    TimeIndex(Path file, long baseOffset, int capacityBytes) throws IOException {
        super(file, baseOffset, capacityBytes, ENTRY_SIZE);
    }

    @Override
    long keyAt(MappedByteBuffer buffer, int slot) {
        return buffer.getLong(slot * ENTRY_SIZE);
    }

    private long offsetAt(MappedByteBuffer buffer, int slot) {
        return baseOffset() + buffer.getInt(slot * ENTRY_SIZE + 8);
    }

    /** The last entry, or null when empty. */
    TimestampOffset lastEntry() {
        int slot = entries() - 1;
        MappedByteBuffer buffer = buffer();
        return slot < 0 ? null : new TimestampOffset(keyAt(buffer, slot), offsetAt(buffer, slot));
    }

    /** Appends {@code (timestamp, offset)} when the timestamp is larger than the last entry's and there is room. */
    void maybeAppend(long timestamp, long offset) throws IOException {
        TimestampOffset last = lastEntry();
        if (timestamp < 0 || (last != null && timestamp <= last.timestamp()) || isFull()) {
            return; // no timestamp (an empty segment), not larger, or no room
        }
        int slot = entries();
        MappedByteBuffer buffer = writableBuffer();
        buffer.putLong(slot * ENTRY_SIZE, timestamp);
        buffer.putInt(slot * ENTRY_SIZE + 8, (int) (offset - baseOffset()));
        publishEntry();
    }

    /**
     * An offset from which scanning finds the first batch with max timestamp {@code >= target}:
     * the offset of the last entry with a timestamp {@code < target}, else the segment base.
     */
    long lookupScanStart(long target) {
        MappedByteBuffer buffer = buffer();
        int slot = floorSlot(target, true);
        return slot < 0 ? baseOffset() : offsetAt(buffer, slot);
    }

    /** Removes entries pointing at offsets {@code >= offset}. */
    void truncateToOffset(long offset) {
        MappedByteBuffer buffer = buffer();
        int keep = 0;
        while (keep < entries() && offsetAt(buffer, keep) < offset) {
            keep++;
        }
        truncateEntries(keep);
    }

    @Override
    void sanityCheck(long logSize) {
        MappedByteBuffer buffer = buffer();
        long previousTimestamp = Long.MIN_VALUE;
        long previousOffset = -1;
        for (int slot = 0; slot < entries(); slot++) {
            long timestamp = keyAt(buffer, slot);
            long offset = offsetAt(buffer, slot);
            if (timestamp <= previousTimestamp || offset < previousOffset || offset < baseOffset()) {
                throw new CorruptIndexException("Corrupt time index " + file() + " at entry " + slot
                        + ": timestamp " + timestamp + ", offset " + offset);
            }
            previousTimestamp = timestamp;
            previousOffset = offset;
        }
    }
}
