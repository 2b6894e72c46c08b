package io.gregor.broker.controller;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * Where new partitions' replicas go. Without racks (no broker has {@code broker.rack}), Kafka's round-robin
 * assignment: the first replica of partition {@code first + i} goes to broker {@code (start + first + i) mod n}, the
 * others to the next brokers in id order, so leaders and replicas spread evenly and a random start keeps small topics
 * from piling onto the first broker.
 *
 * <p>With racks, the brokers are first ordered rack by rack in turn (one broker of each rack, then the next of each),
 * and each partition's replicas are taken from its leader onwards skipping brokers of a rack the partition already
 * has, until every rack holds one; only then may a rack hold a second replica. So the replicas of a partition span as
 * many racks as the replication factor allows, and a whole rack going down leaves every partition with replicas.
 * Brokers without a rack form a rack of their own (as KRaft-mode Kafka treats them).
 */
final class ReplicaPlacement {
    private ReplicaPlacement() {
    }

    /** Replicas for {@code count} partitions starting at index {@code first}; {@code brokers} sorted, at least {@code rf}. */
    static List<List<Integer>> place(List<Integer> brokers, int first, int count, int rf, int start) {
        return place(brokers, Map.of(), first, count, rf, start);
    }

    /** As {@link #place(List, int, int, int, int)}, rack-aware when any broker has a rack in {@code racks}. */
    static List<List<Integer>> place(List<Integer> brokers, Map<Integer, String> racks, int first, int count, int rf,
                                     int start) {
        boolean rackAware = brokers.stream().anyMatch(b -> racks.get(b) != null);
        List<Integer> order = rackAware ? alternateRacks(brokers, racks) : brokers;
        List<List<Integer>> result = new ArrayList<>(count);
        int n = order.size();
        for (int i = 0; i < count; i++) {
            int leader = Math.floorMod(start + first + i, n);
            List<Integer> replicas = new ArrayList<>(rf);
            if (!rackAware) {
                for (int r = 0; r < rf; r++) {
                    replicas.add(order.get((leader + r) % n));
                }
            } else {
                Set<String> racksUsed = new HashSet<>();
                for (int k = 0; k < n && replicas.size() < rf; k++) {
                    int broker = order.get((leader + k) % n);
                    if (racksUsed.add(rackOf(racks, broker))) {
                        replicas.add(broker);
                    }
                }
                for (int k = 1; k < n && replicas.size() < rf; k++) {
                    int broker = order.get((leader + k) % n);
                    if (!replicas.contains(broker)) {
                        replicas.add(broker);
                    }
                }
            }
            result.add(List.copyOf(replicas));
        }
        return result;
    }

    /** The brokers one rack at a time in turn: the first of each rack (racks by name), then the second of each, ... */
    private static List<Integer> alternateRacks(List<Integer> brokers, Map<Integer, String> racks) {
        Map<String, List<Integer>> byRack = new TreeMap<>();
        for (int b : brokers.stream().sorted().toList()) {
            byRack.computeIfAbsent(racks.get(b) == null ? NO_RACK : racks.get(b), r -> new ArrayList<>()).add(b);
        }
        List<Integer> order = new ArrayList<>(brokers.size());
        for (int round = 0; order.size() < brokers.size(); round++) {
            for (List<Integer> rack : byRack.values()) {
                if (round < rack.size()) {
                    order.add(rack.get(round));
                }
            }
        }
        return order;
    }

    /** The rack of brokers without one (a name no broker.rack can have: it holds a NUL character). */
    private static final String NO_RACK = "\0none";

    private static String rackOf(Map<Integer, String> racks, int broker) {
        return Objects.requireNonNullElse(racks.get(broker), NO_RACK);
    }
}
