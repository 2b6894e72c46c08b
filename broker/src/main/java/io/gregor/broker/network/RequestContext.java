package io.gregor.broker.network;

import io.gregor.protocol.KafkaRequest;
import java.net.InetSocketAddress;

/**
 * What a handler knows about the request besides its body: header, version, and the connection it came from.
 *
 * @param listenerName the listener the connection arrived on (its advertised address is what Metadata returns)
 */
public record RequestContext(KafkaRequest request, String listenerName, InetSocketAddress clientAddress,
                             String connectionId) {

    /** The version the body was read at (for a legacy request, its bridge version). */
    public short apiVersion() {
        return request.apiVersion();
    }

    /** The version the client sent; below {@link #apiVersion()} for the versions Kafka 4.0 removed. */
    public short wireVersion() {
        return request.wireVersion();
    }

    public String clientId() {
        return request.clientId();
    }
}
