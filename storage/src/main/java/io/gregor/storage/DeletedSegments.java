package io.gregor.storage;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.Deque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Segments removed from a log (retention, DeleteRecords, truncation) whose files were renamed to
 * {@code *.deleted} but whose channels stay open for {@code file.delete.delay.ms}, so fetch slices
 * handed out before the deletion can still be sent. Swept by the log's periodic calls; anything
 * left at close is unlinked then, and any {@code *.deleted} file found at open is removed.
 *
 * <p>Thread-safety: synchronized.
 */
final class DeletedSegments {

    private static final Logger LOG = LoggerFactory.getLogger(DeletedSegments.class);

    private record Pending(LogSegment segment, long deadlineMs) {}

    private final Deque<Pending> pending = new ArrayDeque<>();

    synchronized void add(LogSegment segment, long deadlineMs) {
        pending.addLast(new Pending(segment, deadlineMs));
    }

    /** Closes and unlinks every segment whose delay has passed. */
    synchronized void sweep(long nowMs) {
        pending.removeIf(entry -> {
            if (entry.deadlineMs() > nowMs) {
                return false;
            }
            release(entry.segment());
            return true;
        });
    }

    /** Closes and unlinks every pending segment now. */
    synchronized void releaseAll() {
        pending.forEach(entry -> release(entry.segment()));
        pending.clear();
    }

    /** Closes every pending segment's channel without unlinking (the directory goes as a whole). */
    synchronized void closeAll() {
        pending.forEach(entry -> entry.segment().closeHandle());
        pending.clear();
    }

    synchronized int size() {
        return pending.size();
    }

    private static void release(LogSegment segment) {
        segment.closeHandle();
        try {
            segment.deleteFiles();
        } catch (IOException e) {
            LOG.warn("Failed to delete files of {}: {}", segment, e.toString());
        }
    }
}
