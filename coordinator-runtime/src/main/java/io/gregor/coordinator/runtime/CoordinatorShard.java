package io.gregor.coordinator.runtime;

/**
 * The state of a coordinator for one partition of its internal topic. It changes only in {@link #replay}: operations
 * read it and return records ({@link CoordinatorResult}), and the runtime replays those records into it, as it
 * replays the partition's records when the shard is loaded. Called by one thread at a time (the shard's queue).
 *
 * @param <R> the record type
 */
public interface CoordinatorShard<R> {

    /** Applies one record, stored at {@code offset} of the partition (or about to be). */
    void replay(long offset, R record);

    /** Applies a record written in producer {@code producerId}'s transaction: it counts only once committed. */
    default void replayTransactional(long offset, long producerId, short producerEpoch, R record) {
        replay(offset, record);
    }

    /** Applies the commit or abort marker of producer {@code producerId}'s transaction. */
    default void replayEndTransaction(long offset, long producerId, short producerEpoch, boolean commit) {
    }

    /** Called once the whole partition has been replayed and operations may run. */
    default void onLoaded() {
    }

    /** Called when the shard is dropped (leadership moved, or the runtime closes). */
    default void onUnloaded() {
    }
}
