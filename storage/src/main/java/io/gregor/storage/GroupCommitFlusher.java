package io.gregor.storage;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Group commit: logs are fsynced on request, off the callers' threads. Callers ask for durability up to an offset
 * and get a future completed after an fsync that covers it. Each log has at most one fsync running; requests that
 * arrive meanwhile are batched into its next one, so concurrent appends to a log share fsyncs. Different logs are
 * synced independently, on a pool of {@value #SYNC_THREADS} threads, so a log never waits for another log's fsync
 * (a partition of {@code __consumer_offsets} does not queue behind another's, nor a busy partition behind a slow one).
 *
 * <p>Design note: callers never fsync on their own thread, so a connection can append its next pipelined request
 * while the previous one is being synced (an inline fsync was tried and cost 15-20% produce throughput). An earlier
 * version synced the logs of a batch together and waited for all of them before the next batch; with eight
 * committers in eight partitions a commit waited for up to three rounds of fsyncs.
 *
 * <p>Thread-safety: {@link #flush}, {@link #markDirty} and {@link #close} may be called from any thread; futures
 * complete and the listener runs on a sync thread or on the calling thread.
 */
public final class GroupCommitFlusher implements AutoCloseable {

    /** Told after each fsync that advanced a log's flushed offset. */
    public interface FlushListener {
        void onFlushed(Log log, long flushedOffset);
    }

    private static final Logger LOG = LoggerFactory.getLogger(GroupCommitFlusher.class);

    /** fsyncs of different logs that may run at once (they are I/O waits, not CPU). */
    static final int SYNC_THREADS = 16;

    private record Waiter(long upToOffsetExclusive, CompletableFuture<Void> future) {}

    /** What a log waits for; guarded by the flusher's monitor. */
    private static final class Pending {
        List<Waiter> waiters = new ArrayList<>();
        boolean dirty;
        boolean running;
    }

    private final FlushListener listener;
    private final java.util.concurrent.ExecutorService syncPool;
    private final Map<Log, Pending> pending = new IdentityHashMap<>();
    private boolean closed;

    public GroupCommitFlusher(String name, FlushListener listener) {
        this.listener = listener;
        java.util.concurrent.atomic.AtomicInteger n = new java.util.concurrent.atomic.AtomicInteger();
        this.syncPool = java.util.concurrent.Executors.newFixedThreadPool(SYNC_THREADS, r -> {
            Thread t = new Thread(r, name + "-sync-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * A future completed once {@code log.flushedOffset() >= upToOffsetExclusive}; immediately if
     * already so. Completes exceptionally with {@link KafkaStorageException} on an I/O error or
     * when the flusher is closed.
     */
    public CompletableFuture<Void> flush(Log log, long upToOffsetExclusive) {
        if (log.flushedOffset() >= upToOffsetExclusive) {
            return CompletableFuture.completedFuture(null);
        }
        CompletableFuture<Void> future = new CompletableFuture<>();
        if (!enqueue(log, new Waiter(upToOffsetExclusive, future))) {
            future.completeExceptionally(new KafkaStorageException("Flusher is closed"));
        }
        return future;
    }

    /** Asks for a flush of {@code log} soon, with nobody waiting. */
    public void markDirty(Log log) {
        enqueue(log, null);
    }

    private void notifyListener(Log log, long before) {
        if (log.flushedOffset() > before) {
            try {
                listener.onFlushed(log, log.flushedOffset());
            } catch (RuntimeException e) {
                LOG.warn("Flush listener failed for {}", log.dir(), e);
            }
        }
    }

    private synchronized boolean enqueue(Log log, Waiter waiter) {
        if (closed) {
            return false;
        }
        Pending p = pending.computeIfAbsent(log, ignored -> new Pending());
        if (waiter != null) {
            p.waiters.add(waiter);
        } else {
            p.dirty = true;
        }
        if (!p.running) {
            p.running = true;
            syncPool.execute(() -> drain(log));
        }
        return true;
    }

    /** The waiters of the next fsync of {@code log}, or null when nothing is left (the log's run ends). */
    private synchronized List<Waiter> next(Log log) {
        Pending p = pending.get(log);
        if (p.waiters.isEmpty() && !p.dirty) {
            pending.remove(log);
            return null;
        }
        List<Waiter> batch = p.waiters;
        p.waiters = new ArrayList<>();
        p.dirty = false;
        return batch;
    }

    /** One log's run: fsyncs until no request is left, each fsync covering every request made before it began. */
    private void drain(Log log) {
        List<Waiter> batch;
        while ((batch = next(log)) != null) {
            flushOne(log, batch);
        }
    }

    private void flushOne(Log log, List<Waiter> waiters) {
        long before = log.flushedOffset();
        try {
            log.flush();
        } catch (RuntimeException e) {
            LOG.warn("Group commit flush of {} failed: {}", log.dir(), e.toString());
            StorageException failure = e instanceof StorageException storage ? storage : new KafkaStorageException(e.getMessage(), e);
            waiters.forEach(waiter -> waiter.future().completeExceptionally(failure));
            return;
        }
        notifyListener(log, before);
        long flushed = log.flushedOffset();
        for (Waiter waiter : waiters) {
            if (flushed >= waiter.upToOffsetExclusive()) {
                waiter.future().complete(null);
            } else {
                waiter.future().completeExceptionally(new KafkaStorageException(
                        "Flush of " + log.dir() + " reached " + flushed + ", below requested " + waiter.upToOffsetExclusive()));
            }
        }
    }

    /** Finishes the pending requests, then stops the threads. */
    @Override
    public void close() {
        synchronized (this) {
            closed = true;
        }
        syncPool.shutdown();
        try {
            if (!syncPool.awaitTermination(60, java.util.concurrent.TimeUnit.SECONDS)) {
                LOG.warn("Flushes still running after 60 s at close");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
