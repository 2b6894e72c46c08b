package io.gregor.metadata;

import java.util.Map;
import org.apache.kafka.common.Uuid;

/**
 * A topic as the metadata log describes it. On a single node every partition is led by this node; replica
 * assignments, leaders and ISR join this record with replication.
 */
public record TopicImage(String name, Uuid id, int partitions, Map<String, String> configs) {

    public TopicImage {
        configs = Map.copyOf(configs);
    }

    public TopicImage withPartitions(int count) {
        return new TopicImage(name, id, count, configs);
    }

    public TopicImage withConfigs(Map<String, String> newConfigs) {
        return new TopicImage(name, id, partitions, newConfigs);
    }

    public boolean isInternal() {
        return name.startsWith("__");
    }
}
