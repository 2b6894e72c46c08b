package io.gregor.coordinator.group;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.kafka.common.Uuid;

/** A member of a consumer-protocol group. Touched only on its shard's queue. */
final class ConsumerMember {
    /** Where the member is on its way to the target assignment. */
    enum State {
        /** Owns exactly its target assignment at the assignment epoch. */
        STABLE,
        /** Must revoke partitions before it can move to the new epoch. */
        UNREVOKED_PARTITIONS,
        /** At the new epoch, waiting for partitions other members still own. */
        UNRELEASED_PARTITIONS
    }

    /** Member epoch of a static member that left for a restart and will rejoin with its instance id. */
    static final int STATIC_LEAVE_EPOCH = -2;

    final String memberId;
    String instanceId;
    String rackId;
    String clientId;
    String clientHost;
    int rebalanceTimeoutMs;
    List<String> subscribedTopicNames = List.of();
    String subscribedTopicRegex;
    String serverAssignor;
    int memberEpoch;
    int previousMemberEpoch = -1;
    State state = State.STABLE;
    /** The partitions the member may use now. */
    Map<Uuid, Set<Integer>> assigned = new TreeMap<>();
    /** Partitions the member was asked to revoke and has not confirmed yet. */
    Map<Uuid, Set<Integer>> revoking = new TreeMap<>();
    /**
     * The protocols of a member that speaks the classic protocol inside a consumer group (online migration, KIP-848):
     * it joins, syncs and heartbeats with the classic APIs; null for a member of the consumer protocol.
     */
    List<ClassicGroupManager.Protocol> classicProtocols;
    int classicSessionTimeoutMs;

    ConsumerMember(String memberId) {
        this.memberId = memberId;
    }

    /** A deep copy, for an operation to change without touching the stored state. */
    ConsumerMember copy() {
        ConsumerMember m = new ConsumerMember(memberId);
        m.instanceId = instanceId;
        m.rackId = rackId;
        m.clientId = clientId;
        m.clientHost = clientHost;
        m.rebalanceTimeoutMs = rebalanceTimeoutMs;
        m.subscribedTopicNames = subscribedTopicNames;
        m.subscribedTopicRegex = subscribedTopicRegex;
        m.serverAssignor = serverAssignor;
        m.memberEpoch = memberEpoch;
        m.previousMemberEpoch = previousMemberEpoch;
        m.state = state;
        m.assigned = ConsumerGroup.copy(assigned);
        m.revoking = ConsumerGroup.copy(revoking);
        m.classicProtocols = classicProtocols;
        m.classicSessionTimeoutMs = classicSessionTimeoutMs;
        return m;
    }

    /** Whether the stored member metadata (ConsumerGroupMemberMetadata) differs. */
    boolean sameMetadata(ConsumerMember o) {
        return java.util.Objects.equals(instanceId, o.instanceId) && java.util.Objects.equals(rackId, o.rackId)
                && java.util.Objects.equals(clientId, o.clientId) && java.util.Objects.equals(clientHost, o.clientHost)
                && rebalanceTimeoutMs == o.rebalanceTimeoutMs && subscribedTopicNames.equals(o.subscribedTopicNames)
                && java.util.Objects.equals(subscribedTopicRegex, o.subscribedTopicRegex)
                && java.util.Objects.equals(serverAssignor, o.serverAssignor)
                && classicSessionTimeoutMs == o.classicSessionTimeoutMs && ClassicGroupManager.Protocol.same(classicProtocols, o.classicProtocols);
    }

    /** Whether the stored current assignment (ConsumerGroupCurrentMemberAssignment) differs. */
    boolean sameAssignment(ConsumerMember o) {
        return memberEpoch == o.memberEpoch && previousMemberEpoch == o.previousMemberEpoch && state == o.state
                && ConsumerGroup.copy(assigned).equals(ConsumerGroup.copy(o.assigned))
                && ConsumerGroup.copy(revoking).equals(ConsumerGroup.copy(o.revoking));
    }

    boolean isClassic() {
        return classicProtocols != null;
    }
}
