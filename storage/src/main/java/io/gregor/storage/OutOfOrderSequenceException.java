package io.gregor.storage;

/** A producer's batch does not follow on from its previous one (Kafka's OUT_OF_ORDER_SEQUENCE_NUMBER). */
public class OutOfOrderSequenceException extends StorageException {

    public OutOfOrderSequenceException(String message) {
        super(message);
    }
}
