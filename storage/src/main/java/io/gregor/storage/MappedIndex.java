package io.gregor.storage;

import java.io.IOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

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

    /** Opens or creates {@code file}, mapping {@code capacityBytes} (at least its current length). */
    MappedIndex(Path file, long baseOffset, int capacityBytes, int entrySize) throws IOException {
        this.file = file;
        this.baseOffset = baseOffset;
        this.entrySize = entrySize;
        long existing = Files.exists(file) ? Files.size(file) : 0L;
        this.entries = (int) (existing / entrySize);
        map(Math.max(roundDown(capacityBytes), entries * entrySize));
    }

    private int roundDown(int bytes) {
        return bytes / entrySize * entrySize;
    }

    private void map(int bytes) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            channel.truncate(bytes);
            if (bytes > 0 && channel.size() < bytes) {
                channel.write(java.nio.ByteBuffer.allocate(1), bytes - 1L);
            }
            mmap = channel.map(FileChannel.MapMode.READ_WRITE, 0, bytes);
        }
        maxEntries = bytes / entrySize;
    }

    /** Changes the file and mapping size, keeping the entries. */
    final void resize(int capacityBytes) throws IOException {
        int bytes = Math.max(roundDown(capacityBytes), entries * entrySize);
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

    /** The buffer for reading entry {@code n}; callers use absolute gets only. */
    final MappedByteBuffer buffer() {
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
