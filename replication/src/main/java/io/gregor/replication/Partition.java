package io.gregor.replication;

import io.gregor.storage.Log;
import java.util.List;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.protocol.Errors;

/**
 * A partition this node hosts: its log and its replication state. The log keeps the three offsets apart: log end
 * offset (appended), flushed offset (durable) and high watermark (visible to consumers).
 *
 * <p>The state has the shape Kafka's partition state has (leader, leader epoch, partition epoch, replicas, ISR) so
 * that the cluster can fill it: on a single node this node leads, alone in the ISR, and the high watermark follows
 * the durable end. Only the replica manager and the broker's partition lifecycle touch the log; request handlers go
 * through the {@link ReplicaManager}.
 */
public final class Partition {
    private final String topic;
    private final Uuid topicId;
    private final int index;
    private final Log log;
    private volatile State state;
    private volatile int minInsyncReplicas;
    private volatile String compressionType = Recompression.PRODUCER;

    /**
     * The replication state, replaced as a whole when it changes.
     *
     * @param leaderId the node that leads the partition
     * @param leaderEpoch bumped at each leader change; requests with another epoch are fenced
     * @param partitionEpoch bumped at each change of the state (ISR, replicas)
     * @param replicas the nodes that hold a replica
     * @param isr the replicas in sync with the leader (acks=all waits for them)
     */
    public record State(int leaderId, int leaderEpoch, int partitionEpoch, List<Integer> replicas, List<Integer> isr) {
        public State {
            replicas = List.copyOf(replicas);
            isr = List.copyOf(isr);
        }

        /** This node leads alone (a single node). */
        public static State soleLeader(int nodeId, int leaderEpoch) {
            return new State(nodeId, leaderEpoch, 0, List.of(nodeId), List.of(nodeId));
        }
    }

    Partition(String topic, Uuid topicId, int index, Log log, State state, int minInsyncReplicas) {
        this.topic = topic;
        this.topicId = topicId;
        this.index = index;
        this.log = log;
        this.state = state;
        this.minInsyncReplicas = minInsyncReplicas;
    }

    public String topic() {
        return topic;
    }

    public Uuid topicId() {
        return topicId;
    }

    public int index() {
        return index;
    }

    /** The log; for the replica manager, the partition lifecycle and the coordinators' loaders, never for handlers. */
    public Log log() {
        return log;
    }

    public State state() {
        return state;
    }

    public void updateState(State next) {
        this.state = next;
    }

    /** Whether node {@code nodeId} leads this partition (appends and client reads go to the leader only). */
    public boolean isLeader(int nodeId) {
        return state.leaderId() == nodeId;
    }

    public int leaderEpoch() {
        return state.leaderEpoch();
    }

    /** NONE when a request's leader epoch is unknown (-1) or current; FENCED_LEADER_EPOCH or UNKNOWN_LEADER_EPOCH. */
    public Errors checkLeaderEpoch(int requestEpoch) {
        int current = leaderEpoch();
        if (requestEpoch < 0 || requestEpoch == current) {
            return Errors.NONE;
        }
        return requestEpoch < current ? Errors.FENCED_LEADER_EPOCH : Errors.UNKNOWN_LEADER_EPOCH;
    }

    public int minInsyncReplicas() {
        return minInsyncReplicas;
    }

    /** The topic's {@code compression.type}: {@code producer} or the codec produced batches are stored with. */
    public String compressionType() {
        return compressionType;
    }

    /** Applies the topic settings the replica manager enforces (min.insync.replicas, compression.type). */
    public void updateConfig(int minInsyncReplicas, String compressionType) {
        this.minInsyncReplicas = minInsyncReplicas;
        this.compressionType = compressionType;
    }

    /** Replicas currently in sync. */
    public int isrSize() {
        return state.isr().size();
    }

    public long sizeInBytes() {
        return log.sizeInBytes();
    }

    public long logStartOffset() {
        return log.logStartOffset();
    }

    public long highWatermark() {
        return log.highWatermark();
    }

    public long logEndOffset() {
        return log.logEndOffset();
    }

    @Override
    public String toString() {
        return topic + "-" + index;
    }
}
