package io.gregor.coordinator.group;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.kafka.common.Uuid;

/**
 * The consumer protocol's server-side assignors (KIP-848): {@code uniform} spreads all subscribed partitions evenly and
 * keeps partitions where they are when it can; {@code range} gives each subscriber of a topic a contiguous range of its
 * partitions, like the classic range assignor. Both are deterministic for the same input.
 */
public interface ServerAssignor {
    String UNIFORM = "uniform";
    String RANGE = "range";

    /** A subscribed topic as the assignor sees it. */
    record Topic(String name, Uuid id, int partitions) {
    }

    /**
     * @param subscriptions the topics each member subscribes to (existing ones only), by member id
     * @param topics        the subscribed topics by name
     * @param previous      the previous target assignment, for stickiness
     * @return the new target assignment of every member (members without partitions map to an empty map)
     */
    Map<String, Map<Uuid, Set<Integer>>> assign(Map<String, Set<String>> subscriptions, Map<String, Topic> topics,
                                                 Map<String, Map<Uuid, Set<Integer>>> previous);

    /** The assignor called {@code name}, or null. Kafka's class names are accepted as well as the short names. */
    static ServerAssignor named(String name) {
        if (name == null) {
            return null;
        }
        return switch (name) {
            case UNIFORM, "org.apache.kafka.coordinator.group.assignor.UniformAssignor" -> new Uniform();
            case RANGE, "org.apache.kafka.coordinator.group.assignor.RangeAssignor" -> new Range();
            default -> null;
        };
    }

    /** The short name of a known assignor name. */
    static String shortName(String name) {
        ServerAssignor a = named(name);
        return a instanceof Range ? RANGE : a instanceof Uniform ? UNIFORM : name;
    }

    private static Map<String, Map<Uuid, Set<Integer>>> emptyFor(Map<String, Set<String>> subscriptions) {
        Map<String, Map<Uuid, Set<Integer>>> result = new TreeMap<>();
        subscriptions.keySet().forEach(m -> result.put(m, new TreeMap<>()));
        return result;
    }

    final class Range implements ServerAssignor {
        @Override
        public Map<String, Map<Uuid, Set<Integer>>> assign(Map<String, Set<String>> subscriptions, Map<String, Topic> topics,
                                                           Map<String, Map<Uuid, Set<Integer>>> previous) {
            Map<String, Map<Uuid, Set<Integer>>> result = emptyFor(subscriptions);
            for (Topic topic : new TreeMap<>(topics).values()) {
                List<String> subscribers = subscriptions.entrySet().stream()
                        .filter(e -> e.getValue().contains(topic.name())).map(Map.Entry::getKey).sorted().toList();
                if (subscribers.isEmpty()) {
                    continue;
                }
                int each = topic.partitions() / subscribers.size();
                int extra = topic.partitions() % subscribers.size();
                int next = 0;
                for (int i = 0; i < subscribers.size(); i++) {
                    int count = each + (i < extra ? 1 : 0);
                    if (count == 0) {
                        continue;
                    }
                    Set<Integer> partitions = result.get(subscribers.get(i)).computeIfAbsent(topic.id(), t -> new TreeSet<>());
                    for (int p = next; p < next + count; p++) {
                        partitions.add(p);
                    }
                    next += count;
                }
            }
            return result;
        }
    }

    final class Uniform implements ServerAssignor {
        private record Tp(Uuid topic, int partition, String topicName) {
        }

        @Override
        public Map<String, Map<Uuid, Set<Integer>>> assign(Map<String, Set<String>> subscriptions, Map<String, Topic> topics,
                                                           Map<String, Map<Uuid, Set<Integer>>> previous) {
            Map<String, Map<Uuid, Set<Integer>>> result = emptyFor(subscriptions);
            if (subscriptions.isEmpty()) {
                return result;
            }
            Map<Uuid, Topic> byId = new HashMap<>();
            topics.values().forEach(t -> byId.put(t.id(), t));
            // Every subscribed partition, in a fixed order.
            SortedSet<Tp> unassigned = new TreeSet<>(Comparator.comparing(Tp::topicName).thenComparingInt(Tp::partition));
            for (Topic t : topics.values()) {
                boolean subscribed = subscriptions.values().stream().anyMatch(s -> s.contains(t.name()));
                for (int p = 0; subscribed && p < t.partitions(); p++) {
                    unassigned.add(new Tp(t.id(), p, t.name()));
                }
            }
            int total = unassigned.size();
            int members = subscriptions.size();
            int minQuota = total / members;
            int withExtra = total % members;
            Map<String, Integer> counts = new LinkedHashMap<>();
            subscriptions.keySet().stream().sorted().forEach(m -> counts.put(m, 0));
            // Sticky pass: a member keeps what it had, up to its quota.
            for (String member : counts.keySet()) {
                Map<Uuid, Set<Integer>> before = previous.getOrDefault(member, Map.of());
                List<Tp> kept = new ArrayList<>();
                before.forEach((topicId, partitions) -> {
                    Topic t = byId.get(topicId);
                    if (t != null && subscriptions.get(member).contains(t.name())) {
                        partitions.forEach(p -> kept.add(new Tp(topicId, p, t.name())));
                    }
                });
                kept.sort(Comparator.comparing(Tp::topicName).thenComparingInt(Tp::partition));
                for (Tp tp : kept) {
                    int count = counts.get(member);
                    boolean room = count < minQuota || count == minQuota && withExtra > 0;
                    if (room && unassigned.remove(tp)) {
                        if (count == minQuota) {
                            withExtra--;
                        }
                        give(result, counts, member, tp);
                    }
                }
            }
            // The rest goes to the least loaded member subscribed to the topic.
            for (Tp tp : unassigned) {
                String best = null;
                for (Map.Entry<String, Integer> e : counts.entrySet()) {
                    if (subscriptions.get(e.getKey()).contains(tp.topicName())
                            && (best == null || e.getValue() < counts.get(best))) {
                        best = e.getKey();
                    }
                }
                if (best != null) {
                    give(result, counts, best, tp);
                }
            }
            return result;
        }

        private static void give(Map<String, Map<Uuid, Set<Integer>>> result, Map<String, Integer> counts, String member, Tp tp) {
            result.get(member).computeIfAbsent(tp.topic(), t -> new TreeSet<>()).add(tp.partition());
            counts.merge(member, 1, Integer::sum);
        }
    }
}
