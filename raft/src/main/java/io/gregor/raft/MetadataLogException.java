package io.gregor.raft;

/** Failure of a {@link RaftMetadataLog} operation; {@link #reason()} tells callers what to do next. */
public final class MetadataLogException extends RuntimeException {

    /** Why an operation failed. */
    public enum Reason {
        /** This node is not (or no longer) the leader; retry on the leader. */
        NOT_LEADER,
        /** The log is closed or was never started. */
        CLOSED,
        /** {@link RaftMetadataLog#start()} did not finish within the start timeout. */
        START_TIMEOUT,
        /** A node to be made a voter already is one. */
        ALREADY_VOTER,
        /** A node to be removed from the voters is not one. */
        NOT_VOTER,
        /** Any other membership change that cannot be made (the last voter removed, a node that does not observe). */
        INVALID_CHANGE,
        /** Another membership change is still in progress; retry later. */
        CHANGE_IN_PROGRESS,
        /** Anything else: I/O error, state machine error, Raft error. */
        FAILED
    }

    private final Reason reason;

    MetadataLogException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    MetadataLogException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
