package io.gregor.coordinator.runtime;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A shard's event queue: tasks run one at a time, in the order they were queued, on a pool shared by all shards,
 * so a shard's state is only ever touched by one thread at a time without a thread of its own.
 */
final class SerialQueue implements Executor {
    private static final Logger log = LoggerFactory.getLogger(SerialQueue.class);

    private final Executor pool;
    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean scheduled = new AtomicBoolean();

    SerialQueue(Executor pool) {
        this.pool = pool;
    }

    @Override
    public void execute(Runnable task) {
        tasks.add(task);
        if (scheduled.compareAndSet(false, true)) {
            pool.execute(this::drain);
        }
    }

    private void drain() {
        Runnable task;
        while ((task = tasks.poll()) != null) {
            try {
                task.run();
            } catch (RuntimeException | AssertionError e) {
                log.error("Uncaught error in a coordinator task", e);
            }
        }
        scheduled.set(false);
        // A task queued between the last poll and the flag reset must not be stranded.
        if (!tasks.isEmpty() && scheduled.compareAndSet(false, true)) {
            pool.execute(this::drain);
        }
    }
}
