package io.gregor.metadata;

/**
 * Read access to the latest applied metadata image: what request handlers use to answer from this node's view of
 * topics, partitions and configs (as Kafka's broker-side metadata cache).
 */
public interface MetadataCache {
    /** The image after the last applied record; never null. */
    MetadataImage image();
}
