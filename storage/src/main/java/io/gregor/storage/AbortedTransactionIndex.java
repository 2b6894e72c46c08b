package io.gregor.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * The aborted transactions of one partition, in the order of their abort markers: what a read_committed Fetch returns
 * so that the consumer drops their records. One file per partition, {@code aborted-transactions}, of fixed-size
 * entries in the layout of Kafka's transaction index entries (big-endian):
 *
 * <pre>
 *  version i16 (0) | producerId i64 | firstOffset i64 | lastOffset i64 (the abort marker) | lastStableOffset i64
 * </pre>
 *
 * {@code lastStableOffset} is the partition's first unstable offset right after the abort (the marker's next offset
 * when no other transaction was open): a transaction aborted later that began before an upper bound must have been
 * open then, so a lookup stops at the first entry whose last stable offset reaches its bound.
 *
 * <p>Appended when an abort marker is appended (by the leader or copied by a follower), fsynced with the log's flush,
 * so every abort below the recovery point is in it; a torn tail entry is dropped at open and the entries at or past
 * the log end are dropped on recovery and truncation, then the replay of the producer state re-adds what is missing.
 * The file is created at the first abort: a partition without aborted transactions has none.
 *
 * <p>Writers hold the log's lock; {@link #collect} and {@link #flush} may run concurrently with appends.
 */
final class AbortedTransactionIndex {
    static final String FILE_NAME = "aborted-transactions";
    static final int ENTRY_BYTES = 2 + 8 + 8 + 8 + 8;
    private static final short VERSION = 0;

    /**
     * What readers see: the first {@code size} slots of {@code array}, which are never written again (an append fills
     * the next slot, or a larger copy, and publishes a new view; a rewrite publishes a new array).
     */
    private record View(AbortedTransaction[] array, int size) {
        AbortedTransaction get(int i) {
            return array[i];
        }

        List<AbortedTransaction> asList() {
            return List.of(java.util.Arrays.copyOf(array, size));
        }
    }

    private final Path file;
    private volatile View view;
    private volatile FileChannel channel;
    /** Appends made and appends known durable: the log's flush runs beside appends, outside the log's lock. */
    private final java.util.concurrent.atomic.AtomicLong appended = new java.util.concurrent.atomic.AtomicLong();
    private volatile long synced;

    AbortedTransactionIndex(Path dir) throws IOException {
        this.file = dir.resolve(FILE_NAME);
        List<AbortedTransaction> read = read(file);
        this.view = new View(read.toArray(new AbortedTransaction[0]), read.size());
        long valid = (long) read.size() * ENTRY_BYTES;
        if (Files.exists(file) && Files.size(file) != valid) {
            try (FileChannel torn = FileChannel.open(file, StandardOpenOption.WRITE)) {
                torn.truncate(valid);
            }
        }
    }

