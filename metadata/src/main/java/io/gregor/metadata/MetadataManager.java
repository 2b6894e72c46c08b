package io.gregor.metadata;

import io.gregor.raft.MetadataStateMachine;
import io.gregor.raft.RaftMetadataLog;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Owns the metadata image. Writes run one at a time on the controller thread: an operation reads the current image,
 * returns the records to append and its response, the records go through the metadata log (Ratis), and the response
 * completes only after they are committed and applied here. Reads take {@link #image()} from any thread.
 *
 * <p>Listeners (the partitions a node hosts, the group coordinator's shards, configs) are told about each new image
 * on their own thread, in log order, after the image is applied: applying stays quick, so a write is answered once
 * it is committed and applied rather than once every local consequence (creating a thousand partition directories,
 * say) is done, as Kafka's brokers publish metadata. Requests for a partition whose log is not there yet are answered
 * with a retriable error meanwhile.
 */
public final class MetadataManager implements MetadataStateMachine, MetadataCache, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(MetadataManager.class);

    /** Called on the apply thread with the image before and after each entry. */
    public interface Listener {
        void onImage(MetadataImage previous, MetadataImage next);
    }

    private final ExecutorService controller = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "gregor-controller");
        t.setDaemon(true);
        return t;
    });
    private final ExecutorService publisher = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "gregor-metadata-publisher");
        t.setDaemon(true);
        return t;
    });
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();
    private volatile MetadataImage image = MetadataImage.EMPTY;
    /** The image every listener has seen (set on the publisher thread). */
    private volatile MetadataImage published = MetadataImage.EMPTY;
    private volatile RaftMetadataLog journal;
    private volatile boolean replaying = true;

    public void attach(RaftMetadataLog metadataLog) {
        this.journal = metadataLog;
    }

    public void addListener(Listener listener) {
        listeners.add(listener);
    }

    public MetadataImage image() {
        return image;
    }

    /**
     * Listeners are told about every change from now on; the replay at start is reported once, as one change. Holds
     * the apply lock, so that no entry applied meanwhile reaches the listeners before (or while) they see the replay.
     */
    public synchronized void replayDone() {
        replaying = false;
        MetadataImage current = image;
        try {
            publisher.submit(() -> publish(-1, MetadataImage.EMPTY, current)).get();
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException("Publishing the replayed metadata failed", e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while publishing the replayed metadata", e);
        }
    }

    /** Tells every listener about {@code next}, on the publisher thread. */
    private void publish(long index, MetadataImage previous, MetadataImage next) {
        for (Listener listener : listeners) {
            try {
                listener.onImage(previous, next);
            } catch (RuntimeException e) {
                log.error("Metadata listener failed on entry {}", index, e);
            }
        }
        published = next;
    }

    @Override
    public CompletableFuture<Void> published() {
        try {
            return CompletableFuture.runAsync(() -> { }, publisher);
        } catch (java.util.concurrent.RejectedExecutionException closed) {
            return CompletableFuture.completedFuture(null);
        }
    }

    /**
     * Waits until the image the listeners have seen satisfies {@code condition}: what a listener does for it (the
     * partitions of a topic created here, say) is done when this returns true.
     */
    @Override
    public boolean awaitImage(java.util.function.Predicate<MetadataImage> condition, java.time.Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.test(replaying ? image : published)) {
            if (System.nanoTime() - deadline > 0) {
                return false;
            }
            java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
        }
        return true;
    }

    /**
     * Waits until the listeners have seen every entry applied so far (the partitions of a created topic exist on
     * this node, for example); false after {@code timeout}.
     */
    public boolean awaitPublished(java.time.Duration timeout) {
        try {
            publisher.submit(() -> { }).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            return true;
        } catch (java.util.concurrent.TimeoutException e) {
            return false;
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Runs a metadata operation on the controller thread; see the class comment. */
    public <T> CompletableFuture<T> write(Function<MetadataImage, ControllerResult<T>> operation) {
        CompletableFuture<T> result = new CompletableFuture<>();
        controller.execute(() -> {
            try {
                ControllerResult<T> decided = operation.apply(image);
                if (!decided.records().isEmpty()) {
                    journal.append(MetadataRecord.encode(decided.records())).get(30, TimeUnit.SECONDS);
                }
                result.complete(decided.response());
            } catch (java.util.concurrent.ExecutionException e) {
                result.completeExceptionally(e.getCause());
            } catch (Exception e) {
                result.completeExceptionally(e);
            }
        });
        return result;
    }

    /**
     * Runs {@code action}, on the publisher thread, on the image every listener has seen: none sees a later one until
     * {@code action} returns (so what {@code action} starts, the listeners then follow). {@code action} must not wait
     * for the metadata log or for listeners.
     */
    public <T> T withAppliedImage(Function<MetadataImage, T> action) {
        try {
            return publisher.submit(() -> action.apply(published)).get();
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted", e);
        }
    }

    @Override
    public synchronized void apply(long index, byte[] entry) {
        MetadataImage previous = image;
        MetadataImage next = previous.apply(index, MetadataRecord.decode(entry));
        image = next;
        if (!replaying) {
            publisher.execute(() -> publish(index, previous, next));
        }
    }

    @Override
    public synchronized byte[] snapshot() {
        return MetadataRecord.encode(image.toRecords());
    }

    @Override
    public synchronized void restore(byte[] snapshot) {
        MetadataImage previous = image;
        MetadataImage next = MetadataImage.EMPTY.apply(-1, MetadataRecord.decode(snapshot));
        image = next;
        if (!replaying) {
            // A snapshot installed from the leader while running (this node lagged too far): listeners catch up.
            publisher.execute(() -> publish(-1, previous, next));
        }
    }

    @Override
    public void close() {
        controller.shutdownNow();
        publisher.shutdownNow();
    }
}
