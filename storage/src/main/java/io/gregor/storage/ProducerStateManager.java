package io.gregor.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeSet;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The producer state of one partition: for every producer id that wrote to it, the producer epoch and the sequence
 * ranges and offsets of its last {@value #BATCHES_TO_RETAIN} batches. With it a retried batch is recognised and
 * answered with the offsets it was first stored at instead of being stored twice, a batch that skips sequence numbers
 * is refused (OUT_OF_ORDER_SEQUENCE_NUMBER) and so is one from an epoch older than the producer's latest
 * (INVALID_PRODUCER_EPOCH). The rules are Kafka's: a producer this partition has no state for may start at any
 * sequence; a new epoch starts at sequence 0.
 *
 * <p>The state follows the log: every batch appended, by a leader or copied by a follower, updates it, so a follower
 * that becomes leader already has it. It is kept in memory and written as snapshot files
 * {@code <offset>.snapshot}, the state of every offset below {@code offset}, at each segment roll and at close. On
 * open (and after a truncation) it is the latest readable snapshot at or below the log end plus the batches after it;
 * with no snapshot, every batch of the log. Snapshot layout (big-endian), CRC32C of everything before it at the end:
 *
 * <pre>
 *  version i32 (1) | offset i64 | producer count i32 |
 *    per producer: producerId i64 | epoch i16 | lastTimestamp i64 | batch count i8 |
 *      per batch: firstSeq i32 | lastSeq i32 | firstOffset i64 | lastOffset i64 | timestamp i64
 *  | crc u32
 * </pre>
 *
 * Not thread-safe: the log calls it under its lock.
 */
final class ProducerStateManager {

    static final int BATCHES_TO_RETAIN = 5;
    static final String SNAPSHOT_SUFFIX = ".snapshot";
    private static final int SNAPSHOT_VERSION = 1;
    private static final int PRODUCER_BYTES = 8 + 2 + 8 + 1;
    private static final int BATCH_BYTES = 4 + 4 + 8 + 8 + 8;
    private static final Logger LOG = LoggerFactory.getLogger(ProducerStateManager.class);

    /** Where one of a producer's recent batches was stored. */
    record BatchMetadata(int firstSeq, int lastSeq, long firstOffset, long lastOffset, long timestamp) {}

    /** One producer's state. */
    static final class ProducerEntry {
        private final long producerId;
        private short epoch = -1;
        private long lastTimestamp = -1;
        private final ArrayDeque<BatchMetadata> batches = new ArrayDeque<>(BATCHES_TO_RETAIN);

        ProducerEntry(long producerId) {
            this.producerId = producerId;
        }

        short epoch() {
            return epoch;
        }

        int lastSeq() {
            return batches.isEmpty() ? -1 : batches.peekLast().lastSeq();
        }

        List<BatchMetadata> batches() {
            return List.copyOf(batches);
        }

        /** The stored batch of this epoch with exactly this sequence range, or null. */
        BatchMetadata find(short batchEpoch, int firstSeq, int lastSeq) {
            if (batchEpoch != epoch) {
                return null;
            }
            for (BatchMetadata batch : batches) {
                if (batch.firstSeq() == firstSeq && batch.lastSeq() == lastSeq) {
                    return batch;
                }
            }
            return null;
        }

        void add(ProducerBatch batch, long timestamp) {
            if (batch.epoch() != epoch) {
                batches.clear();
                epoch = batch.epoch();
            }
            if (!batch.isControl() && batch.baseSequence() >= 0) {
                if (batches.size() == BATCHES_TO_RETAIN) {
                    batches.removeFirst();
                }
                batches.addLast(new BatchMetadata(batch.baseSequence(), batch.lastSequence(), batch.baseOffset(),
                        batch.lastOffset(), timestamp));
            }
            lastTimestamp = timestamp;
        }

        ProducerEntry copy() {
            ProducerEntry copy = new ProducerEntry(producerId);
            copy.epoch = epoch;
            copy.lastTimestamp = lastTimestamp;
            copy.batches.addAll(batches);
            return copy;
        }
    }

    private final Path dir;
    private final Map<Long, ProducerEntry> producers = new HashMap<>();

    ProducerStateManager(Path dir) {
        this.dir = dir;
    }

    /** The producer's state, or null when this partition has none. */
    ProducerEntry entry(long producerId) {
        return producers.get(producerId);
    }

    int producerCount() {
        return producers.size();
    }

    // ---- appends ---------------------------------------------------------------------------------------------------

    /** The checks and state changes of one produced append, applied by {@link #commit} once it is written. */
    final class ProducedAppend {
        private final Map<Long, ProducerEntry> changed = new HashMap<>();

        /**
         * Checks a batch a client produced (after the earlier batches of the same append). Returns the stored batch
         * it repeats, or null when it is new.
         *
         * @throws InvalidProducerEpochException when its epoch is older than the producer's
         * @throws OutOfOrderSequenceException when its first sequence does not follow on
         */
        BatchMetadata check(ProducerBatch batch, long timestamp) {
            if (!batch.hasProducerId()) {
                return null;
            }
            ProducerEntry stored = producers.get(batch.producerId());
            BatchMetadata duplicate = stored == null ? null
                    : stored.find(batch.epoch(), batch.baseSequence(), batch.lastSequence());
            if (duplicate != null) {
                return duplicate;
            }
            ProducerEntry current = changed.get(batch.producerId());
            if (current == null) {
                current = stored == null ? new ProducerEntry(batch.producerId()) : stored.copy();
            }
            validate(current, batch);
            current.add(batch, timestamp);
            changed.put(batch.producerId(), current);
            return null;
        }

        void commit() {
            producers.putAll(changed);
        }
    }

    ProducedAppend beginAppend() {
        return new ProducedAppend();
    }

    private void validate(ProducerEntry current, ProducerBatch batch) {
        if (batch.epoch() < current.epoch()) {
            throw new InvalidProducerEpochException("Epoch of producer " + batch.producerId() + " at offset "
                    + batch.baseOffset() + " in " + dir.getFileName() + " is " + batch.epoch()
                    + ", which is smaller than the last seen epoch " + current.epoch());
        }
        if (batch.isControl()) {
            return;
        }
        int firstSeq = batch.baseSequence();
        if (batch.epoch() != current.epoch()) {
            if (firstSeq != 0 && current.epoch() >= 0) {
                throw new OutOfOrderSequenceException("Invalid sequence number for new epoch of producer "
                        + batch.producerId() + " at offset " + batch.baseOffset() + " in " + dir.getFileName() + ": "
                        + batch.epoch() + " (request epoch), " + firstSeq + " (seq. number), " + current.epoch()
                        + " (current producer epoch)");
            }
            return;
        }
        // A producer with no state here (never seen, expired, or its records deleted) may start at any sequence.
        if (current.epoch() >= 0 && !inSequence(current.lastSeq(), firstSeq)) {
            throw new OutOfOrderSequenceException("Out of order sequence number for producer " + batch.producerId()
                    + " at offset " + batch.baseOffset() + " in " + dir.getFileName() + ": " + firstSeq
                    + " (incoming seq. number), " + current.lastSeq() + " (current end sequence number)");
        }
    }

    private static boolean inSequence(int lastSeq, int nextSeq) {
        return nextSeq == lastSeq + 1L || (nextSeq == 0 && lastSeq == Integer.MAX_VALUE);
    }

    /** Applies a batch that was appended without checks: copied from the leader, or read back from the log. */
    void applyStored(ProducerBatch batch) {
        if (batch.hasProducerId()) {
            producers.computeIfAbsent(batch.producerId(), ProducerEntry::new).add(batch, batch.maxTimestamp());
        }
    }

    /**
     * Forgets producers whose last batch is {@code expirationMs} or more older than {@code nowMs}
     * ({@code producer.id.expiration.ms}). Returns how many went.
     */
    int expire(long nowMs, long expirationMs) {
        int before = producers.size();
        producers.values().removeIf(entry -> nowMs - entry.lastTimestamp >= expirationMs);
        return before - producers.size();
    }

    void clear() {
        producers.clear();
    }

    // ---- snapshots -------------------------------------------------------------------------------------------------

    static Path snapshotFile(Path dir, long offset) {
        return dir.resolve(SegmentFiles.name(offset) + SNAPSHOT_SUFFIX);
    }

    /** The offsets of the snapshot files in the directory, ascending. */
    TreeSet<Long> snapshotOffsets() throws IOException {
        TreeSet<Long> offsets = new TreeSet<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*" + SNAPSHOT_SUFFIX)) {
            for (Path file : files) {
                String name = file.getFileName().toString();
                String digits = name.substring(0, name.length() - SNAPSHOT_SUFFIX.length());
                if (digits.length() == 20 && digits.chars().allMatch(Character::isDigit)) {
                    offsets.add(Long.parseLong(digits));
                }
            }
        }
        return offsets;
    }

    /**
     * Writes the state as the snapshot of {@code offset} (every batch below it is in the state). Written to a
     * temporary file and renamed; not fsynced: one lost or torn by a power failure fails its CRC and an earlier one,
     * or the log itself, is read instead.
     */
    void writeSnapshot(long offset) throws IOException {
        int size = 4 + 8 + 4;
        for (ProducerEntry entry : producers.values()) {
            size += PRODUCER_BYTES + entry.batches.size() * BATCH_BYTES;
        }
        ByteBuffer buffer = ByteBuffer.allocate(size + 4);
        buffer.putInt(SNAPSHOT_VERSION).putLong(offset).putInt(producers.size());
        for (ProducerEntry entry : producers.values()) {
            buffer.putLong(entry.producerId).putShort(entry.epoch).putLong(entry.lastTimestamp)
                    .put((byte) entry.batches.size());
            for (BatchMetadata batch : entry.batches) {
                buffer.putInt(batch.firstSeq()).putInt(batch.lastSeq()).putLong(batch.firstOffset())
                        .putLong(batch.lastOffset()).putLong(batch.timestamp());
            }
        }
        CRC32C crc = new CRC32C();
        crc.update(buffer.array(), 0, size);
        buffer.putInt((int) crc.getValue()).flip();
        Path file = snapshotFile(dir, offset);
        Path tmp = file.resolveSibling(file.getFileName() + CheckpointFile.TMP_SUFFIX);
        try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** The producers of a snapshot file, or null when it is missing, torn or of another version. */
    private Map<Long, ProducerEntry> readSnapshot(long offset) {
        Path file = snapshotFile(dir, offset);
        ByteBuffer buffer;
        try {
            buffer = ByteBuffer.wrap(Files.readAllBytes(file));
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            LOG.warn("{}: cannot read producer state snapshot {}: {}", dir, file.getFileName(), e.toString());
            return null;
        }
        try {
            int size = buffer.remaining();
            CRC32C crc = new CRC32C();
            crc.update(buffer.array(), 0, size - 4);
            if (size < 20 || buffer.getInt(size - 4) != (int) crc.getValue()) {
                throw new IllegalStateException("CRC mismatch");
            }
            if (buffer.getInt() != SNAPSHOT_VERSION || buffer.getLong() != offset) {
                throw new IllegalStateException("unknown version or offset");
            }
            int count = buffer.getInt();
            Map<Long, ProducerEntry> read = new HashMap<>();
            for (int i = 0; i < count; i++) {
                ProducerEntry entry = new ProducerEntry(buffer.getLong());
                entry.epoch = buffer.getShort();
                entry.lastTimestamp = buffer.getLong();
                int batches = buffer.get();
                for (int b = 0; b < batches; b++) {
                    entry.batches.addLast(new BatchMetadata(buffer.getInt(), buffer.getInt(), buffer.getLong(),
                            buffer.getLong(), buffer.getLong()));
                }
                read.put(entry.producerId, entry);
            }
            return read;
        } catch (RuntimeException e) {
            LOG.warn("{}: ignoring producer state snapshot {}: {}", dir, file.getFileName(), e.toString());
            return null;
        }
    }

    /** Deletes the snapshots above {@code offset} (a truncated log, or one recovered shorter after a crash). */
    void deleteSnapshotsAfter(long offset, boolean sync) throws IOException {
        boolean deleted = false;
        for (long snapshot : snapshotOffsets().tailSet(offset, false)) {
            deleted |= Files.deleteIfExists(snapshotFile(dir, snapshot));
        }
        if (deleted && sync) {
            CheckpointFile.fsyncDirectory(dir);
        }
    }

    /** Deletes the snapshots below {@code offset}, the log's first segment once earlier ones were deleted. */
    void deleteSnapshotsBefore(long offset) throws IOException {
        List<Long> below = new ArrayList<>(snapshotOffsets().headSet(offset, false));
        for (Long snapshot : below) {
            Files.deleteIfExists(snapshotFile(dir, snapshot));
        }
    }

    void deleteAllSnapshots() throws IOException {
        for (long snapshot : snapshotOffsets()) {
            Files.deleteIfExists(snapshotFile(dir, snapshot));
        }
    }

    /**
     * Rebuilds the state for a log ending at {@code logEndOffset}: the latest readable snapshot at or below it, then
     * every batch of {@code segments} from the snapshot's offset on. Snapshots above the log end are deleted.
     */
    void load(NavigableMap<Long, LogSegment> segments, long logEndOffset, boolean syncDeletes) throws IOException {
        deleteSnapshotsAfter(logEndOffset, syncDeletes);
        producers.clear();
        long from = segments.isEmpty() ? logEndOffset : segments.firstKey();
        List<Long> candidates = new ArrayList<>(snapshotOffsets());
        Collections.reverse(candidates);
        for (long offset : candidates) {
            Map<Long, ProducerEntry> read = readSnapshot(offset);
            if (read != null) {
                producers.putAll(read);
                from = Math.max(from, offset);
                break;
            }
        }
        if (from >= logEndOffset) {
            return;
        }
        Long floor = segments.floorKey(from);
        for (LogSegment segment : segments.tailMap(floor == null ? segments.firstKey() : floor, true).values()) {
            segment.forEachBatchFrom(from, this::applyStored);
        }
    }

    /** Iteration for tests and tools: every producer's state. */
    Iterator<ProducerEntry> entries() {
        return producers.values().iterator();
    }
}
