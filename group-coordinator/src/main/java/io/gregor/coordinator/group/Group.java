package io.gregor.coordinator.group;

/**
 * A group of either protocol. A group id names one group at a time, classic or consumer; an empty group can change
 * protocol. Committed offsets are kept apart, by the {@link OffsetManager}, and outlive such changes. Touched only on
 * its shard's queue.
 */
abstract sealed class Group permits ClassicGroup, ConsumerGroup {
    final String groupId;

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
