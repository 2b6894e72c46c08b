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

    /** Called once the whole partition has been replayed and operations may run. */
    default void onLoaded() {
    }

    /** Called when the shard is dropped (leadership moved, or the runtime closes). */
    default void onUnloaded() {
    }
}
