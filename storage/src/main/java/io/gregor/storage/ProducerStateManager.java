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
 *  version i32 (2) | offset i64 | producer count i32 |
 *    per producer: producerId i64 | epoch i16 | lastTimestamp i64 | txnFirstOffset i64 (-1: none open) | batch count i8 |
 *      per batch: firstSeq i32 | lastSeq i32 | firstOffset i64 | lastOffset i64 | timestamp i64
 *  | crc u32
 * </pre>
 *
 * Version 1 (before transactions) has no {@code txnFirstOffset} and is still read.
 *
 * <p>Transactions: a producer's first transactional batch opens its transaction at that offset, a commit or abort
 * marker (control batch) closes it; the earliest open transaction, and any decided one whose marker the high watermark
 * has not passed, bound the last stable offset. Aborts are reported to the log (its {@link AbortedTransactionIndex}).
 *
 * <p>Not thread-safe: the log calls it under its lock.
 */
final class ProducerStateManager {

    static final int BATCHES_TO_RETAIN = 5;
    static final String SNAPSHOT_SUFFIX = ".snapshot";
    /** 3: with the coordinator epoch of each producer's last marker. */
    private static final int SNAPSHOT_VERSION = 3;
    private static final int PRODUCER_BYTES = 8 + 2 + 8 + 8 + 4 + 1;
    private static final int BATCH_BYTES = 4 + 4 + 8 + 8 + 8;
    private static final Logger LOG = LoggerFactory.getLogger(ProducerStateManager.class);

    /** Where one of a producer's recent batches was stored. */
    record BatchMetadata(int firstSeq, int lastSeq, long firstOffset, long lastOffset, long timestamp) {}

    /** One producer's state. */
    static final class ProducerEntry {
        private final long producerId;
        private short epoch = -1;
        private long lastTimestamp = -1;
        /** The offset of the first record of the producer's open transaction here, -1 when none is open. */
        private long txnFirstOffset = -1;
        /** The offset of the producer's last transaction marker here, -1 when none (since the state was loaded). */
        private long lastMarkerOffset = -1;
        /** The coordinator epoch of the producer's last transaction marker here, -1 when none. */
        private int coordinatorEpoch = -1;
        private final ArrayDeque<BatchMetadata> batches = new ArrayDeque<>(BATCHES_TO_RETAIN);

        ProducerEntry(long producerId) {
            this.producerId = producerId;
        }

        short epoch() {
            return epoch;
        }

        long producerId() {
            return producerId;
        }

        /** The last offset of the producer's last data batch here, -1 when none is kept. */
        long lastBatchOffset() {
            return batches.isEmpty() ? -1 : batches.peekLast().lastOffset();
        }

        long txnFirstOffset() {
            return txnFirstOffset;
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
            copy.txnFirstOffset = txnFirstOffset;
            copy.lastMarkerOffset = lastMarkerOffset;
            copy.coordinatorEpoch = coordinatorEpoch;
            copy.batches.addAll(batches);
            return copy;
        }
    }

    private final Path dir;
    private final Map<Long, ProducerEntry> producers = new HashMap<>();
    /** Open transactions: first offset to producer id. */
    private final java.util.TreeMap<Long, Long> ongoing = new java.util.TreeMap<>();
    /**
     * Decided transactions whose marker the high watermark has not passed yet, in marker order, as {first offset,
     * marker offset}: they hold the last stable offset at their first offset until it does.
     */
    private final ArrayDeque<long[]> undecidedForReaders = new ArrayDeque<>();
    private java.util.function.Consumer<AbortedTransaction> onAbort = t -> { };

    ProducerStateManager(Path dir) {
        this.dir = dir;
    }

    /** Told every abort as its marker is applied (appended, copied, or replayed at load). */
    void onAbort(java.util.function.Consumer<AbortedTransaction> listener) {
        this.onAbort = listener;
    }

    /** A transaction starting or ending, applied to the partition's transaction state. */
    private record TxnEvent(long producerId, long firstOffset, long markerOffset, boolean end, boolean aborted) {}

