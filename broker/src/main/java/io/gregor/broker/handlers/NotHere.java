package io.gregor.broker.handlers;

import io.gregor.metadata.TopicImage;
import org.apache.kafka.common.protocol.Errors;

/** What a request for a partition this node does not hold is answered, as Kafka answers it. */
final class NotHere {
    private NotHere() {
    }

    /**
     * NOT_LEADER_OR_FOLLOWER for a partition that exists on other nodes (the client's metadata is stale: it refreshes
     * and goes to the leader), UNKNOWN_TOPIC_OR_PARTITION for one that does not exist.
     */
    static Errors error(TopicImage topic, int partition) {
        return topic != null && partition >= 0 && partition < topic.partitions()
                ? Errors.NOT_LEADER_OR_FOLLOWER : Errors.UNKNOWN_TOPIC_OR_PARTITION;
    }
}
