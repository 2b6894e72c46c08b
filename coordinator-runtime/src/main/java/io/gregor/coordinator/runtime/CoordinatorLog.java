package io.gregor.coordinator.runtime;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The internal topic a coordinator's shards live in, one partition per shard.
 *
 * @param <R> the record type (the log serialises it)
 */
public interface CoordinatorLog<R> {

    /**
     * Appends {@code records} to {@code partition}, in order and after every earlier append of the same partition.
     * The offsets are assigned by the call; durability (acks=all) comes later, through {@link Append#committed}.
     * The call must not wait for durability: the runtime issues appends from the shard's queue.
     *
     * @throws RuntimeException when nothing was appended (the partition is gone, the log refused the batch)
     */
    Append append(int partition, List<R> records);

    /**
     * Appends {@code records} as part of the transaction of producer {@code producerId} at {@code producerEpoch}
     * (TxnOffsetCommit): they count once that producer's commit marker follows them, and never after an abort.
     *
     * @throws UnsupportedOperationException when this log has no transactions
     */
    default Append appendTransactional(int partition, long producerId, short producerEpoch, List<R> records) {
        throw new UnsupportedOperationException("this coordinator log has no transactions");
    }

    /** Appends the commit or abort marker of producer {@code producerId}'s transaction (WriteTxnMarkers). */
    default Append appendEndTransaction(int partition, long producerId, short producerEpoch, boolean commit,
                                        int coordinatorEpoch) {
        throw new UnsupportedOperationException("this coordinator log has no transactions");
    }

    /**
     * An append in progress.
     *
     * @param baseOffset the offset of the first record
     * @param committed completes once the records are durable, or fails (they may then never be committed)
     */
    record Append(long baseOffset, CompletableFuture<Void> committed) {
    }

    /** Reads {@code partition} from its start to its committed end, feeding every record to {@code sink}; returns the count. */
    long read(int partition, RecordSink<R> sink);

    /** Receives replayed records. */
    @FunctionalInterface
    interface RecordSink<R> {
        void accept(long offset, R record);

        /** A record written in producer {@code producerId}'s transaction. */
        default void acceptTransactional(long offset, long producerId, short producerEpoch, R record) {
            accept(offset, record);
        }

        /** A commit or abort marker of producer {@code producerId}'s transaction. */
        default void endTransaction(long offset, long producerId, short producerEpoch, boolean commit) {
        }
    }
}
