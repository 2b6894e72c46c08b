package io.gregor.raft;

import java.util.Objects;

/**
 * A voting member of the metadata quorum, as one entry of {@code controller.quorum.voters} ({@code id@host:port}):
 * the node id and the address its Raft server listens on (the CONTROLLER listener).
 */
public record RaftVoter(int nodeId, String host, int port) {
    public RaftVoter {
        Objects.requireNonNull(host, "host");
        if (nodeId < 0) {
            throw new IllegalArgumentException("nodeId must be >= 0: " + nodeId);
        }
        if (port < 0 || port > 65_535) {
            throw new IllegalArgumentException("port must be in [0, 65535]: " + port);
        }
    }

    /** The Ratis peer id of node {@code nodeId}. */
    static String peerId(int nodeId) {
        return "n" + nodeId;
    }

    /** The node id of a Ratis peer id made by {@link #peerId}, or -1 for any other. */
    static int nodeIdOf(String peerId) {
        if (peerId == null || peerId.length() < 2 || peerId.charAt(0) != 'n') {
            return -1;
        }
        try {
            return Integer.parseInt(peerId.substring(1));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    String address() {
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }
}
