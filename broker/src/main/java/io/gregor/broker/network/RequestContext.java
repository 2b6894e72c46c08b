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

    public short apiVersion() {
        return request.apiVersion();
    }

    public String clientId() {
        return request.clientId();
    }
}
