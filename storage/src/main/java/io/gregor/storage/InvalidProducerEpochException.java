package io.gregor.storage;

/** A batch carries an older epoch than its producer has already written with (Kafka's INVALID_PRODUCER_EPOCH). */
public class InvalidProducerEpochException extends StorageException {

    public InvalidProducerEpochException(String message) {
        super(message);
    }
}
