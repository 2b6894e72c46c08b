package io.gregor.metadata;

import java.util.List;
import org.apache.kafka.common.Uuid;

/**
 * A node as the metadata log knows it: registered with an incarnation id (new at every process start), its broker
 * epoch (the index of the entry that registered it), the endpoints clients and other nodes reach it on, its rack, and
 * whether the active controller fenced it (a fenced broker leads no partition and is left out of Metadata responses).
 */
public record BrokerRegistration(int id, Uuid incarnationId, long epoch, List<Endpoint> endpoints, String rack,
                                 boolean fenced) {

    /** A named listener of the broker. */
    public record Endpoint(String name, String host, int port) {
    }

    public BrokerRegistration {
        endpoints = List.copyOf(endpoints);
    }

    /** The endpoint of {@code listenerName}, or null. */
    public Endpoint endpoint(String listenerName) {
        return endpoints.stream().filter(e -> e.name().equals(listenerName)).findFirst().orElse(null);
    }

    public BrokerRegistration withFenced(boolean value) {
        return new BrokerRegistration(id, incarnationId, epoch, endpoints, rack, value);
    }
}
