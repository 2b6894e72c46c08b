package io.gregor.broker.handlers;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.LongSupplier;
import org.apache.kafka.common.Uuid;

/**
 * Incremental fetch sessions (KIP-227, Fetch v7+). A client that opens a session (session id 0, epoch 0) sends its
 * whole partition list once; its next fetches (that session id, the next epoch) name only the partitions whose fetch
 * offset or limits changed and the ones it forgets, and the answer lists only the partitions with something new:
 * records, an error, or a moved high watermark, last stable offset or log start offset. The session remembers the
 * rest.
 *
 * <p>Bounded by {@code max.incremental.fetch.session.cache.slots} sessions. When every slot is taken, a new session
 * takes the slot of the least recently used one that has been idle for {@value #EVICTION_MS} ms, or else of the
 * smallest one if the new one is larger (a follower's session counts as larger than any consumer's); otherwise the
 * client is answered without a session (session id 0) and goes on with full fetches, as Kafka's clients do.
 *
 * <p>Thread-safety: thread-safe; one session is used by one request at a time (a client waits for each answer).
 */
public final class FetchSessionCache {

    /** The epoch of a fetch that opens a session. */
    public static final int INITIAL_EPOCH = 0;
    /** The epoch of a fetch without a session (closing the one named, if any). */
    public static final int FINAL_EPOCH = -1;
    /** How long a session must have been idle before a new one may take its slot (Kafka's default). */
    static final long EVICTION_MS = 120_000L;

    /** A session's key for a partition: the topic id when the session is by id (v13+), else the name. */
    record Key(Uuid topicId, String topic, int partition) {}

    /** One partition of a session: what its client last asked for, and what it was last told. */
    static final class CachedPartition {
        final Key key;
        long fetchOffset;
        int maxBytes;
        int currentLeaderEpoch;
        long highWatermark = -1;
        long lastStableOffset = -1;
        long logStartOffset = -1;

        CachedPartition(Key key, long fetchOffset, int maxBytes, int currentLeaderEpoch) {
            this.key = key;
            update(fetchOffset, maxBytes, currentLeaderEpoch);
        }

        void update(long offset, int bytes, int leaderEpoch) {
            fetchOffset = offset;
            maxBytes = bytes;
            currentLeaderEpoch = leaderEpoch;
        }

        /**
         * Whether an incremental answer must carry this partition, remembering what it is told. An error always
         * counts, and forgets the high watermark so the partition is sent again once the error is gone.
         */
        boolean mustRespond(boolean hasRecords, boolean hasError, long hw, long lso, long logStart) {
            boolean changed = hasRecords || hasError || hw != highWatermark || lso != lastStableOffset
                    || logStart != logStartOffset;
            highWatermark = hasError ? -1 : hw;
            lastStableOffset = lso;
            logStartOffset = logStart;
            return changed;
        }
    }

    /** One client's session. */
    static final class Session {
        final int id;
        final boolean follower;
        final boolean byId;
        private final LinkedHashMap<Key, CachedPartition> partitions = new LinkedHashMap<>();
        private int nextEpoch = 1;
        private long lastUsedMs;

        Session(int id, boolean follower, boolean byId, long nowMs) {
            this.id = id;
            this.follower = follower;
            this.byId = byId;
            this.lastUsedMs = nowMs;
        }

        int size() {
            return partitions.size();
        }

        /** Adds the partition or updates what its client asks for. */
        void upsert(Key key, long fetchOffset, int maxBytes, int currentLeaderEpoch) {
            CachedPartition cached = partitions.get(key);
            if (cached == null) {
                partitions.put(key, new CachedPartition(key, fetchOffset, maxBytes, currentLeaderEpoch));
            } else {
                cached.update(fetchOffset, maxBytes, currentLeaderEpoch);
            }
        }

        void forget(Key key) {
            partitions.remove(key);
        }

        List<CachedPartition> partitions() {
            return new ArrayList<>(partitions.values());
        }

        CachedPartition partition(Key key) {
            return partitions.get(key);
        }

        int nextEpoch() {
            return nextEpoch;
        }
    }

    /** What looking a session up found. */
    enum Lookup { FOUND, NOT_FOUND, WRONG_EPOCH }

    private final int maxSlots;
    private final LongSupplier clock;
    private final Map<Integer, Session> sessions = new HashMap<>();

    public FetchSessionCache(int maxSlots, LongSupplier clock) {
        if (maxSlots < 0) {
            throw new IllegalArgumentException("max.incremental.fetch.session.cache.slots must not be negative: " + maxSlots);
        }
        this.maxSlots = maxSlots;
        this.clock = clock;
    }

    /**
     * A session for a client that asked for one with {@code partitions} partitions, or null when no slot can be had.
     * Its partitions are added by the caller.
     */
    synchronized Session create(boolean follower, boolean byId, int partitions) {
        long now = clock.getAsLong();
        if (sessions.size() >= maxSlots && !evictFor(follower, partitions, now)) {
            return null;
        }
        int id;
        do {
            id = ThreadLocalRandom.current().nextInt(1, Integer.MAX_VALUE);
        } while (sessions.containsKey(id));
        Session session = new Session(id, follower, byId, now);
        sessions.put(id, session);
        return session;
    }

    private boolean evictFor(boolean follower, int partitions, long now) {
        if (maxSlots == 0) {
            return false;
        }
        Session stalest = null;
        Session smallest = null;
        for (Session s : sessions.values()) {
            if (stalest == null || s.lastUsedMs < stalest.lastUsedMs) {
                stalest = s;
            }
            if (smallest == null || weight(s.follower, s.size()) < weight(smallest.follower, smallest.size())) {
                smallest = s;
            }
        }
        if (stalest != null && now - stalest.lastUsedMs >= EVICTION_MS) {
            sessions.remove(stalest.id);
            return true;
        }
        if (smallest != null && weight(smallest.follower, smallest.size()) < weight(follower, partitions)) {
            sessions.remove(smallest.id);
            return true;
        }
        return false;
    }

    private static long weight(boolean follower, int partitions) {
        return follower ? (1L << 32) + partitions : partitions;
    }

    /**
     * The session {@code id} for a fetch of epoch {@code epoch}; on a match the session moves to its next epoch.
     */
    synchronized Lookup lookup(int id, int epoch, Session[] found) {
        Session session = sessions.get(id);
        if (session == null) {
            return Lookup.NOT_FOUND;
        }
        if (session.nextEpoch != epoch) {
            return Lookup.WRONG_EPOCH;
        }
        session.nextEpoch = epoch == Integer.MAX_VALUE ? 1 : epoch + 1;
        session.lastUsedMs = clock.getAsLong();
        found[0] = session;
        return Lookup.FOUND;
    }

    /** Closes session {@code id}, if there is one. */
    synchronized void remove(int id) {
        sessions.remove(id);
    }

    public synchronized int size() {
        return sessions.size();
    }

    /** How many of the sessions are followers' (replica fetchers of other nodes). */
    public synchronized int followerSessions() {
        return (int) sessions.values().stream().filter(s -> s.follower).count();
    }
}
