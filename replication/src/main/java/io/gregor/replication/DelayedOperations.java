package io.gregor.replication;

import io.netty.util.HashedWheelTimer;
import io.netty.util.Timeout;
import java.util.Collection;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Parked requests (fetch long polls) keyed by partition, completed when the partition changes or on a timer wheel
 * timeout; no thread is held while a request waits.
 */
public final class DelayedOperations implements AutoCloseable {
    private final HashedWheelTimer timer = new HashedWheelTimer(r -> {
        Thread t = new Thread(r, "gregor-delayed-ops");
        t.setDaemon(true);
        return t;
    }, 5, TimeUnit.MILLISECONDS, 512);
    private final ConcurrentHashMap<Partition, Set<Operation>> watchers = new ConcurrentHashMap<>();
    private final Executor executor;

    public DelayedOperations(Executor executor) {
        this.executor = executor;
    }

    /** A parked request: {@link #tryComplete()} returns true when it completed it; onExpire runs once at timeout. */
    public abstract static class Operation {
        private final AtomicBoolean completed = new AtomicBoolean();
        private volatile Timeout timeout;
        private volatile Collection<Partition> keys;

        /** Checks whether the request can complete now; if so calls {@link #forceComplete()} and returns true. */
        protected abstract boolean tryComplete();

        /** Completes the request with what there is (timeout). */
        protected abstract void onComplete();

        protected final boolean forceComplete() {
            if (completed.compareAndSet(false, true)) {
                Timeout t = timeout;
                if (t != null) {
                    t.cancel();
                }
                onComplete();
                return true;
            }
            return false;
        }

        final boolean isCompleted() {
            return completed.get();
        }
    }

    /** Parks {@code op} until it completes on a change of one of {@code keys} or after {@code timeoutMs}. */
    public void park(Operation op, Collection<Partition> keys, long timeoutMs) {
        if (op.isCompleted()) {
            return; // completed by another path (a produce's own fsync) before it could be parked
        }
        op.keys = keys;
        for (Partition key : keys) {
            watchers.computeIfAbsent(key, k -> ConcurrentHashMap.newKeySet()).add(op);
        }
        op.timeout = timer.newTimeout(t -> executor.execute(() -> {
            op.forceComplete();
            unwatch(op);
        }), Math.max(timeoutMs, 0), TimeUnit.MILLISECONDS);
        // Completed meanwhile by another path (which could not cancel a timeout not yet set), or a change happened
        // between the caller's check and registration: nothing may stay parked for it.
        if (op.isCompleted() || op.tryComplete()) {
            op.timeout.cancel();
            unwatch(op);
        }
    }

    /** Tries to complete a parked operation from outside (its own event); unparks it when it completes. */
    void tryCompleteAndUnpark(Operation op) {
        if (op.tryComplete() || op.isCompleted()) {
            Timeout t = op.timeout;
            if (t != null) {
                t.cancel();
            }
            if (op.keys != null) {
                unwatch(op);
            }
        }
    }

    /** Re-checks the operations watching {@code key}; call after its high watermark moved. */
    public void onChange(Partition key) {
        Set<Operation> ops = watchers.get(key);
        if (ops == null || ops.isEmpty()) {
            return;
        }
        executor.execute(() -> {
            for (Operation op : ops) {
                if (op.isCompleted() || op.tryComplete()) {
                    unwatch(op);
                }
            }
        });
    }

    private void unwatch(Operation op) {
        for (Partition key : op.keys) {
            Set<Operation> ops = watchers.get(key);
            if (ops != null) {
                ops.remove(op);
            }
        }
    }

    public int parked() {
        return watchers.values().stream().mapToInt(Set::size).sum();
    }

    @Override
    public void close() {
        timer.stop();
    }
}
