package io.gregor.broker.controller;

import java.util.ArrayList;
import java.util.List;

/**
 * Where new partitions' replicas go (rack-unaware, as Kafka's round-robin assignment): the first replica of partition
 * {@code first + i} goes to broker {@code (start + first + i) mod n}, the others to the next brokers in id order, so
 * leaders and replicas spread evenly and a random start keeps small topics from piling onto the first broker.
 */
final class ReplicaPlacement {
    private ReplicaPlacement() {
    }

    /** Replicas for {@code count} partitions starting at index {@code first}; {@code brokers} sorted, at least {@code rf}. */
    static List<List<Integer>> place(List<Integer> brokers, int first, int count, int rf, int start) {
        List<List<Integer>> result = new ArrayList<>(count);
        int n = brokers.size();
        for (int i = 0; i < count; i++) {
            List<Integer> replicas = new ArrayList<>(rf);
            int leader = Math.floorMod(start + first + i, n);
            for (int r = 0; r < rf; r++) {
                replicas.add(brokers.get((leader + r) % n));
            }
            result.add(List.copyOf(replicas));
        }
        return result;
    }
}
