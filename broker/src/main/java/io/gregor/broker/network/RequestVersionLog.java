package io.gregor.broker.network;

import io.gregor.protocol.KafkaRequest;
import java.net.InetSocketAddress;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logs, once per client id, each API version a client uses, so an operator (or a compatibility test) can see from the
 * broker log which request versions a client speaks. Versions below the newest one served (older clients) are logged
 * at INFO, legacy versions (those Kafka 4.0 removed) marked; the newest versions, which current clients send, only at
 * DEBUG, so a broker full of current clients stays quiet. At most {@code maxEntries} combinations are remembered;
 * later ones are logged at DEBUG only.
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

    void record(KafkaRequest request, InetSocketAddress remote, short newestServed) {
        boolean current = request.wireVersion() >= newestServed;
        if (current && !log.isDebugEnabled()) {
            return;
        }
        String key = request.clientId() + '\u0000' + request.apiKey().id + '\u0000' + request.wireVersion();
        if (seen.size() >= maxEntries || !seen.add(key)) {
            return;
        }
        String address = remote == null ? "?" : remote.getAddress().getHostAddress();
        if (current) {
            log.debug("Client '{}' ({}) uses {} v{}", request.clientId(), address, request.apiKey().name, request.wireVersion());
        } else {
            log.info("Client '{}' ({}) uses {} v{}{}", request.clientId(), address, request.apiKey().name,
                    request.wireVersion(), request.legacy() ? " (legacy, removed in Kafka 4.0)" : "");
        }
    }
}
