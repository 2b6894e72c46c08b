package io.gregor.replication;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.message.OffsetForLeaderEpochRequestData;
import org.apache.kafka.common.message.OffsetForLeaderEpochResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.MemoryRecords;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The follower side of replication: one fetcher thread per leader node copies the partitions this node follows from
 * that leader, with Kafka's Fetch (replica id set) and OffsetForLeaderEpoch requests.
 *
 * <p>A partition that starts following (a new leader or leader epoch) is first truncated to where its log and the
 * leader's agree (KIP-279: the leader's end offset of this log's latest epoch, or of the largest earlier epoch the
 * leader has); then it is fetched from its log end. Fetched batches are appended with the leader's offsets and epochs
 * and fsynced before the next fetch, so a fetch offset tells the leader what the follower holds durably: acks=all
 * counts a follower only for what survives its power loss. Fetches go in an incremental fetch session with each leader
 * (KIP-227, {@link FollowerFetchSession}): only partitions whose position moved are named.
 */
public final class ReplicaFetcherManager implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ReplicaFetcherManager.class);

    /** How this node reaches a leader. */
    public interface LeaderEndpoint {
        CompletableFuture<FetchResponseData> fetch(int leaderId, FetchRequestData request);

        CompletableFuture<OffsetForLeaderEpochResponseData> epochEnds(int leaderId, OffsetForLeaderEpochRequestData request);
    }

    /**
     * Fetch settings (Kafka's replica.fetch.* properties).
     *
     * @param maxWaitMs       replica.fetch.wait.max.ms
     * @param partitionBytes  replica.fetch.max.bytes
     * @param responseBytes   replica.fetch.response.max.bytes
     * @param backoffMs       replica.fetch.backoff.ms, after an error
     */
    public record Settings(int maxWaitMs, int partitionBytes, int responseBytes, long backoffMs) {
    }

    private final int nodeId;
    private final ReplicaManager replicas;
    private final LeaderEndpoint endpoint;
    private final Settings settings;
    private final Map<Integer, Fetcher> fetchers = new ConcurrentHashMap<>();
    private final Map<Partition, Integer> following = new ConcurrentHashMap<>();
    private volatile boolean closed;

    public ReplicaFetcherManager(int nodeId, ReplicaManager replicas, LeaderEndpoint endpoint, Settings settings) {
        this.nodeId = nodeId;
        this.replicas = replicas;
        this.endpoint = endpoint;
        this.settings = settings;
    }

    /** Follows {@code partition} from node {@code leaderId} for the partition's current leader epoch. */
    public synchronized void follow(Partition partition, int leaderId) {
        if (closed) {
            return;
        }
        Integer previous = following.put(partition, leaderId);
        if (previous != null && previous != leaderId) {
            Fetcher old = fetchers.get(previous);
            if (old != null) {
                old.remove(partition);
            }
        }
        fetchers.computeIfAbsent(leaderId, Fetcher::new).add(partition);
    }

    /** Stops following {@code partition} (this node leads it now, or holds it no more). */
    public synchronized void stopFollowing(Partition partition) {
        Integer leader = following.remove(partition);
        if (leader != null) {
            Fetcher fetcher = fetchers.get(leader);
            if (fetcher != null) {
                fetcher.remove(partition);
            }
        }
    }

    /** The partitions currently followed, with their leaders (for status and tests). */
    public Map<Partition, Integer> following() {
        return Map.copyOf(following);
    }

    @Override
    public synchronized void close() {
        closed = true;
        fetchers.values().forEach(Fetcher::shutdown);
        fetchers.clear();
        following.clear();
    }

    /**
     * Where a follower's log must be truncated to (KIP-279), given the leader's OffsetForLeaderEpoch answer for this
     * log's latest epoch: the leader's end offset of that epoch when the leader knows it, else of the largest earlier
     * epoch the leader has, capped by where this log's own copy of that epoch ends; the log start when the leader
     * knows no epoch of this log. At or past the log end: nothing to truncate.
     */
    public static long truncationOffset(io.gregor.storage.Log partitionLog, int leaderEpochOfAnswer, long leaderEndOffset) {
        if (leaderEpochOfAnswer < 0 || leaderEndOffset < 0) {
            return partitionLog.logStartOffset();
        }
        if (leaderEpochOfAnswer == partitionLog.latestEpoch()) {
            return Math.min(leaderEndOffset, partitionLog.logEndOffset());
        }
        long ownEnd = partitionLog.endOffsetForEpoch(leaderEpochOfAnswer).endOffset();
        return Math.min(leaderEndOffset, ownEnd < 0 ? partitionLog.logStartOffset() : ownEnd);
    }

    /** A followed partition: whether it must first truncate, for which leader epoch. */
    private static final class Followed {
        final Partition partition;
        final int leaderEpoch;
        volatile boolean truncated;

        Followed(Partition partition) {
            this.partition = partition;
            this.leaderEpoch = partition.leaderEpoch();
        }
    }

    /** The fetcher thread of one leader. */
    private final class Fetcher implements Runnable {
        private final int leaderId;
        private final Map<Partition, Followed> partitions = new ConcurrentHashMap<>();
        private final FollowerFetchSession session = new FollowerFetchSession();
        private final Thread thread;
        private volatile boolean running = true;

        Fetcher(int leaderId) {
            this.leaderId = leaderId;
            this.thread = Thread.ofPlatform().daemon().name("gregor-replica-fetcher-" + leaderId).start(this);
        }

        void add(Partition partition) {
            Followed current = partitions.get(partition);
            if (current == null || current.leaderEpoch != partition.leaderEpoch()) {
                partitions.put(partition, new Followed(partition));
            }
            java.util.concurrent.locks.LockSupport.unpark(thread);
        }

        void remove(Partition partition) {
            partitions.remove(partition);
        }

        void shutdown() {
            running = false;
            thread.interrupt();
        }

        @Override
        public void run() {
            while (running) {
                try {
                    if (partitions.isEmpty()) {
                        java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
                        continue;
                    }
                    truncatePending();
                    fetchOnce();
                } catch (InterruptedException e) {
                    return;
                } catch (Exception e) {
                    if (!running) {
                        return;
                    }
                    log.debug("Fetch from node {} failed: {}", leaderId, e.toString());
                    backoff();
                }
            }
        }

        private void backoff() {
            java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(settings.backoffMs()));
        }

        /** KIP-279 truncation of every partition that started following and has not truncated yet. */
        private void truncatePending() throws Exception {
            List<Followed> pending = partitions.values().stream().filter(f -> !f.truncated).toList();
            if (pending.isEmpty()) {
                return;
            }
            OffsetForLeaderEpochRequestData request = new OffsetForLeaderEpochRequestData().setReplicaId(nodeId);
            Map<String, OffsetForLeaderEpochRequestData.OffsetForLeaderTopic> byTopic = new java.util.LinkedHashMap<>();
            List<Followed> asked = new ArrayList<>();
            for (Followed f : pending) {
                int latest = f.partition.log().latestEpoch();
                if (latest < 0) {
                    f.truncated = true; // an empty log (or one without epochs) has nothing to disagree about
                    continue;
                }
                byTopic.computeIfAbsent(f.partition.topic(), t -> new OffsetForLeaderEpochRequestData.OffsetForLeaderTopic()
                        .setTopic(t)).partitions().add(new OffsetForLeaderEpochRequestData.OffsetForLeaderPartition()
                        .setPartition(f.partition.index()).setCurrentLeaderEpoch(f.leaderEpoch).setLeaderEpoch(latest));
                asked.add(f);
            }
            if (asked.isEmpty()) {
                return;
            }
            byTopic.values().forEach(t -> request.topics().add(t));
            OffsetForLeaderEpochResponseData response = endpoint.epochEnds(leaderId, request).get(30, TimeUnit.SECONDS);
            for (Followed f : asked) {
                var topic = response.topics().find(f.partition.topic());
                var answer = topic == null ? null : topic.partitions().stream()
                        .filter(p -> p.partition() == f.partition.index()).findFirst().orElse(null);
                if (answer == null || answer.errorCode() != Errors.NONE.code()) {
                    continue; // the leader is not ready for this epoch yet: asked again next round
                }
                truncate(f.partition, answer.leaderEpoch(), answer.endOffset());
                f.truncated = true;
            }
        }

        private void truncate(Partition partition, int leaderEpochOfAnswer, long leaderEndOffset) {
            var partitionLog = partition.log();
            long target = truncationOffset(partitionLog, leaderEpochOfAnswer, leaderEndOffset);
            if (target < partitionLog.logEndOffset()) {
                log.info("Partition {}: truncating from {} to {} to match leader node {}", partition,
                        partitionLog.logEndOffset(), target, leaderId);
                partitionLog.truncateTo(target);
            }
        }

        private void fetchOnce() throws Exception {
            FetchRequestData request = new FetchRequestData().setReplicaId(nodeId).setMaxWaitMs(settings.maxWaitMs())
                    .setMinBytes(1).setMaxBytes(settings.responseBytes()).setIsolationLevel((byte) 0);
            Map<String, List<FetchRequestData.FetchPartition>> byTopic = new java.util.LinkedHashMap<>();
            Map<String, Followed> asked = new java.util.HashMap<>();
            for (Followed f : partitions.values()) {
                if (!f.truncated) {
                    continue;
                }
                Partition p = f.partition;
                if (p.followerThrottled() && !p.inSync(nodeId) && replicas.followerQuota().isExceeded()) {
                    continue; // follower.replication.throttled.rate: fetched again once the rate is below it
                }
                if (p.log().flushedOffset() < p.log().logEndOffset()) {
                    // What a fetch offset claims must be durable: sync anything left unsynced (after a restart).
                    p.log().flush();
                }
                byTopic.computeIfAbsent(p.topic(), t -> new ArrayList<>())
                        .add(new FetchRequestData.FetchPartition().setPartition(p.index())
                                .setFetchOffset(p.log().logEndOffset()).setCurrentLeaderEpoch(f.leaderEpoch)
                                .setLastFetchedEpoch(p.log().latestEpoch()).setLogStartOffset(p.log().logStartOffset())
                                .setPartitionMaxBytes(settings.partitionBytes()));
                asked.put(p.topic() + "-" + p.index(), f);
            }
            if (asked.isEmpty()) {
                // Only partitions still agreeing on an offset with a leader that may not know its new epoch yet:
                // ask again soon rather than after a whole error backoff (this is on the failover path).
                java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(
                        Math.min(50, Math.max(1, settings.backoffMs()))));
                return;
            }
            session.build(request, byTopic);
            FetchResponseData response;
            try {
                response = endpoint.fetch(leaderId, request).get(settings.maxWaitMs() + 30_000L, TimeUnit.MILLISECONDS);
            } catch (Exception e) {
                session.reset();
                throw e;
            }
            session.onResponse(response);
            Errors responseError = Errors.forCode(response.errorCode());
            // A lost or out-of-turn session is no reason to wait: the next fetch, a full one, opens a new session.
            boolean anyError = responseError != Errors.NONE && responseError != Errors.FETCH_SESSION_ID_NOT_FOUND
                    && responseError != Errors.INVALID_FETCH_SESSION_EPOCH;
            for (FetchResponseData.FetchableTopicResponse topic : response.responses()) {
                for (FetchResponseData.PartitionData data : topic.partitions()) {
                    Followed f = asked.get(topic.topic() + "-" + data.partitionIndex());
                    if (f == null || partitions.get(f.partition) != f) {
                        continue; // no longer followed meanwhile
                    }
                    Errors error = Errors.forCode(data.errorCode());
                    if (error != Errors.NONE) {
                        anyError = true;
                        if (error == Errors.OFFSET_OUT_OF_RANGE && data.logStartOffset() >= 0
                                && f.partition.log().logEndOffset() < data.logStartOffset()) {
                            // The leader no longer has what this log ends at (retention, DeleteRecords): start over
                            // where the leader's log starts.
                            log.info("Partition {}: log end {} is below the log start {} of leader node {}; starting"
                                    + " over there", f.partition, f.partition.log().logEndOffset(),
                                    data.logStartOffset(), leaderId);
                            f.partition.log().truncateFullyAndStartAt(data.logStartOffset());
                            continue;
                        }
                        if (error == Errors.OFFSET_OUT_OF_RANGE) {
                            f.truncated = false; // the logs diverged: agree on an offset again
                        }
                        log.debug("Fetch of {} from node {}: {}", f.partition, leaderId, error);
                        continue;
                    }
                    ByteBuffer records = data.records() instanceof MemoryRecords m ? m.buffer() : null;
                    if (records != null && f.partition.followerThrottled() && !f.partition.inSync(nodeId)) {
                        replicas.followerQuota().record(records.remaining());
                    }
                    try {
                        replicas.appendAsFollower(f.partition, records, data.highWatermark(), data.logStartOffset());
                    } catch (RuntimeException e) {
                        log.warn("Partition {}: cannot append what node {} sent ({}); agreeing on an offset again",
                                f.partition, leaderId, e.getMessage());
                        f.truncated = false;
                        anyError = true;
                    }
                }
            }
            if (anyError) {
                backoff();
            }
        }
    }
}
