package io.gregor.replication;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.protocol.Errors;

/**
 * A follower's side of an incremental fetch session (KIP-227) with one leader. The first fetch names every partition
 * and asks for a session (session id 0, epoch 0); once the leader grants one, each fetch names only the partitions
 * whose fetch position changed, and the partitions dropped since the last fetch as forgotten. Any session error, a
 * failed fetch or a leader that grants no session makes the next fetch a full one again.
 *
 * <p>Thread-safety: not thread-safe; used by the fetcher thread of one leader only.
 */
final class FollowerFetchSession {
    /** What the leader's session holds for a partition: the last position sent for it. */
    record Sent(String topic, int partition, long fetchOffset, int currentLeaderEpoch, int lastFetchedEpoch,
                long logStartOffset, int maxBytes) {
        static Sent of(String topic, FetchRequestData.FetchPartition p) {
            return new Sent(topic, p.partition(), p.fetchOffset(), p.currentLeaderEpoch(), p.lastFetchedEpoch(),
                    p.logStartOffset(), p.partitionMaxBytes());
        }
    }

    private static final int INITIAL_EPOCH = 0;

    private int sessionId;
    private int epoch = INITIAL_EPOCH;
    /** The session's partitions as the leader holds them once the fetch in flight is answered. */
    private Map<String, Sent> session = new LinkedHashMap<>();
    private Map<String, Sent> pending;

    /** The id of the session with the leader, 0 while there is none. */
    int sessionId() {
        return sessionId;
    }

    /**
     * Fills {@code request}'s session id, epoch, topics and forgotten topics for a fetch of {@code wanted} (topic name
     * to its partitions, each at its current position).
     */
    void build(FetchRequestData request, Map<String, List<FetchRequestData.FetchPartition>> wanted) {
        boolean full = epoch == INITIAL_EPOCH;
        request.setSessionId(sessionId).setSessionEpoch(epoch);
        Map<String, Sent> next = new LinkedHashMap<>();
        Map<String, FetchRequestData.FetchTopic> topics = new LinkedHashMap<>();
        for (Map.Entry<String, List<FetchRequestData.FetchPartition>> e : wanted.entrySet()) {
            for (FetchRequestData.FetchPartition p : e.getValue()) {
                Sent sent = Sent.of(e.getKey(), p);
                String key = key(e.getKey(), p.partition());
                next.put(key, sent);
                if (full || !Objects.equals(session.get(key), sent)) {
                    topics.computeIfAbsent(e.getKey(), t -> new FetchRequestData.FetchTopic().setTopic(t))
                            .partitions().add(p);
                }
            }
        }
        topics.values().forEach(request.topics()::add);
        if (!full) {
            Map<String, FetchRequestData.ForgottenTopic> forgotten = new HashMap<>();
            for (Map.Entry<String, Sent> e : session.entrySet()) {
                if (!next.containsKey(e.getKey())) {
                    Sent gone = e.getValue();
                    forgotten.computeIfAbsent(gone.topic(), t -> new FetchRequestData.ForgottenTopic().setTopic(t))
                            .partitions().add(gone.partition());
                }
            }
            forgotten.values().forEach(request.forgottenTopicsData()::add);
        }
        pending = next;
    }

    /** Takes the leader's answer to the last built fetch. */
    void onResponse(FetchResponseData response) {
        Errors error = Errors.forCode(response.errorCode());
        if (error != Errors.NONE || pending == null) {
            // FETCH_SESSION_ID_NOT_FOUND (evicted), INVALID_FETCH_SESSION_EPOCH, FETCH_SESSION_TOPIC_ID_ERROR, or any
            // other whole-response error: start over with a full fetch.
            reset();
            return;
        }
        if (epoch == INITIAL_EPOCH) {
            sessionId = response.sessionId();
            epoch = sessionId == 0 ? INITIAL_EPOCH : 1;
        } else {
            epoch = epoch == Integer.MAX_VALUE ? 1 : epoch + 1;
        }
        session = pending;
        pending = null;
    }

    /**
     * The fetch failed or was not answered: the leader's session may or may not have moved, so the next fetch is a
     * full one that closes the old session and opens a new one.
     */
    void reset() {
        epoch = INITIAL_EPOCH;
        session = new LinkedHashMap<>();
        pending = null;
    }

    private static String key(String topic, int partition) {
        return topic + "-" + partition;
    }
}
