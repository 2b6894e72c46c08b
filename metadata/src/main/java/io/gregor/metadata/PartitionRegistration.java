package io.gregor.metadata;

import java.util.ArrayList;
import java.util.List;

/**
 * Where a partition lives, in Kafka's shape: its replicas (the first is the preferred leader), the in-sync replicas,
 * the leader (-1 when none), the leader epoch (raised at every leader change) and the partition epoch (raised at
 * every change of this registration). While a reassignment runs, {@code replicas} holds the target replicas first and
 * then the ones that leave; {@code addingReplicas} are the ones that join and {@code removingReplicas} the ones that
 * leave (KIP-455).
 */
public record PartitionRegistration(List<Integer> replicas, List<Integer> isr, int leader, int leaderEpoch,
                                    int partitionEpoch, List<Integer> addingReplicas, List<Integer> removingReplicas) {
    public PartitionRegistration {
        replicas = List.copyOf(replicas);
        isr = List.copyOf(isr);
        addingReplicas = List.copyOf(addingReplicas);
        removingReplicas = List.copyOf(removingReplicas);
    }

    /** A registration without a reassignment in progress. */
    public PartitionRegistration(List<Integer> replicas, List<Integer> isr, int leader, int leaderEpoch,
                                 int partitionEpoch) {
        this(replicas, isr, leader, leaderEpoch, partitionEpoch, List.of(), List.of());
    }

    /** A new partition: every replica in sync, the first one leading, both epochs 0. */
    public static PartitionRegistration of(List<Integer> replicas) {
        return new PartitionRegistration(replicas, replicas, replicas.get(0), 0, 0);
    }

    /** The same replicas (and reassignment) with another leader and ISR: both epochs raised. */
    public PartitionRegistration withLeader(int newLeader, List<Integer> newIsr) {
        return new PartitionRegistration(replicas, newIsr, newLeader, leaderEpoch + 1, partitionEpoch + 1,
                addingReplicas, removingReplicas);
    }

    /** The same leader with another ISR: the partition epoch raised. */
    public PartitionRegistration withIsr(List<Integer> newIsr) {
        return new PartitionRegistration(replicas, newIsr, leader, leaderEpoch, partitionEpoch + 1, addingReplicas,
                removingReplicas);
    }

    public boolean hasReplica(int nodeId) {
        return replicas.contains(nodeId);
    }

    /** Whether a reassignment is in progress. */
    public boolean reassigning() {
        return !addingReplicas.isEmpty() || !removingReplicas.isEmpty();
    }

    /** The replicas a running reassignment goes to (all of them when none runs). */
    public List<Integer> targetReplicas() {
        return without(replicas, removingReplicas);
    }

    /** The replicas before a running reassignment (all of them when none runs). */
    public List<Integer> originalReplicas() {
        return without(replicas, addingReplicas);
    }

    static List<Integer> without(List<Integer> from, List<Integer> removed) {
        List<Integer> result = new ArrayList<>(from);
        result.removeAll(removed);
        return result;
    }
}
