package io.gregor.storage;

/** A record batch failed validation: bad CRC, bad length, bad magic or inconsistent offset delta and count. */
public class CorruptRecordException extends StorageException {

    public CorruptRecordException(String message) {
        super(message);
    }
}
