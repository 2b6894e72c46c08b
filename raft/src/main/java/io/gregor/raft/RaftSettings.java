package io.gregor.raft;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * Settings of the metadata log of one node.
 *
 * @param dir                  directory holding the Raft log, snapshots and {@code meta.properties};
 *                             created if missing
 * @param nodeId               this node's id; the Raft peer id is {@code "n" + nodeId}; must not
 *                             change for an existing {@code dir}
 * @param host                 address the Raft RPC server binds to and advertises
 * @param port                 Raft RPC port; 0 picks an ephemeral port (fine for a single node)
 * @param snapshotEveryEntries take a snapshot (and purge the log before it) every this many applied
 *                             entries
 * @param startTimeout         how long {@link RaftMetadataLog#start()} waits for leadership and replay
 */
public record RaftSettings(
        Path dir, int nodeId, String host, int port, long snapshotEveryEntries, Duration startTimeout) {

    public static final int DEFAULT_NODE_ID = 1;
    public static final String DEFAULT_HOST = "127.0.0.1";
    public static final long DEFAULT_SNAPSHOT_EVERY_ENTRIES = 10_000;
    public static final Duration DEFAULT_START_TIMEOUT = Duration.ofSeconds(10);

    public RaftSettings {
        Objects.requireNonNull(dir, "dir");
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(startTimeout, "startTimeout");
        if (nodeId < 0) {
            throw new IllegalArgumentException("nodeId must be >= 0: " + nodeId);
        }
        if (port < 0 || port > 65_535) {
            throw new IllegalArgumentException("port must be in [0, 65535]: " + port);
        }
        if (snapshotEveryEntries < 1) {
            throw new IllegalArgumentException("snapshotEveryEntries must be >= 1: " + snapshotEveryEntries);
        }
        if (startTimeout.isNegative() || startTimeout.isZero()) {
            throw new IllegalArgumentException("startTimeout must be positive: " + startTimeout);
        }
    }

    /** Node 1 on 127.0.0.1, ephemeral port, the default snapshot interval and start timeout. */
    public static RaftSettings singleNode(Path dir) {
        return new RaftSettings(
                dir, DEFAULT_NODE_ID, DEFAULT_HOST, 0, DEFAULT_SNAPSHOT_EVERY_ENTRIES, DEFAULT_START_TIMEOUT);
    }
}
