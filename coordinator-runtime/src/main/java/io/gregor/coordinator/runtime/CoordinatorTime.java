package io.gregor.coordinator.runtime;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The clock and delayed tasks of a runtime: the system's in production, a manual one in tests, so that session
 * timeouts and rebalance delays are stepped by hand.
 */
public interface CoordinatorTime {

    long milliseconds();

    /** Runs {@code task} (on some thread) once {@code delayMs} have passed; the handle cancels it. */
    Cancellable schedule(long delayMs, Runnable task);

    /** A scheduled task that may be cancelled. */
    interface Cancellable {
        void cancel();
    }

    /** The system clock with one scheduler thread; close it to stop the thread. */
    static SystemTime system(String threadName) {
        return new SystemTime(threadName);
    }

    /** {@link System#currentTimeMillis()} and a single daemon scheduler thread. */
    final class SystemTime implements CoordinatorTime, AutoCloseable {
        private final ScheduledExecutorService scheduler;

        private SystemTime(String threadName) {
            scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, threadName);
                t.setDaemon(true);
                return t;
            });
        }

        @Override
        public long milliseconds() {
            return System.currentTimeMillis();
        }

        @Override
        public Cancellable schedule(long delayMs, Runnable task) {
            ScheduledFuture<?> future = scheduler.schedule(task, Math.max(0, delayMs), TimeUnit.MILLISECONDS);
            return () -> future.cancel(false);
        }

        @Override
        public void close() {
            scheduler.shutdownNow();
        }
    }
}
