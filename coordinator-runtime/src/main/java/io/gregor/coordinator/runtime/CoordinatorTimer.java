package io.gregor.coordinator.runtime;

import java.util.function.Supplier;

/**
 * Timers of one shard (session expiry, rebalance delays, offset retention). A timer's operation runs on the shard's
 * queue like any write operation, so its records are appended and replayed the same way; timers of a shard that was
 * unloaded never run. Scheduling a key again replaces the earlier timer of that key.
 */
public interface CoordinatorTimer<R> {

    void schedule(String key, long delayMs, Supplier<CoordinatorResult<R, Void>> operation);

    void cancel(String key);

    boolean isScheduled(String key);
}
