package io.gregor.broker.group;

import java.util.ArrayList;
import java.util.List;

/** A timer that only moves when a test calls {@link #advance}; due tasks run on the caller's thread. */
final class ManualGroupTimer implements GroupTimer {
    private record Task(long dueMs, Runnable task, boolean[] cancelled) {
    }

    private final List<Task> tasks = new ArrayList<>();
    private long nowMs;

    @Override
    public long milliseconds() {
        return nowMs;
    }

    @Override
    public Runnable schedule(long delayMs, Runnable task) {
        boolean[] cancelled = {false};
        tasks.add(new Task(nowMs + delayMs, task, cancelled));
        return () -> cancelled[0] = true;
    }

    void advance(long ms) {
        long target = nowMs + ms;
        while (true) {
            Task next = tasks.stream().filter(t -> t.dueMs() <= target && !t.cancelled()[0])
                    .min((a, b) -> Long.compare(a.dueMs(), b.dueMs())).orElse(null);
            if (next == null) {
                break;
            }
            tasks.remove(next);
            nowMs = Math.max(nowMs, next.dueMs());
            next.task().run();
        }
        tasks.removeIf(t -> t.cancelled()[0]);
        nowMs = target;
    }
}
