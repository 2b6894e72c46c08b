package io.gregor.coordinator.runtime;

import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;

/**
 * A clock that moves only when told (other modules' tests get it from this module's test jar); scheduled tasks run
 * on the caller of {@link #advance} when their time comes.
 */
public final class ManualTime implements CoordinatorTime {
    private record Task(long dueMs, long sequence, Runnable task, boolean[] cancelled) {
    }

    private final PriorityQueue<Task> tasks = new PriorityQueue<>((a, b) -> a.dueMs != b.dueMs
            ? Long.compare(a.dueMs, b.dueMs) : Long.compare(a.sequence, b.sequence));
    private long nowMs = 1_000_000L;
    private long sequence;

    @Override
    public synchronized long milliseconds() {
        return nowMs;
    }

    @Override
    public synchronized Cancellable schedule(long delayMs, Runnable task) {
        boolean[] cancelled = {false};
        tasks.add(new Task(nowMs + Math.max(0, delayMs), sequence++, task, cancelled));
        return () -> {
            synchronized (ManualTime.this) {
                cancelled[0] = true;
            }
        };
    }

    /** Moves the clock forward, running every task that falls due, in order. */
    public void advance(long ms) {
        List<Runnable> due = new ArrayList<>();
        synchronized (this) {
            nowMs += ms;
            while (!tasks.isEmpty() && tasks.peek().dueMs <= nowMs) {
                Task next = tasks.poll();
                if (!next.cancelled[0]) {
                    due.add(next.task);
                }
            }
        }
        due.forEach(Runnable::run);
    }
}
