package io.gregor.storage;

import java.io.IOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A memory-mapped file of fixed-size entries sorted by key, shared by {@link OffsetIndex} and
 * {@link TimeIndex}. The file is preallocated to a capacity while its segment is active and
 * trimmed to the used entries when the segment rolls or closes, so on a clean start the number of
 * entries is the file length divided by the entry size.
 *
 * <p>Thread-safety: one writer (the log's append lock) and any number of lock-free readers. An
 * entry is written before the volatile entry count is raised, so readers only see complete
 * entries. Remapping replaces the volatile buffer reference; an old mapping stays valid for the
 * entries it held until garbage collected.
 */
abstract class MappedIndex implements AutoCloseable {

    private final int entrySize;
    private final long baseOffset;
    private Path file;
    private volatile MappedByteBuffer mmap;
    private volatile int entries;
    private int maxEntries;

    /** Capacity to map at the first write, while the index is empty and unmapped (-1 once mapped). */
    private int unmappedCapacity = -1;

    /**
     * Opens or creates {@code file} with a capacity of {@code capacityBytes} (at least its current length). An empty
     * index is left an empty file and mapped at its first entry: most segments of a new topic's thousands of
     * partitions never get one before they close, and extending, mapping and trimming each costs system calls.
     */
    MappedIndex(Path file, long baseOffset, int capacityBytes, int entrySize) throws IOException {
        this.file = file;
        this.baseOffset = baseOffset;
        this.entrySize = entrySize;
        long existing = Files.exists(file) ? Files.size(file) : -1L;
        this.entries = (int) (Math.max(0, existing) / entrySize);
        if (existing <= 0) {
            if (existing < 0) {
                Files.createFile(file);
            }
            unmappedCapacity = roundDown(capacityBytes);
            maxEntries = unmappedCapacity / entrySize;
        } else {
            map(Math.max(roundDown(capacityBytes), entries * entrySize));
        }
    }

    private int roundDown(int bytes) {
        return bytes / entrySize * entrySize;
    }

    /**
     * Sets the file to {@code bytes} and maps it. The length is set with ftruncate (RandomAccessFile.setLength), as
     * Kafka does: a preallocated index is a sparse file with no data written, so trimming it at close or roll is a
     * metadata change (writing a byte at its end made ext4 write the file back when it was trimmed right after:
     * closing 3,000 new logs took 7.7 s).
     */
    private void map(int bytes) throws IOException {
        try (java.io.RandomAccessFile raf = new java.io.RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(bytes);
            mmap = raf.getChannel().map(FileChannel.MapMode.READ_WRITE, 0, bytes);
        }
        maxEntries = bytes / entrySize;
        unmappedCapacity = -1;
    }

    /** Changes the file and mapping size, keeping the entries. */
    final void resize(int capacityBytes) throws IOException {
        int bytes = Math.max(roundDown(capacityBytes), entries * entrySize);
        if (unmappedCapacity >= 0 && entries == 0) {
            unmappedCapacity = bytes; // still empty: the file stays empty, mapped at the first entry
            maxEntries = bytes / entrySize;
            return;
        }
        if (bytes != maxEntries * entrySize) {
            map(bytes);
        }
    }

    /** Trims the file to the entries in use (on roll and close). */
    final void trimToValidSize() throws IOException {
        resize(entries * entrySize);
    }

    final long baseOffset() {
        return baseOffset;
    }

    final Path file() {
        return file;
    }

    final void renameTo(Path target) throws IOException {
        // Replaces an older file of the same name awaiting deletion (a segment cleaned twice within
        // file.delete.delay.ms); open handles of either keep their data.
        Files.move(file, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        file = target;
    }

    final int entries() {
        return entries;
    }

    final boolean isFull() {
        return entries >= maxEntries;
    }

    final int entrySize() {
        return entrySize;
    }

    /** The buffer for reading entry {@code n} (null while the index is empty); callers use absolute gets only. */
    final MappedByteBuffer buffer() {
        return mmap;
    }

    /** The buffer to write the next entry into, mapped now if it was not yet (under the writer's lock). */
    final MappedByteBuffer writableBuffer() throws IOException {
        if (unmappedCapacity >= 0) {
            map(Math.max(unmappedCapacity, entrySize));
        }
        return mmap;
    }

    /** Called by subclasses after writing entry number {@link #entries()} into {@link #buffer()}. */
    final void publishEntry() {
        entries = entries + 1;
    }

    /** Keeps the first {@code count} entries. */
    final void truncateEntries(int count) {
        entries = Math.min(entries, Math.max(0, count));
    }

    /**
     * Binary search for the last entry whose key is {@code <= target} (or {@code < target} when
     * {@code strict}); -1 when none.
     */
    final int floorSlot(long target, boolean strict) {
        MappedByteBuffer buffer = mmap;
        int lo = 0;
        int hi = entries - 1;
        int found = -1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            long key = keyAt(buffer, mid);
            if (key < target || (!strict && key == target)) {
                found = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return found;
    }

    /** The sort key of entry {@code slot}. */
    abstract long keyAt(MappedByteBuffer buffer, int slot);

    /** Throws {@link CorruptIndexException} when the index is inconsistent with a log of {@code logSize} bytes. */
    abstract void sanityCheck(long logSize);

    @Override
    public void close() throws IOException {
        trimToValidSize();
    }

    /** Deletes the file without trimming it. */
    final void deleteFile() throws IOException {
        Files.deleteIfExists(file);
    }
}
