package io.gregor.broker.handlers;

import io.gregor.broker.config.Endpoint;

/** What handlers need to know about the node they run on: its id, its cluster, and how clients reach it. */
public interface LocalNode {
    int nodeId();

    /** The cluster id agreed in the metadata log (or configured before the first start). */
    String clusterId();

    /** The active controller's node id (this node's while there is none registered), as Metadata reports it. */
    int controllerId();

    /** A node as clients of one listener reach it. */
    record BrokerAddress(int id, String host, int port, String rack) {
    }

    /**
     * The unfenced registered nodes with an endpoint on {@code listenerName}, by id; this node alone while nothing
     * is registered yet.
     */
    java.util.List<BrokerAddress> liveBrokers(String listenerName);

    /** The fenced registered nodes with an endpoint on {@code listenerName} (DescribeCluster v2 may ask for them). */
    java.util.List<BrokerAddress> fencedBrokers(String listenerName);

    /** Node {@code id} as clients of {@code listenerName} reach it, or null when it is unknown, fenced or lacks it. */
    default BrokerAddress broker(int id, String listenerName) {
        return liveBrokers(listenerName).stream().filter(b -> b.id() == id).findFirst().orElse(null);
    }

    /** The endpoint clients of {@code listenerName} should use to reach this node (the first one for others). */
    Endpoint advertisedFor(String listenerName);
}
