package io.gregor.broker.replica;

import io.gregor.storage.Log;
import org.apache.kafka.common.Uuid;

/**
 * A partition this node leads: its log and leader epoch. The log keeps the three offsets apart: log end offset
 * (appended), flushed offset (durable) and high watermark (visible to consumers); on a single node the high
 * watermark follows the durable end.
 */
public final class Partition {
    private final String topic;
    private final Uuid topicId;
    private final int index;
    private final Log log;
    private volatile int leaderEpoch;
    private volatile int minInsyncReplicas;
    private volatile String compressionType = Recompression.PRODUCER;

    Partition(String topic, Uuid topicId, int index, Log log, int leaderEpoch, int minInsyncReplicas) {
        this.topic = topic;
        this.topicId = topicId;
        this.index = index;
        this.log = log;
        this.leaderEpoch = leaderEpoch;
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

    public Log log() {
        return log;
    }

    public int leaderEpoch() {
        return leaderEpoch;
    }

    public int minInsyncReplicas() {
        return minInsyncReplicas;
    }

    void setMinInsyncReplicas(int value) {
        this.minInsyncReplicas = value;
    }

    /** The topic's {@code compression.type}: {@code producer} or the codec produced batches are stored with. */
    public String compressionType() {
        return compressionType;
    }

    void setCompressionType(String value) {
        this.compressionType = value;
    }

    /** Replicas currently in sync; one on a single node. */
    public int isrSize() {
        return 1;
    }

    @Override
    public String toString() {
        return topic + "-" + index;
    }
}
