package io.gregor.coordinator.group;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.kafka.common.Uuid;

/**
 * A group of the consumer protocol (KIP-848): the coordinator assigns partitions itself. The group epoch moves when
 * membership, subscriptions or the subscribed topics change; the target assignment is computed for that epoch and
 * members reconcile towards it, a partition moving only once its previous owner has revoked it.
 *
 * <p>All of it is stored: the epoch and metadata hash (ConsumerGroupMetadata), each member (MemberMetadata and
 * CurrentMemberAssignment) and the target assignment (TargetAssignmentMember, TargetAssignmentMetadata). Operations
 * work on a {@link #copy} and store the difference; replaying those records is what changes the group itself.
 * Touched only on its shard's queue.
 */
final class ConsumerGroup extends Group {
    int groupEpoch;
    int assignmentEpoch;
    /** A hash of the subscribed topics and their partition counts when the epoch last moved; a change moves it again. */
    long metadataHash;
    final Map<String, ConsumerMember> members = new LinkedHashMap<>();
    /** Member id per static instance id. */
    final Map<String, String> staticMembers = new LinkedHashMap<>();
    /** The target assignment of every member at {@link #assignmentEpoch}. */
    Map<String, Map<Uuid, Set<Integer>>> targetAssignment = new TreeMap<>();
    /** The metadata version {@link #metadataHash} was last checked at (not stored: a cache of this copy). */
    long subscriptionMetadataVersion = -1;
    /** Set by an operation when the group goes back to the classic protocol: the classic group to store instead. */
    ClassicGroup downgradedTo;

    ConsumerGroup(String groupId) {
        super(groupId);
    }

    /** A deep copy, for an operation to change; the records of what differs are then replayed into the original. */
    ConsumerGroup copy() {
        ConsumerGroup g = new ConsumerGroup(groupId);
        g.groupEpoch = groupEpoch;
        g.assignmentEpoch = assignmentEpoch;
        g.metadataHash = metadataHash;
        members.forEach((id, m) -> g.members.put(id, m.copy()));
        g.staticMembers.putAll(staticMembers);
        targetAssignment.forEach((id, t) -> g.targetAssignment.put(id, copy(t)));
        g.subscriptionMetadataVersion = subscriptionMetadataVersion;
        return g;
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

    /** A deep copy without empty topics. */
    static Map<Uuid, Set<Integer>> copy(Map<Uuid, Set<Integer>> m) {
        Map<Uuid, Set<Integer>> c = new TreeMap<>();
        m.forEach((k, v) -> {
            if (!v.isEmpty()) {
                c.put(k, new TreeSet<>(v));
            }
        });
        return c;
    }
}
