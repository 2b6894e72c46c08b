package io.gregor.storage;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;

/**
 * The log cleaner's map from record key to the latest offset of that key, in a fixed amount of memory
 * ({@code log.cleaner.dedupe.buffer.size}): keys are kept as their 16-byte MD5 digest, in an open-addressing table of
 * 24 bytes per slot, filled to at most 90 %. Two keys with the same digest would be taken for one (as in Kafka's
 * cleaner; with MD5 that does not happen in practice). Not thread-safe: one per cleaning.
 */
final class OffsetMap {
    static final int BYTES_PER_ENTRY = 24;
    private static final double MAX_LOAD = 0.9;

    private final long[] high;
    private final long[] low;
    private final long[] offsets;
    private final int maxEntries;
    private final MessageDigest md5;
    private int entries;

    OffsetMap(long memoryBytes) {
        int slots = (int) Math.max(16, Math.min(Integer.MAX_VALUE - 8, memoryBytes / BYTES_PER_ENTRY));
        high = new long[slots];
        low = new long[slots];
        offsets = new long[slots];
        Arrays.fill(offsets, -1L);
        maxEntries = (int) (slots * MAX_LOAD);
        try {
            md5 = MessageDigest.getInstance("MD5");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("MD5 is not available", e);
        }
    }

    /** Records {@code offset} as the latest of {@code key}; false (nothing changed) when the map is full and the key new. */
    boolean put(ByteBuffer key, long offset) {
        ByteBuffer digest = digest(key);
        long h = digest.getLong(0);
        long l = digest.getLong(8);
        int slot = find(h, l);
        if (offsets[slot] < 0) {
            if (entries >= maxEntries) {
                return false;
            }
            entries++;
            high[slot] = h;
            low[slot] = l;
        }
        offsets[slot] = Math.max(offsets[slot], offset);
        return true;
    }

    /** The latest offset recorded for {@code key}, or -1. */
    long get(ByteBuffer key) {
        ByteBuffer digest = digest(key);
        return offsets[find(digest.getLong(0), digest.getLong(8))];
    }

    int size() {
        return entries;
    }

    private int find(long h, long l) {
        int slot = (int) Math.floorMod(h ^ (l * 31), (long) offsets.length);
        while (offsets[slot] >= 0 && (high[slot] != h || low[slot] != l)) {
            slot = slot + 1 == offsets.length ? 0 : slot + 1;
        }
        return slot;
    }

    private ByteBuffer digest(ByteBuffer key) {
        md5.reset();
        md5.update(key.duplicate());
        return ByteBuffer.wrap(md5.digest());
    }
}
