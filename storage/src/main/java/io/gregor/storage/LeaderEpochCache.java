package io.gregor.storage;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Leader epochs of one log and the offset at which each began, persisted in
 * {@code leader-epoch-checkpoint} (a {@link CheckpointFile} with {@code "epoch startOffset"}
 * entries), rewritten atomically on every change. Both columns strictly increase.
 *
 * <p>Thread-safety: all methods synchronized; changes are rare (leader changes, truncation).
 */
final class LeaderEpochCache {

    static final String FILE_NAME = "leader-epoch-checkpoint";
    private static final Logger LOG = LoggerFactory.getLogger(LeaderEpochCache.class);

    private record Entry(int epoch, long startOffset) {}

    private final CheckpointFile checkpoint;
    private final LongSupplier logEndOffset;
    private final List<Entry> entries = new ArrayList<>();
    /** Entries changed in memory and not yet written: see {@link #assign}. */
    private boolean dirty;

    LeaderEpochCache(CheckpointFile checkpoint, LongSupplier logEndOffset) {
        this.checkpoint = checkpoint;
        this.logEndOffset = logEndOffset;
        try {
            List<String> lines = checkpoint.read();
            if (lines != null) {
                for (String line : lines) {
                    String[] fields = line.trim().split("\\s+");
                    entries.add(new Entry(Integer.parseInt(fields[0]), Long.parseLong(fields[1])));
                }
            }
        } catch (IOException | RuntimeException e) {
            LOG.warn("Ignoring unreadable leader epoch checkpoint {}: {}", checkpoint.file(), e.toString());
            entries.clear();
        }
    }

    synchronized int latestEpoch() {
        return entries.isEmpty() ? -1 : entries.get(entries.size() - 1).epoch();
    }

    /**
     * Records that {@code epoch} starts at {@code startOffset}. Entries with an epoch {@code >=
     * epoch} or a start offset {@code >= startOffset} conflict and are removed; re-assigning the
     * latest epoch is a no-op.
     */
    synchronized void assign(int epoch, long startOffset) {
        if (epoch < 0) {
            return;
        }
        if (!entries.isEmpty()) {
            Entry last = entries.get(entries.size() - 1);
            if (last.epoch() == epoch && last.startOffset() <= startOffset) {
                return;
            }
        }
        entries.removeIf(entry -> entry.epoch() >= epoch || entry.startOffset() >= startOffset);
        entries.add(new Entry(epoch, startOffset));
        if (startOffset >= logEndOffset.getAsLong()) {
            // No record of this epoch exists yet: the entry is written (and fsynced) by the next flush of the log,
            // before the records that need it are durable ({@link #flush}). A new leader of many partitions then
            // costs no fsync per partition. Should a crash lose it, recovery assigns epochs from the batches again.
            dirty = true;
        } else {
            persist();
        }
    }

    /** Writes (and fsyncs) entries that {@link #assign} kept in memory; called by every flush of the log. */
    synchronized void flush() {
        if (dirty) {
            persist();
        }
    }

    /** Kafka's OffsetForLeaderEpoch rule; see {@link Log#endOffsetForEpoch}. */
    synchronized EpochEndOffset endOffsetFor(int epoch) {
        if (epoch < 0 || entries.isEmpty()) {
            return EpochEndOffset.UNDEFINED;
        }
        if (epoch == latestEpoch()) {
            return new EpochEndOffset(epoch, logEndOffset.getAsLong());
        }
        Entry floor = null;
        for (Entry entry : entries) {
            if (entry.epoch() > epoch) {
                return floor == null ? new EpochEndOffset(epoch, entry.startOffset()) : new EpochEndOffset(floor.epoch(), entry.startOffset());
            }
            floor = entry;
        }
        return EpochEndOffset.UNDEFINED;
    }

    /** Drops entries starting at or after {@code endOffset} (the log was truncated there). */
    synchronized void truncateFromEnd(long endOffset) {
        if (entries.removeIf(entry -> entry.startOffset() >= endOffset)) {
            persist();
        }
    }

    /** Moves entries below {@code startOffset} up to it, keeping the latest of them (the log start advanced). */
    synchronized void truncateFromStart(long startOffset) {
        Entry covering = null;
        boolean changed = false;
        while (!entries.isEmpty() && entries.get(0).startOffset() < startOffset) {
            covering = entries.remove(0);
            changed = true;
        }
        if (changed) {
            if (entries.isEmpty() || entries.get(0).startOffset() > startOffset) {
                entries.add(0, new Entry(covering.epoch(), startOffset));
            }
            persist();
        }
    }

    private void persist() {
        List<String> lines = new ArrayList<>(entries.size());
        for (Entry entry : entries) {
            lines.add(entry.epoch() + " " + entry.startOffset());
        }
        try {
            checkpoint.write(lines);
            dirty = false;
        } catch (IOException e) {
            throw new KafkaStorageException("Failed to write " + checkpoint.file(), e);
        }
    }
}
