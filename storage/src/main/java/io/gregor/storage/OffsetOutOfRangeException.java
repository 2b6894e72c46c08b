package io.gregor.storage;

/** A fetch offset below the log start offset or above the log end offset. */
public class OffsetOutOfRangeException extends StorageException {

    public OffsetOutOfRangeException(String message) {
        super(message);
    }
}
