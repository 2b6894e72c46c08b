package io.gregor.raft;

/**
 * Implemented by the broker: its metadata image builder.
 *
 * <p>All three methods are called on one thread, the Ratis state-machine updater thread of the
 * {@link RaftMetadataLog} that owns this instance, and never concurrently with each other (the
 * log additionally holds a private lock around each call). Implementations need no locking of
 * their own for these calls; they must not block for long, since the next committed entry
 * waits for them.
 */
public interface MetadataStateMachine {

    /**
     * Applies one committed entry. Called for every committed entry, in log order, once per
     * process lifetime, including the replay of the entries after the latest snapshot at start.
     * Indexes are strictly increasing but not contiguous: Raft-internal entries (leader
     * no-ops, configuration changes) take indexes too and are not passed here.
     *
     * <p>Must not throw: a failure here means the image no longer matches the log. If it does
     * throw, the matching {@link RaftMetadataLog#append} completes exceptionally and the entry
     * stays in the log (it is applied again after a restart).
     */
    void apply(long index, byte[] entry);

    /** Serialized state as of the last applied index. */
    byte[] snapshot();

    /** Replaces the state at start, before the entries after the snapshot are replayed. */
    void restore(byte[] snapshot);
}
