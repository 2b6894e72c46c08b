package io.gregor.storage;

/** A producer's batch does not fit its transaction state (Kafka's INVALID_TXN_STATE). */
public final class InvalidTxnStateException extends StorageException {
    public InvalidTxnStateException(String message) {
        super(message);
    }
}