    /**
     * The transaction consequences of a batch for its producer's entry (already checked): a transactional data batch
     * opens a transaction when none is open; a commit or abort marker closes the open one. Returns the event, or null.
     */
    private static TxnEvent transition(ProducerEntry entry, ProducerBatch batch) {
        if (batch.isControl()) {
            entry.lastMarkerOffset = batch.baseOffset();
            entry.coordinatorEpoch = Math.max(entry.coordinatorEpoch, batch.coordinatorEpoch());
            if (entry.txnFirstOffset < 0 || !(batch.isAbortMarker() || batch.isCommitMarker())) {
                return null;
            }
            TxnEvent end = new TxnEvent(entry.producerId, entry.txnFirstOffset, batch.baseOffset(), true,
                    batch.isAbortMarker());
            entry.txnFirstOffset = -1;
            return end;
        }
        if (batch.isTransactional() && entry.txnFirstOffset < 0) {
            entry.txnFirstOffset = batch.baseOffset();
            return new TxnEvent(entry.producerId, batch.baseOffset(), -1, false, false);
        }
        return null;
    }

    private void apply(TxnEvent event) {
        if (!event.end()) {
            ongoing.put(event.firstOffset(), event.producerId());
            return;
        }
        ongoing.remove(event.firstOffset());
        undecidedForReaders.addLast(new long[] {event.firstOffset(), event.markerOffset()});
        if (event.aborted()) {
            long stable = ongoing.isEmpty() ? event.markerOffset() + 1
                    : Math.min(ongoing.firstKey(), event.markerOffset() + 1);
            onAbort.accept(new AbortedTransaction(event.producerId(), event.firstOffset(), event.markerOffset(), stable));
        }
    }

    /**
     * The first offset a read_committed reader may not pass, given the high watermark: the first record of the
     * earliest open transaction, or of a decided one whose marker is not below the high watermark yet;
     * {@link Long#MAX_VALUE} when there is none.
     */
    long firstUnstableOffset(long highWatermark) {
        while (!undecidedForReaders.isEmpty() && undecidedForReaders.peekFirst()[1] < highWatermark) {
            undecidedForReaders.removeFirst();
        }
        long first = ongoing.isEmpty() ? Long.MAX_VALUE : ongoing.firstKey();
        for (long[] txn : undecidedForReaders) {
            first = Math.min(first, txn[0]);
        }
        return first;
    }

