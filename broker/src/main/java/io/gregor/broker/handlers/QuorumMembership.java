package io.gregor.broker.handlers;

import java.util.concurrent.CompletableFuture;

/** Changes to the voters of the metadata quorum, made on the active controller (the quorum's leader). */
public interface QuorumMembership {
    /** Makes node {@code nodeId}, which observes the quorum at {@code host:port}, a voter; completes once committed. */
    CompletableFuture<Void> addVoter(int nodeId, String host, int port);

    /** Makes voter {@code nodeId} an observer; completes once committed. */
    CompletableFuture<Void> removeVoter(int nodeId);
}
