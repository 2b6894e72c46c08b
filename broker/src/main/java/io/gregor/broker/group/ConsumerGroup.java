package io.gregor.broker.group;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.kafka.common.Uuid;

/**
 * A group of the consumer protocol (KIP-848): the coordinator assigns partitions itself. The group epoch moves when
 * membership, subscriptions or the subscribed topics change; the target assignment is computed for that epoch and
 * members reconcile towards it, a partition moving only once its previous owner has revoked it.
 * Guarded by the coordinator's lock.
 */
final class ConsumerGroup extends Group {
    int groupEpoch;
    int assignmentEpoch;
    /** The assignor of the current target assignment. */
    String assignorName = "";
    final Map<String, ConsumerMember> members = new LinkedHashMap<>();
    /** Member id per static instance id. */
    final Map<String, String> staticMembers = new LinkedHashMap<>();
    /** The target assignment of every member at {@link #assignmentEpoch}. */
    Map<String, Map<Uuid, Set<Integer>>> targetAssignment = Map.of();
    /** Partition counts of the subscribed topics as last seen, by topic name; a change moves the group epoch. */
    Map<String, Integer> subscribedTopics = new TreeMap<>();
    /** The metadata version {@link #subscribedTopics} was computed at. */
    long subscriptionMetadataVersion = -1;
    /** True after a restart until the target assignment has been computed again from the restored members. */
    boolean targetStale;

    ConsumerGroup(String groupId) {
        super(groupId);
    }

    @Override
    boolean isEmpty() {
        return members.isEmpty();
    }

    @Override
    String stateName() {
        if (members.isEmpty()) {
            return "Empty";
        }
        if (groupEpoch > assignmentEpoch) {
            return "Assigning";
        }
        for (ConsumerMember m : members.values()) {
            if (m.state != ConsumerMember.State.STABLE || m.memberEpoch != assignmentEpoch) {
                return "Reconciling";
            }
        }
        return "Stable";
    }

    @Override
    String type() {
        return "consumer";
    }

    @Override
    String protocolType() {
        return "consumer";
    }

    /** The member holding {@code partition} of {@code topic} (assigned or still revoking it), other than {@code except}. */
    boolean ownedByOther(Uuid topic, int partition, ConsumerMember except) {
        for (ConsumerMember m : members.values()) {
            if (m != except && (contains(m.assigned, topic, partition) || contains(m.revoking, topic, partition))) {
                return true;
            }
        }
        return false;
    }

    static boolean contains(Map<Uuid, Set<Integer>> partitions, Uuid topic, int partition) {
        Set<Integer> set = partitions.get(topic);
        return set != null && set.contains(partition);
    }
}
