package io.gregor.metadata;

import java.util.Map;
import org.apache.kafka.common.Uuid;

/**
 * A topic as the metadata log describes it: name, id, partition count, config overrides, and where each partition
 * lives. A partition without a registration is one of a data directory from before clustering, held by its single
 * node (the controller writes registrations for those when it starts).
 */
public record TopicImage(String name, Uuid id, int partitions, Map<String, String> configs,
                         Map<Integer, PartitionRegistration> registrations) {

    public TopicImage {
        configs = Map.copyOf(configs);
        registrations = Map.copyOf(registrations);
    }

    public TopicImage(String name, Uuid id, int partitions, Map<String, String> configs) {
        this(name, id, partitions, configs, Map.of());
    }

    public TopicImage withPartitions(int count) {
        return new TopicImage(name, id, count, configs, registrations);
    }

    public TopicImage withConfigs(Map<String, String> newConfigs) {
        return new TopicImage(name, id, partitions, newConfigs, registrations);
    }

    public TopicImage withRegistration(int partition, PartitionRegistration registration) {
        Map<Integer, PartitionRegistration> next = new java.util.HashMap<>(registrations);
        next.put(partition, registration);
        return new TopicImage(name, id, partitions, configs, next);
    }

    /** The registrations of {@code changed} replacing theirs (one copy of the map however many change). */
    public TopicImage withRegistrations(Map<Integer, PartitionRegistration> changed) {
        Map<Integer, PartitionRegistration> next = new java.util.HashMap<>(registrations);
        next.putAll(changed);
        return new TopicImage(name, id, partitions, configs, next);
    }

    /** Where {@code partition} lives, or null for a partition registered before clustering (see the class comment). */
    public PartitionRegistration registration(int partition) {
        return registrations.get(partition);
    }

    public boolean isInternal() {
        return name.startsWith("__");
    }
}
