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
    /** On the leader: what each follower has durably (its last fetch offset), and when it was last caught up. */
    private final java.util.Map<Integer, Follower> followers = new java.util.concurrent.ConcurrentHashMap<>();
    /** On the leader: the ISR proposed to the controller and not yet committed, null when none is pending. */
    private volatile List<Integer> pendingIsr;

    /**
     * A follower as its leader sees it.
     *
     * @param durableEnd   its log end offset at its last fetch, which it has fsynced (followers fetch again only after
     *                     syncing what they appended)
     * @param caughtUpMs   the last time it had everything the leader had when it fetched
     */
    public record Follower(long durableEnd, long caughtUpMs) {
    }

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

    /**
     * Replaces the replication state. When this node became leader for a new epoch, every other replica starts unknown
     * (caught up as of now if it is in the ISR, so it gets {@code replica.lag.time.max.ms} to show up); a pending ISR
     * change ends with a new partition epoch.
     */
    public void updateState(State next, long nowMs) {
        State previous = this.state;
        if (next.leaderEpoch() != previous.leaderEpoch() || next.leaderId() != previous.leaderId()) {
            followers.clear();
            for (int replica : next.replicas()) {
                if (replica != next.leaderId()) {
                    followers.put(replica, new Follower(-1, next.isr().contains(replica) ? nowMs : -1));
                }
            }
        }
        if (next.partitionEpoch() != previous.partitionEpoch()) {
            pendingIsr = null;
        }
        this.state = next;
    }

    public void updateState(State next) {
        updateState(next, System.currentTimeMillis());
    }

    /** On the leader: records a follower's fetch from {@code fetchOffset}; {@code leaderEnd} is the leader's log end. */
    public void recordFollowerFetch(int replicaId, long fetchOffset, long leaderEnd, long nowMs) {
        followers.compute(replicaId, (id, was) -> new Follower(fetchOffset,
                fetchOffset >= leaderEnd ? nowMs : was == null ? -1 : was.caughtUpMs()));
    }

    public Follower follower(int replicaId) {
        return followers.get(replicaId);
    }

    /**
     * The ISR that acks=all and the high watermark go by: the committed ISR, or while a change is pending, the larger
     * of it and the proposed one (a follower being added counts at once, one being removed until the removal is
     * committed), so the high watermark never passes what a member of either ISR lacks.
     */
    public List<Integer> maximalIsr() {
        List<Integer> pending = pendingIsr;
        if (pending == null) {
            return state.isr();
        }
        java.util.LinkedHashSet<Integer> union = new java.util.LinkedHashSet<>(state.isr());
        union.addAll(pending);
        return List.copyOf(union);
    }

    public void setPendingIsr(List<Integer> proposed) {
        this.pendingIsr = proposed == null ? null : List.copyOf(proposed);
    }

    private volatile long isrRetryAfterMs;

    /** Before this time no ISR change is proposed (one was just refused). */
    public long isrRetryAfterMs() {
        return isrRetryAfterMs;
    }

    public void setIsrRetryAfterMs(long ms) {
        this.isrRetryAfterMs = ms;
    }

    public boolean hasPendingIsr() {
        return pendingIsr != null;
    }

    /**
     * On the leader: the high watermark the replicas allow, the lowest durable end over the maximal ISR
     * ({@code leaderDurable} for this node); -1 while a member has not fetched yet.
     */
    public long isrDurableEnd(long leaderDurable) {
        long min = leaderDurable;
        for (int replica : maximalIsr()) {
            if (replica == state.leaderId()) {
                continue;
            }
            Follower f = followers.get(replica);
            long end = f == null ? -1 : f.durableEnd();
            min = Math.min(min, end);
        }
        return min;
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

    private volatile boolean leaderThrottled;
    private volatile boolean followerThrottled;

    /**
     * Whether replication of this partition on this node counts against the node's replication throttles (the
     * topic's leader.replication.throttled.replicas and follower.replication.throttled.replicas name it here).
     */
    public void setThrottled(boolean asLeader, boolean asFollower) {
        this.leaderThrottled = asLeader;
        this.followerThrottled = asFollower;
    }

    public boolean leaderThrottled() {
        return leaderThrottled;
    }

    public boolean followerThrottled() {
        return followerThrottled;
    }

    /** Whether {@code replicaId} is in the ISR. */
    public boolean inSync(int replicaId) {
        return state.isr().contains(replicaId);
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
