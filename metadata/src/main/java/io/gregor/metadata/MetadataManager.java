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
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();
    private volatile MetadataImage image = MetadataImage.EMPTY;
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
        for (Listener listener : listeners) {
            listener.onImage(MetadataImage.EMPTY, current);
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
     * Runs {@code action} on the current image while no entry is being applied: every listener has seen this image,
     * and none sees a later one until {@code action} returns (so what {@code action} starts, the listeners then
     * follow). {@code action} must not wait for the metadata log.
     */
    public synchronized <T> T withAppliedImage(Function<MetadataImage, T> action) {
        return action.apply(image);
    }

    @Override
    public synchronized void apply(long index, byte[] entry) {
        MetadataImage previous = image;
        MetadataImage next = previous.apply(index, MetadataRecord.decode(entry));
        image = next;
        if (!replaying) {
            for (Listener listener : listeners) {
                try {
                    listener.onImage(previous, next);
                } catch (RuntimeException e) {
                    log.error("Metadata listener failed on entry {}", index, e);
                }
            }
        }
    }

    @Override
    public synchronized byte[] snapshot() {
        return MetadataRecord.encode(image.toRecords());
    }

    @Override
    public synchronized void restore(byte[] snapshot) {
        image = MetadataImage.EMPTY.apply(-1, MetadataRecord.decode(snapshot));
    }

    @Override
    public void close() {
        controller.shutdownNow();
    }
}
