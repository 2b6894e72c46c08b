package io.gregor.raft;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
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
 * @param startTimeout         how long {@link RaftMetadataLog#start()} waits for a leader and replay
 * @param voters               the voting members of the quorum; empty for a single node (this node alone, on
 *                             {@code host:port}). When not empty it must name this node, on {@code host:port}
 * @param electionTimeout      how long a follower waits without hearing from a leader before it starts an election
 *                             (a multi-voter quorum only; Kafka's {@code controller.quorum.election.timeout.ms})
 * @param observer             true for a node that receives the log without voting (Kafka's {@code process.roles=broker},
 *                             a Ratis listener): it must not be one of {@code voters}, asks the quorum at every start to
 *                             list it as a listener (unless AddRaftVoter has made it a voter since) and never leads
 * @param bootstrapServers     {@code host:port} of voters' Raft servers, ids unknown (Kafka's
 *                             {@code controller.quorum.bootstrap.servers}): where an observer learns the quorum's
 *                             current voters; used besides the addresses of {@code voters}
 */
public record RaftSettings(
        Path dir, int nodeId, String host, int port, long snapshotEveryEntries, Duration startTimeout,
        List<RaftVoter> voters, Duration electionTimeout, boolean observer, List<String> bootstrapServers) {

    public static final Duration DEFAULT_ELECTION_TIMEOUT = Duration.ofSeconds(1);

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
        voters = List.copyOf(Objects.requireNonNull(voters, "voters"));
        Objects.requireNonNull(electionTimeout, "electionTimeout");
        if (electionTimeout.toMillis() < 10) {
            throw new IllegalArgumentException("electionTimeout must be at least 10 ms: " + electionTimeout);
        }
        bootstrapServers = List.copyOf(Objects.requireNonNull(bootstrapServers, "bootstrapServers"));
        if (observer) {
            List<RaftVoter> all = voters;
            if (voters.stream().anyMatch(v -> v.nodeId() == nodeId)) {
                throw new IllegalArgumentException("node " + nodeId + " observes the quorum, so it cannot be one of its "
                        + "voters " + all);
            }
            if (voters.isEmpty() && bootstrapServers.isEmpty()) {
                throw new IllegalArgumentException("node " + nodeId + " observes the quorum but knows no voter: give "
                        + "the voters or bootstrap servers");
            }
        } else if (!voters.isEmpty()) {
            List<RaftVoter> all = voters;
            RaftVoter self = all.stream().filter(v -> v.nodeId() == nodeId).findFirst().orElseThrow(
                    () -> new IllegalArgumentException("node " + nodeId + " is not one of the voters " + all));
            if (self.port() != port) {
                throw new IllegalArgumentException("node " + nodeId + " listens on port " + port
                        + " but the voters list gives it port " + self.port());
            }
            if (voters.stream().map(RaftVoter::nodeId).distinct().count() != voters.size()) {
                throw new IllegalArgumentException("a node id appears twice in the voters " + voters);
            }
        }
    }

    /** A voter (or a single node when {@code voters} is empty). */
    public RaftSettings(Path dir, int nodeId, String host, int port, long snapshotEveryEntries, Duration startTimeout,
                        List<RaftVoter> voters, Duration electionTimeout) {
        this(dir, nodeId, host, port, snapshotEveryEntries, startTimeout, voters, electionTimeout, false, List.of());
    }

    /** A single node: this node is the only voter. */
    public RaftSettings(Path dir, int nodeId, String host, int port, long snapshotEveryEntries, Duration startTimeout) {
        this(dir, nodeId, host, port, snapshotEveryEntries, startTimeout, List.of(), DEFAULT_ELECTION_TIMEOUT);
    }

    /** True when the quorum has other members than this node: other voters, or this node observes it. */
    public boolean multiVoter() {
        return observer || voters.size() > 1;
    }

    /** The voters, this node alone on {@code host:port} for a single node (never for an observer). */
    public List<RaftVoter> effectiveVoters() {
        return voters.isEmpty() && !observer ? List.of(new RaftVoter(nodeId, host, port)) : voters;
    }

    /** Node 1 on 127.0.0.1, ephemeral port, the default snapshot interval and start timeout. */
    public static RaftSettings singleNode(Path dir) {
        return new RaftSettings(
                dir, DEFAULT_NODE_ID, DEFAULT_HOST, 0, DEFAULT_SNAPSHOT_EVERY_ENTRIES, DEFAULT_START_TIMEOUT);
    }
}
