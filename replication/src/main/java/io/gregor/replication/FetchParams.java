package io.gregor.replication;

import java.util.List;

/**
 * A fetch as the replica manager reads it.
 *
 * @param maxWaitMs how long to park the fetch while fewer than {@code minBytes} are there
 * @param minBytes the bytes that answer it at once
 * @param maxBytes the response budget (already capped by fetch.max.bytes)
 * @param reach how far past a partition's budget the read may go (1 for stored batches; more for a reader whose
 *     answer is converted to an older, larger message format and cut to the budget afterwards)
 * @param partitions the partitions, in the order of the response
 * @param replicaId the follower that fetches, -1 for a consumer (a follower reads up to the log end, and its fetch
 *     offset tells the leader what it holds durably)
 * @param readCommitted a read_committed consumer: reads stop at the last stable offset and carry the aborted
 *     transactions they overlap
 */
public record FetchParams(long maxWaitMs, int minBytes, int maxBytes, float reach, List<PartitionFetch> partitions,
                          int replicaId, boolean readCommitted) {
    public FetchParams {
        partitions = List.copyOf(partitions);
    }

    public FetchParams(long maxWaitMs, int minBytes, int maxBytes, float reach, List<PartitionFetch> partitions,
                       int replicaId) {
        this(maxWaitMs, minBytes, maxBytes, reach, partitions, replicaId, false);
    }

    /** A consumer's fetch. */
    public FetchParams(long maxWaitMs, int minBytes, int maxBytes, float reach, List<PartitionFetch> partitions) {
        this(maxWaitMs, minBytes, maxBytes, reach, partitions, -1, false);
    }

    public boolean fromFollower() {
        return replicaId >= 0;
    }

    /**
     * One partition of a fetch.
     *
     * @param topic the topic's name, or null when the request named a topic (or id) that does not exist
     * @param currentLeaderEpoch the leader epoch the client knows, -1 when it does not say
     */
    public record PartitionFetch(String topic, int partition, long fetchOffset, int maxBytes, int currentLeaderEpoch) {
    }
}
