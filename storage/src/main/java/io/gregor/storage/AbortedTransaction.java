package io.gregor.storage;

/**
 * One aborted transaction of a producer in a partition: the offset of its first record there and of its abort marker,
 * and the partition's first unstable offset right after the abort.
 */
public record AbortedTransaction(long producerId, long firstOffset, long lastOffset, long lastStableOffset) {
}