    /** How many transactions are open here. */
    int ongoingTransactions() {
        return ongoing.size();
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
        private final List<TxnEvent> events = new ArrayList<>();
        private final boolean fromCoordinator;
        private final long verifiedProducerId;
        private final long verificationToken;
        private final boolean epochBumpingMarkers;
        private boolean emptyLog;

        ProducedAppend(boolean fromCoordinator) {
            this(fromCoordinator, -1, NO_VERIFICATION, false);
        }

        ProducedAppend(boolean fromCoordinator, long verifiedProducerId, long verificationToken,
                       boolean epochBumpingMarkers) {
            this.fromCoordinator = fromCoordinator;
            this.verifiedProducerId = verifiedProducerId;
            this.verificationToken = verificationToken;
            this.epochBumpingMarkers = epochBumpingMarkers;
        }

        /**
         * The log holds nothing yet (its end offset is 0): a producer's first batch here must then start at sequence
         * 0. Kafka accepts any sequence from a producer it has no state for, because retention or DeleteRecords may
         * have removed its records; in a log nothing was ever written to, that cannot be, and a later batch arriving
         * first means an earlier one failed (for example while the partition was being created): refused with
         * OUT_OF_ORDER_SEQUENCE_NUMBER, the producer sends it again after the earlier one, in order.
         */
        ProducedAppend onEmptyLog(boolean empty) {
            this.emptyLog = empty;
            return this;
        }

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
            BatchMetadata duplicate = stored == null || fromCoordinator ? null
                    : stored.find(batch.epoch(), batch.baseSequence(), batch.lastSequence());
            if (duplicate != null) {
                return duplicate;
            }
            ProducerEntry current = changed.get(batch.producerId());
            if (current == null) {
                if (stored == null && emptyLog && !fromCoordinator && !batch.isControl() && batch.baseSequence() != 0) {
                    throw new OutOfOrderSequenceException("Out of order sequence number for producer " + batch.producerId()
                            + " in " + dir.getFileName() + ": its first batch in this empty partition has sequence "
                            + batch.baseSequence() + ", expected 0");
                }
                current = stored == null ? new ProducerEntry(batch.producerId()) : stored.copy();
            }
            validate(current, batch, fromCoordinator);
            // With transaction version 2 the markers that ended the previous transaction carry the epoch the next one
            // uses: such a marker arriving meanwhile ended that one, not this batch's (Kafka keeps its guard so too).
            boolean previousEnded = epochBumpingMarkers && current.epoch() == batch.epoch()
                    && verificationToken != EXPECT_OPEN;
            if (batch.producerId() == verifiedProducerId && batch.isTransactional() && !batch.isControl()
                    && current.txnFirstOffset < 0 && current.lastMarkerOffset != verificationToken && !previousEnded) {
                // The coordinator said the partition is in the transaction, but a marker ended a transaction of this
                // producer here since: the batch would open a transaction nobody will end (KIP-890).
                throw new InvalidTxnStateException("A transaction of producer " + batch.producerId() + " ended in "
                        + dir.getFileName() + " while its batch was being verified");
            }
            TxnEvent event = transition(current, batch);
            if (event != null) {
                events.add(event);
            }
            current.add(batch, timestamp);
            changed.put(batch.producerId(), current);
            return null;
        }

