package io.gregor.broker.group;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.kafka.common.Uuid;

/** A member of a consumer-protocol group. Guarded by the coordinator's lock. */
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
    List<GroupCoordinator.Protocol> classicProtocols;
    int classicSessionTimeoutMs;
    long sessionDeadlineMs;
    Runnable cancelSession;
    Runnable cancelRebalance;

    ConsumerMember(String memberId) {
        this.memberId = memberId;
    }

    boolean isClassic() {
        return classicProtocols != null;
    }
}
