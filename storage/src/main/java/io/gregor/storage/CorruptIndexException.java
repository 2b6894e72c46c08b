package io.gregor.storage;

/** An offset or time index failed its sanity check; the log rebuilds it from the segment file. */
public class CorruptIndexException extends StorageException {

    public CorruptIndexException(String message) {
        super(message);
    }
}
