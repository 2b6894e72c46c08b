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
     * @param durableEnd          its log end offset at its last fetch, which it has fsynced (followers fetch again only
     *                            after syncing what they appended)
     * @param caughtUpMs          the last time it had everything the leader had: at a fetch from the leader's log end,
     *                            or at the previous fetch when this one starts at what the leader's log end was then
     *                            (a follower that keeps up under steady appends is never at the very end)
     * @param lastFetchLeaderEnd  the leader's log end at its last fetch
     * @param lastFetchMs         the time of its last fetch
     */
    public record Follower(long durableEnd, long caughtUpMs, long lastFetchLeaderEnd, long lastFetchMs) {
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

    /** A partition over {@code log}; the replica manager makes them ({@link ReplicaManager#addPartition}), tests too. */
    public Partition(String topic, Uuid topicId, int index, Log log, State state, int minInsyncReplicas) {
        this.topic = topic;
        this.topicId = topicId;
        this.index = index;
        this.log = log;
        this.state = state;
        this.minInsyncReplicas = minInsyncReplicas;
        // As after a leadership change: the ISR members get replica.lag.time.max.ms from now to show up (a partition
        // created led by this node would otherwise find its followers lagging before they could first fetch).
        seedFollowers(state, System.currentTimeMillis());
    }

    private void seedFollowers(State next, long nowMs) {
        followers.clear();
        for (int replica : next.replicas()) {
            if (replica != next.leaderId()) {
                followers.put(replica, new Follower(-1, next.isr().contains(replica) ? nowMs : -1, -1, -1));
            }
        }
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
            seedFollowers(next, nowMs);
        }
        if (next.partitionEpoch() != previous.partitionEpoch()) {
            pendingIsr = null;
            resendPendingIsrAtMs = -1;
        }
        this.state = next;
    }

    public void updateState(State next) {
        updateState(next, System.currentTimeMillis());
    }

    /** On the leader: records a follower's fetch from {@code fetchOffset}; {@code leaderEnd} is the leader's log end. */
    public void recordFollowerFetch(int replicaId, long fetchOffset, long leaderEnd, long nowMs) {
        followers.compute(replicaId, (id, was) -> {
            long caughtUp;
            if (fetchOffset >= leaderEnd) {
                caughtUp = nowMs;
            } else if (was != null && was.lastFetchLeaderEnd() >= 0 && fetchOffset >= was.lastFetchLeaderEnd()) {
                caughtUp = Math.max(was.caughtUpMs(), was.lastFetchMs());
            } else {
                caughtUp = was == null ? -1 : was.caughtUpMs();
            }
            return new Follower(fetchOffset, caughtUp, leaderEnd, nowMs);
        });
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

    /** When an ISR change whose outcome is unknown is sent again (-1: none is due). */
    private volatile long resendPendingIsrAtMs = -1;

    /**
     * On the leader, a proposed ISR change was not confirmed ({@code error} from the controller, or null when no answer
     * came). Only a refusal that says the change was not made and the state is current (INELIGIBLE_REPLICA,
     * INVALID_REQUEST, OPERATION_NOT_ATTEMPTED) drops the proposal, and a new one waits {@code backoffMs}. A stale
     * epoch or a lost leadership keeps it until the metadata brings the registration that replaced it. An unknown
     * outcome (no answer, a timeout, another controller) keeps it too and sends it again after {@code backoffMs}:
     * the change may have been made, and until the metadata says, the high watermark must count both ISRs.
     */
    public void onIsrChangeFailed(Errors error, long nowMs, long backoffMs) {
        if (error == Errors.INELIGIBLE_REPLICA || error == Errors.INVALID_REQUEST || error == Errors.OPERATION_NOT_ATTEMPTED) {
            pendingIsr = null;
            isrRetryAfterMs = nowMs + backoffMs;
        } else if (error == Errors.FENCED_LEADER_EPOCH || error == Errors.INVALID_UPDATE_VERSION
                || error == Errors.NOT_LEADER_OR_FOLLOWER || error == Errors.UNKNOWN_TOPIC_OR_PARTITION) {
            resendPendingIsrAtMs = -1;
        } else {
            resendPendingIsrAtMs = nowMs + backoffMs;
        }
    }

    /** The pending ISR change to send again now (its outcome is unknown and its backoff passed), or null. */
    public List<Integer> pendingIsrToResend(long nowMs) {
        List<Integer> pending = pendingIsr;
        long at = resendPendingIsrAtMs;
        if (pending == null || at < 0 || nowMs < at) {
            return null;
        }
        resendPendingIsrAtMs = -1;
        return pending;
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

    /**
     * A replicated partition opened at start cannot know how much of its log is committed: what it holds durably may
     * include records its followers never had. Its high watermark goes back to the log start (consumers see nothing
     * they might lose), and the ISR raises it again as it fetches. A single replica keeps its durable end.
     */
    public void forgetHighWatermarkIfReplicated() {
        if (state.replicas().size() > 1) {
            synchronized (log) {
                log.updateHighWatermark(log.logStartOffset());
            }
        }
    }

    /**
     * On the leader: moves the high watermark to {@link #isrDurableEnd} of the log's flushed offset, never backwards;
     * whether it moved (what waits on it may then complete).
     */
    public boolean maybeAdvanceHighWatermark() {
        // Flushes and follower fetches report from several threads: only ever move the HW forward.
        synchronized (log) {
            long candidate = isrDurableEnd(log.flushedOffset());
            if (candidate > log.highWatermark()) {
                log.updateHighWatermark(candidate);
                return true;
            }
            return false;
        }
    }

    /**
     * On the leader, after follower {@code replicaId} fetched from {@code fetchOffset}: the ISR to propose with it
     * added when it has caught up with the high watermark, is not in the ISR (nor being added) and no change is pending
     * or was refused within the retry backoff; null otherwise.
     */
    public List<Integer> isrWithCaughtUpFollower(int replicaId, long fetchOffset, long nowMs) {
        if (maximalIsr().contains(replicaId) || hasPendingIsr() || fetchOffset < highWatermark() || nowMs < isrRetryAfterMs) {
            return null;
        }
        List<Integer> expanded = new java.util.ArrayList<>(state.isr());
        expanded.add(replicaId);
        return expanded;
    }

    /**
     * On the leader {@code nodeId}: the ISR to propose without the followers that have not been caught up for
     * {@code lagMs} (replica.lag.time.max.ms); null when none lags, this node does not lead, or a change is pending or
     * was refused within the retry backoff.
     */
    public List<Integer> isrWithoutLaggingFollowers(int nodeId, long nowMs, long lagMs) {
        if (!isLeader(nodeId) || hasPendingIsr() || nowMs < isrRetryAfterMs) {
            return null;
        }
        List<Integer> isr = state.isr();
        List<Integer> kept = new java.util.ArrayList<>();
        for (int replica : isr) {
            Follower f = replica == nodeId ? null : followers.get(replica);
            boolean lagging = replica != nodeId && (f == null || nowMs - f.caughtUpMs() > lagMs);
            if (!lagging) {
                kept.add(replica);
            }
        }
        return kept.size() < isr.size() ? kept : null;
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
