package io.gregor.broker.handlers;

import io.gregor.broker.config.Endpoint;

/** What handlers need to know about the node they run on: its id, its cluster, and how clients reach it. */
public interface LocalNode {
    int nodeId();

    /** The cluster id agreed in the metadata log (or configured before the first start). */
    String clusterId();

    /** The endpoint clients of {@code listenerName} should use to reach this node (the first one for others). */
    Endpoint advertisedFor(String listenerName);
}
