package io.gregor.coordinator.group;

import java.util.Collection;

/** The topics the consumer-protocol coordinator assigns from: the current metadata image. */
public interface TopicCatalog {
    /** The topic called {@code name}, or null. */
    ServerAssignor.Topic topic(String name);

    /** The topic with this id, or null. */
    ServerAssignor.Topic topic(org.apache.kafka.common.Uuid id);

    /** Every topic name (for regex subscriptions). */
    Collection<String> names();

    /** Changes whenever topics are created, deleted or grow partitions. */
    long version();
}
