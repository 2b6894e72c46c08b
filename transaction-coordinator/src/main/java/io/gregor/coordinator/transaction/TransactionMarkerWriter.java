package io.gregor.coordinator.transaction;

import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.TopicPartition;

/**
 * Writes a transaction's commit or abort markers to its partitions, on whichever node leads each (WriteTxnMarkers).
 * Completes once every partition has its marker, or no longer exists; retried by the implementation meanwhile (a
 * partition without a leader, a node that is down), so it may take as long as a partition takes to come back, but
 * only while {@code keepTrying} holds (this node still coordinates the transaction): otherwise it fails, and the
 * transaction's next coordinator writes the markers again.
 */
@FunctionalInterface
public interface TransactionMarkerWriter {

    CompletableFuture<Void> write(long producerId, short producerEpoch, boolean commit, int coordinatorEpoch,
                                  Set<TopicPartition> partitions, java.util.function.BooleanSupplier keepTrying);
}
