package io.gregor.storage;

/** A record batch is larger than the log's {@code max.message.bytes}. */
public class RecordTooLargeException extends StorageException {

    public RecordTooLargeException(String message) {
        super(message);
    }
}
