package io.gregor.metadata;

/**
 * Read access to the latest applied metadata image: what request handlers use to answer from this node's view of
 * topics, partitions and configs (as Kafka's broker-side metadata cache).
 */
public interface MetadataCache {
    /** The image after the last applied record; never null. */
    MetadataImage image();

    /**
     * Completes once this node has acted on every entry applied so far (the logs of a created topic's partitions
     * exist here, for example); already complete where nothing acts on them.
     */
    default java.util.concurrent.CompletableFuture<Void> published() {
        return java.util.concurrent.CompletableFuture.completedFuture(null);
    }

    /**
     * Waits until the image satisfies {@code condition} (a record applied by the metadata log, perhaps written on
     * another node), at most {@code timeout}; returns whether it did.
     */
    default boolean awaitImage(java.util.function.Predicate<MetadataImage> condition, java.time.Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.test(image())) {
            if (System.nanoTime() - deadline > 0) {
                return false;
            }
            java.util.concurrent.locks.LockSupport.parkNanos(java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(5));
        }
        return true;
    }
}
