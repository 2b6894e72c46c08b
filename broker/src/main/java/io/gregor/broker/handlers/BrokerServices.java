package io.gregor.broker.handlers;

import io.gregor.broker.config.BrokerConfig;
import io.gregor.broker.config.Endpoint;
import io.gregor.metadata.MetadataManager;
import io.gregor.broker.controller.TopicOperations;
import io.gregor.coordinator.group.GroupCoordinatorService;
import io.gregor.replication.ReplicaManager;
import java.util.List;
import java.util.function.Supplier;

/**
 * The domain services request handlers call into. Handlers decode, make one call here, and encode; they never touch
 * files or sockets themselves.
 *
 * @param advertised the advertised endpoints, with ports resolved after binding
 */
public record BrokerServices(Supplier<BrokerConfig> config, MetadataManager metadata, TopicOperations topics,
                             ReplicaManager replicas, ProducerIdManager producerIds,
                             Supplier<List<Endpoint>> advertised, GroupCoordinatorService groups) {

    public int nodeId() {
        return config.get().nodeId();
    }

    /** The endpoint clients of {@code listenerName} should use to reach this node. */
    public Endpoint advertisedFor(String listenerName) {
        List<Endpoint> endpoints = advertised.get();
        return endpoints.stream().filter(e -> e.listenerName().equals(listenerName)).findFirst().orElse(endpoints.get(0));
    }

    public String clusterId() {
        String id = metadata.image().clusterId();
        return id != null ? id : config.get().clusterId();
    }
}
