package io.gregor.broker.network;

import io.gregor.protocol.KafkaRequest;
import java.net.InetSocketAddress;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logs, once per client id, each API version a client uses, so an operator (or a compatibility test) can see from the
 * broker log which request versions a client speaks. Legacy versions (those Kafka 4.0 removed) are marked. At most
 * {@code maxEntries} combinations are remembered; later ones are logged at debug level only.
 *
 * <p>Thread-safe.
 */
public final class RequestVersionLog {
    private static final Logger log = LoggerFactory.getLogger(RequestVersionLog.class);

    private final Set<String> seen = ConcurrentHashMap.newKeySet();
    private final int maxEntries;

    public RequestVersionLog(int maxEntries) {
        this.maxEntries = maxEntries;
    }

    void record(KafkaRequest request, InetSocketAddress remote) {
        String key = request.clientId() + '\u0000' + request.apiKey().id + '\u0000' + request.wireVersion();
        if (seen.contains(key)) {
            return;
        }
        if (seen.size() >= maxEntries) {
            log.debug("Client '{}' ({}) uses {} v{}", request.clientId(), remote, request.apiKey().name, request.wireVersion());
            return;
        }
        if (seen.add(key)) {
            log.info("Client '{}' ({}) uses {} v{}{}", request.clientId(), remote == null ? "?" : remote.getAddress().getHostAddress(),
                    request.apiKey().name, request.wireVersion(), request.legacy() ? " (legacy, removed in Kafka 4.0)" : "");
        }
    }
}
