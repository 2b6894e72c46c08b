package io.gregor.storage;

/**
 * A transaction marker from a coordinator epoch older than that of the producer's last marker in the partition: its
 * coordinator has been replaced (Kafka's TRANSACTION_COORDINATOR_FENCED).
 */
public final class TransactionCoordinatorFencedException extends StorageException {
    public TransactionCoordinatorFencedException(String message) {
        super(message);
    }
}
