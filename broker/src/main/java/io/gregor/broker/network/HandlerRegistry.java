package io.gregor.broker.network;

import io.gregor.protocol.RequestParser;
import io.gregor.protocol.legacy.LegacyCodec;
import java.util.Collection;
import java.util.EnumMap;
import java.util.Map;
import org.apache.kafka.common.protocol.ApiKeys;

/**
 * The API handlers of a broker, by key; also the source of the advertised version ranges.
 *
 * <p>Handlers declare the versions kafka-clients 4.x parses. With legacy versions on, a handler whose range starts at
 * the 4.x lowest version is also served the versions below it that Kafka 4.0 removed ({@link LegacyCodec}): they
 * reach it bridged to its lowest version.
 */
public final class HandlerRegistry implements RequestParser.VersionRange {
    private final Map<ApiKeys, ApiHandler<?>> handlers = new EnumMap<>(ApiKeys.class);
    private final boolean legacy;

    public HandlerRegistry(boolean legacy) {
        this.legacy = legacy;
    }

    public HandlerRegistry() {
        this(false);
    }

    private final java.util.List<java.util.function.Consumer<String>> closeListeners =
            new java.util.concurrent.CopyOnWriteArrayList<>();

    /** Tells {@code listener} the connection id of every connection that closes. */
    public void onConnectionClosed(java.util.function.Consumer<String> listener) {
        closeListeners.add(listener);
    }

    void connectionClosed(String connectionId) {
        for (var listener : closeListeners) {
            listener.accept(connectionId);
        }
    }

    public HandlerRegistry register(ApiHandler<?> handler) {
        short schemaMin = handler.apiKey().messageType.lowestSupportedVersion();
        short schemaMax = handler.apiKey().messageType.highestSupportedVersion(true);
        if (handler.minVersion() < schemaMin || handler.maxVersion() > schemaMax || handler.minVersion() > handler.maxVersion()) {
            throw new IllegalArgumentException(handler.apiKey() + " handler declares v" + handler.minVersion() + "-v"
                    + handler.maxVersion() + " but the codec knows v" + schemaMin + "-v" + schemaMax);
        }
        if (handlers.putIfAbsent(handler.apiKey(), handler) != null) {
            throw new IllegalArgumentException("two handlers for " + handler.apiKey());
        }
        return this;
    }

    public ApiHandler<?> handler(ApiKeys key) {
        return handlers.get(key);
    }

    public Collection<ApiHandler<?>> all() {
        return handlers.values();
    }

    @Override
    public short[] rangeOf(ApiKeys key) {
        ApiHandler<?> handler = handlers.get(key);
        if (handler == null) {
            return null;
        }
        short min = handler.minVersion();
        if (legacy && min == key.messageType.lowestSupportedVersion()) {
            min = LegacyCodec.legacyLowest(key);
        }
        return new short[] {min, handler.maxVersion()};
    }
}
