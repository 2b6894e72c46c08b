package io.gregor.storage;

/**
 * An I/O error (disk full, closed file, failed fsync). The log that threw it is left valid: a
 * failed append is truncated back before this is thrown.
 */
public class KafkaStorageException extends StorageException {

    public KafkaStorageException(String message) {
        super(message);
    }

    public KafkaStorageException(String message, Throwable cause) {
        super(message, cause);
    }
}
