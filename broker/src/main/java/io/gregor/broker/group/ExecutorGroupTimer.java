package io.gregor.broker.group;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/** The production timer: one daemon thread runs join deadlines and session expiries. */
public final class ExecutorGroupTimer implements GroupTimer, AutoCloseable {
    private final ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "gregor-group-timer");
        t.setDaemon(true);
        return t;
    });

    @Override
    public long milliseconds() {
        return System.currentTimeMillis();
    }

    @Override
    public Runnable schedule(long delayMs, Runnable task) {
        ScheduledFuture<?> future = executor.schedule(task, Math.max(0, delayMs), TimeUnit.MILLISECONDS);
        return () -> future.cancel(false);
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }
}