    private static List<AbortedTransaction> read(Path file) throws IOException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            return List.of();
        }
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        List<AbortedTransaction> read = new ArrayList<>();
        while (buffer.remaining() >= ENTRY_BYTES) {
            short version = buffer.getShort();
            AbortedTransaction txn = new AbortedTransaction(buffer.getLong(), buffer.getLong(), buffer.getLong(), buffer.getLong());
            if (version != VERSION || txn.firstOffset() > txn.lastOffset()
                    || !read.isEmpty() && txn.lastOffset() <= read.get(read.size() - 1).lastOffset()) {
                break; // torn or foreign bytes: what follows is rebuilt from the log
            }
            read.add(txn);
        }
        return read;
    }

    List<AbortedTransaction> entries() {
        return view.asList();
    }

    /** The marker offset of the last entry, -1 when there is none. */
    long lastMarkerOffset() {
        View current = view;
        return current.size() == 0 ? -1 : current.get(current.size() - 1).lastOffset();
    }

    /** Adds an abort; one whose marker is not past the last entry's is already here (a replay) and is skipped. */
    void append(AbortedTransaction txn) throws IOException {
        if (txn.lastOffset() <= lastMarkerOffset()) {
            return;
        }
        if (channel == null) {
            channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            channel.position(channel.size());
        }
        ByteBuffer buffer = ByteBuffer.allocate(ENTRY_BYTES).putShort(VERSION).putLong(txn.producerId())
                .putLong(txn.firstOffset()).putLong(txn.lastOffset()).putLong(txn.lastStableOffset()).flip();
        View current = view;
        long at = (long) current.size() * ENTRY_BYTES;
        while (buffer.hasRemaining()) {
            at += channel.write(buffer, at);
        }
        AbortedTransaction[] array = current.array();
        if (array.length == current.size()) {
            array = java.util.Arrays.copyOf(array, Math.max(8, array.length * 2));
        }
        array[current.size()] = txn;
        view = new View(array, current.size() + 1);
        appended.incrementAndGet();
    }

    /** Fsyncs what was appended since the last flush. */
    void flush() throws IOException {
        long count = appended.get();
        FileChannel open = channel;
        if (count != synced && open != null) {
            try {
                open.force(false);
                synced = count;
            } catch (java.nio.channels.ClosedChannelException e) {
                // Rewritten meanwhile (truncation, trimming): the rewrite synced its own file.
            }
        }
    }

    /**
     * The aborted transactions a read of {@code [fetchOffset, upperBound)} may hold records of: marker at or past
     * {@code fetchOffset}, first offset below {@code upperBound}.
     */
    List<AbortedTransaction> collect(long fetchOffset, long upperBound) {
        View current = view;
        int low = 0;
        int high = current.size();
        while (low < high) {
            int mid = (low + high) >>> 1;
            if (current.get(mid).lastOffset() < fetchOffset) {
                low = mid + 1;
            } else {
                high = mid;
            }
        }
        List<AbortedTransaction> found = new ArrayList<>();
        for (int i = low; i < current.size(); i++) {
            AbortedTransaction txn = current.get(i);
            if (txn.firstOffset() < upperBound) {
                found.add(txn);
            }
            if (txn.lastStableOffset() >= upperBound) {
                break;
            }
        }
        return found;
    }

    /** Drops the entries whose marker is at or past {@code offset} (a truncated or recovered log). */
    void truncateTo(long offset) throws IOException {
        List<AbortedTransaction> all = entries();
        List<AbortedTransaction> kept = all.stream().filter(t -> t.lastOffset() < offset).toList();
        if (kept.size() != all.size()) {
            rewrite(kept);
        }
    }

    /**
     * Drops the entries wholly below the log start {@code offset} once they are at least half of the file (and a
     * few): rewriting is rare, lookups skip the dead entries by binary search meanwhile.
     */
    void trimBelow(long offset) throws IOException {
        View current = view;
        if (current.size() == 0 || current.get(0).lastOffset() >= offset) {
            return;
        }
        List<AbortedTransaction> all = current.asList();
        List<AbortedTransaction> kept = all.stream().filter(t -> t.lastOffset() >= offset).toList();
        int dead = all.size() - kept.size();
        if (dead >= 64 && dead * 2 >= all.size()) {
            rewrite(kept);
        }
    }

    void clear() throws IOException {
        rewrite(List.of());
    }

    /** Drops the entries whose abort marker is at one of {@code markerOffsets} (markers the log cleaner removes). */
    void remove(java.util.Set<Long> markerOffsets) throws IOException {
        List<AbortedTransaction> all = entries();
        List<AbortedTransaction> kept = all.stream().filter(t -> !markerOffsets.contains(t.lastOffset())).toList();
        if (kept.size() != all.size()) {
            rewrite(kept);
        }
    }

    private void rewrite(List<AbortedTransaction> kept) throws IOException {
        close();
        if (kept.isEmpty()) {
            Files.deleteIfExists(file);
        } else {
            ByteBuffer buffer = ByteBuffer.allocate(kept.size() * ENTRY_BYTES);
            for (AbortedTransaction txn : kept) {
                buffer.putShort(VERSION).putLong(txn.producerId()).putLong(txn.firstOffset()).putLong(txn.lastOffset())
                        .putLong(txn.lastStableOffset());
            }
            buffer.flip();
            Path tmp = file.resolveSibling(FILE_NAME + CheckpointFile.TMP_SUFFIX);
            try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                while (buffer.hasRemaining()) {
                    out.write(buffer);
                }
                out.force(false);
            }
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        }
        view = new View(kept.toArray(new AbortedTransaction[0]), kept.size());
    }

    void close() throws IOException {
        if (channel != null) {
            try {
                flush();
            } finally {
                channel.close();
                channel = null;
            }
        }
    }
}
