package io.gregor.storage;

/** Base of every exception the storage layer throws; the broker maps each subclass to an error code. */
public abstract class StorageException extends RuntimeException {

    protected StorageException(String message) {
        super(message);
    }

    protected StorageException(String message, Throwable cause) {
        super(message, cause);
    }
}
