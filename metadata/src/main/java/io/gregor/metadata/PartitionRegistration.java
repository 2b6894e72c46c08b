package io.gregor.metadata;

import java.util.List;

/**
 * Where a partition lives, in Kafka's shape: its replicas (the first is the preferred leader), the in-sync replicas,
 * the leader (-1 when none), the leader epoch (raised at every leader change) and the partition epoch (raised at
 * every change of this registration).
 */
public record PartitionRegistration(List<Integer> replicas, List<Integer> isr, int leader, int leaderEpoch,
                                    int partitionEpoch) {
    public PartitionRegistration {
        replicas = List.copyOf(replicas);
        isr = List.copyOf(isr);
    }

    /** A new partition: every replica in sync, the first one leading, both epochs 0. */
    public static PartitionRegistration of(List<Integer> replicas) {
        return new PartitionRegistration(replicas, replicas, replicas.get(0), 0, 0);
    }

    /** The same replicas and ISR with another leader: both epochs raised. */
    public PartitionRegistration withLeader(int newLeader, List<Integer> newIsr) {
        return new PartitionRegistration(replicas, newIsr, newLeader, leaderEpoch + 1, partitionEpoch + 1);
    }

    public boolean hasReplica(int nodeId) {
        return replicas.contains(nodeId);
    }
}