        void commit() {
            producers.putAll(changed);
            events.forEach(ProducerStateManager.this::apply);
        }
    }

    ProducedAppend beginAppend() {
        return new ProducedAppend(false);
    }

    ProducedAppend beginAppend(boolean fromCoordinator) {
        return new ProducedAppend(fromCoordinator);
    }

    ProducedAppend beginVerifiedAppend(long producerId, long verificationToken, boolean epochBumpingMarkers) {
        return new ProducedAppend(false, producerId, verificationToken, epochBumpingMarkers);
    }

    /** {@link #verificationToken}: the producer's transaction is open here at that epoch, nothing to verify. */
    static final long NO_VERIFICATION = Long.MIN_VALUE;

    /** A token no marker offset equals: the batch needs its transaction still open (Log.EXPECT_OPEN). */
    static final long EXPECT_OPEN = Long.MIN_VALUE + 1;

    /**
     * Whether a transactional batch of {@code producerId} at {@code epoch} must be verified with its coordinator
     * before it may open a transaction here (KIP-890): {@link #NO_VERIFICATION} when its transaction is already open
     * here at that epoch; otherwise a token (its last marker's offset) that the verified append checks again.
     */
    long verificationToken(long producerId, short epoch) {
        ProducerEntry entry = producers.get(producerId);
        if (entry != null && entry.txnFirstOffset >= 0 && entry.epoch == epoch) {
            return NO_VERIFICATION;
        }
        return entry == null ? -1 : entry.lastMarkerOffset;
    }

    private void validate(ProducerEntry current, ProducerBatch batch, boolean fromCoordinator) {
        if (batch.epoch() < current.epoch()) {
            throw new InvalidProducerEpochException("Epoch of producer " + batch.producerId() + " at offset "
                    + batch.baseOffset() + " in " + dir.getFileName() + " is " + batch.epoch()
                    + ", which is smaller than the last seen epoch " + current.epoch());
        }
        if (batch.isControl() && fromCoordinator && batch.coordinatorEpoch() < current.coordinatorEpoch) {
            // A marker of a transaction coordinator that has been replaced (Kafka: TRANSACTION_COORDINATOR_FENCED).
            throw new TransactionCoordinatorFencedException("The marker of producer " + batch.producerId() + " in "
                    + dir.getFileName() + " comes from coordinator epoch " + batch.coordinatorEpoch()
                    + ", older than the epoch " + current.coordinatorEpoch + " of its last marker here");
        }
        if (batch.isControl() || fromCoordinator) {
            return;
        }
        if (!batch.isTransactional() && current.txnFirstOffset >= 0) {
            throw new InvalidTxnStateException("Producer " + batch.producerId() + " wrote a non-transactional batch"
                    + " at offset " + batch.baseOffset() + " in " + dir.getFileName()
                    + " while its transaction that began at offset " + current.txnFirstOffset + " is open");
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
            ProducerEntry entry = producers.computeIfAbsent(batch.producerId(), ProducerEntry::new);
            TxnEvent event = transition(entry, batch);
            entry.add(batch, batch.maxTimestamp());
            if (event != null) {
                apply(event);
            }
        }
    }

    /**
     * Forgets producers whose last batch is {@code expirationMs} or more older than {@code nowMs}
     * ({@code producer.id.expiration.ms}). Returns how many went.
     */
    int expire(long nowMs, long expirationMs) {
        int before = producers.size();
        // A producer with an open transaction stays: the transaction coordinator ends it (or times it out) first.
        producers.values().removeIf(entry -> entry.txnFirstOffset < 0 && nowMs - entry.lastTimestamp >= expirationMs);
        return before - producers.size();
    }

    void clear() {
        producers.clear();
        ongoing.clear();
        undecidedForReaders.clear();
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
                    .putLong(entry.txnFirstOffset).putInt(entry.coordinatorEpoch).put((byte) entry.batches.size());
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
            int version = buffer.getInt();
            if (version < 1 || version > SNAPSHOT_VERSION || buffer.getLong() != offset) {
                throw new IllegalStateException("unknown version or offset");
            }
            int count = buffer.getInt();
            Map<Long, ProducerEntry> read = new HashMap<>();
            for (int i = 0; i < count; i++) {
                ProducerEntry entry = new ProducerEntry(buffer.getLong());
                entry.epoch = buffer.getShort();
                entry.lastTimestamp = buffer.getLong();
                entry.txnFirstOffset = version >= 2 ? buffer.getLong() : -1;
                entry.coordinatorEpoch = version >= 3 ? buffer.getInt() : -1;
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
        load(segments, logEndOffset, syncDeletes, Long.MAX_VALUE);
    }

    /**
     * As {@link #load(NavigableMap, long, boolean)}, using no snapshot above {@code maxSnapshotOffset}: after a crash,
     * the recovery point, so that the replay covers every batch that was not known durable (and what it told the
     * abort listener may have been lost with the page cache).
     */
    void load(NavigableMap<Long, LogSegment> segments, long logEndOffset, boolean syncDeletes, long maxSnapshotOffset)
            throws IOException {
        deleteSnapshotsAfter(logEndOffset, syncDeletes);
        clear();
        long from = segments.isEmpty() ? logEndOffset : segments.firstKey();
        List<Long> candidates = new ArrayList<>(snapshotOffsets().headSet(maxSnapshotOffset, true));
        Collections.reverse(candidates);
        for (long offset : candidates) {
            Map<Long, ProducerEntry> read = readSnapshot(offset);
            if (read != null) {
                producers.putAll(read);
                for (ProducerEntry entry : read.values()) {
                    if (entry.txnFirstOffset >= 0) {
                        ongoing.put(entry.txnFirstOffset, entry.producerId);
                    }
                }
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

    /** Every producer this partition keeps state for. */
    List<ActiveProducer> activeProducers() {
        List<ActiveProducer> out = new ArrayList<>();
        for (ProducerEntry e : producers.values()) {
            out.add(new ActiveProducer(e.producerId, e.epoch, e.lastSeq(), e.lastTimestamp, e.txnFirstOffset,
                    e.coordinatorEpoch));
        }
        return out;
    }

    /** Iteration for tests and tools: every producer's state. */
    Iterator<ProducerEntry> entries() {
        return producers.values().iterator();
    }
}
