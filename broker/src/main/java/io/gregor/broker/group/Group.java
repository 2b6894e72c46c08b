package io.gregor.broker.group;

import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;

/**
 * A group of either protocol: its id and committed offsets. A group id names one group at a time, classic or
 * consumer; an empty group can change protocol and keeps its offsets. Guarded by the coordinator's lock.
 */
abstract sealed class Group permits ClassicGroup, ConsumerGroup {
    final String groupId;
    final Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
    /** When the group last became empty (coordinator clock), for offset retention; -1 while it has members. */
    long emptySinceMs = -1;

    Group(String groupId) {
        this.groupId = groupId;
    }

    /** True when the group has no members. */
    abstract boolean isEmpty();

    /** The state as DescribeGroups, ConsumerGroupDescribe and ListGroups name it. */
    abstract String stateName();

    /** "classic" or "consumer", as ListGroups v5 reports the group type. */
    abstract String type();

    /** The protocol type ListGroups reports: the classic group's own, "consumer" for consumer groups. */
    abstract String protocolType();
}
