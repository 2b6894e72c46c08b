package io.gregor.broker.controller;

import io.gregor.broker.config.BrokerConfig;
import io.gregor.broker.config.BrokerConfigs;
import io.gregor.broker.config.ConfigException;
import io.gregor.broker.config.ConfigKey;
import io.gregor.broker.config.TopicConfigs;
import io.gregor.metadata.ApiError;
import io.gregor.metadata.ControllerResult;
import io.gregor.metadata.MetadataManager;
import io.gregor.metadata.MetadataRecord;
import io.gregor.metadata.MetadataRecord.BrokerConfigsSet;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import org.apache.kafka.common.protocol.Errors;

/**
 * Dynamic broker configuration: cluster-wide overrides of broker properties (resource name "") kept in the metadata
 * log as one {@link BrokerConfigsSet} record that replaces the previous map, and overrides of one node (resource name
 * = its id) as a {@link MetadataRecord.NodeConfigsSet}. Every node applies, over its static configuration, the
 * cluster-wide overrides and then its own (Kafka's order of precedence).
 *
 * <p>Only the broker properties that are the default of a topic property ({@code log.retention.ms},
 * {@code log.segment.bytes}, ...) and the replication throttle rates may be changed this way: they apply without a
 * restart. Any other name is refused with INVALID_CONFIG.
 */
public final class BrokerConfigOperations {
    private static final Set<String> DYNAMIC_KEYS = dynamicKeys();

    private final MetadataManager metadata;
    private final Supplier<BrokerConfig> config;

    public BrokerConfigOperations(MetadataManager metadata, Supplier<BrokerConfig> config) {
        this.metadata = metadata;
        this.config = config;
    }

    private static Set<String> dynamicKeys() {
        Set<String> keys = new TreeSet<>(BrokerConfigs.REPLICATION_THROTTLE_KEYS);
        for (TopicConfigs.TopicKey key : TopicConfigs.keys().values()) {
            if (key.brokerSynonym() != null) {
                keys.add(key.brokerSynonym());
            }
        }
        return Collections.unmodifiableSet(keys);
    }

    /** True if {@code name} can be changed at run time. */
    public static boolean isDynamic(String name) {
        return DYNAMIC_KEYS.contains(name);
    }

    /**
     * Applies {@code ops} to the dynamic configuration of node {@code nodeId} (-1: the cluster-wide one); with
     * {@code replaceAll} (legacy AlterConfigs) they apply to an empty map, so every dynamic value not set again is
     * removed.
     *
     * @return NONE, INVALID_CONFIG (unknown or static name, bad value) or INVALID_REQUEST (duplicate key, no value,
     *         a node id that is not registered)
     */
    public CompletableFuture<ApiError> alter(int nodeId, List<ConfigOp> ops, boolean replaceAll, boolean validateOnly) {
        BrokerConfig current = config.get();
        return metadata.write(image -> {
            if (nodeId >= 0 && image.broker(nodeId) == null && nodeId != current.nodeId()) {
                return ControllerResult.noChange(ApiError.of(Errors.INVALID_REQUEST, "Unexpected broker id " + nodeId
                        + ": no such node is registered."));
            }
            Map<String, String> stored = nodeId < 0 ? image.brokerConfigs() : image.nodeConfigs(nodeId);
            Map<String, String> base = replaceAll ? Map.of() : stored;
            Map<String, String> next;
            try {
                next = ConfigOp.applyAll("broker", base, ops, BrokerConfigOperations::dynamicKey, current::valueString);
                Map<String, String> combined = new LinkedHashMap<>(nodeId < 0 ? Map.of() : image.brokerConfigs());
                combined.putAll(next);
                validate(combined, current);
            } catch (ConfigException e) {
                return ControllerResult.noChange(ApiError.of(Errors.INVALID_CONFIG, e.getMessage()));
            } catch (IllegalArgumentException e) {
                return ControllerResult.noChange(ApiError.of(Errors.INVALID_REQUEST, e.getMessage()));
            }
            if (validateOnly || next.equals(stored)) {
                return ControllerResult.noChange(ApiError.NONE);
            }
            return ControllerResult.of(List.of(nodeId < 0 ? new BrokerConfigsSet(next)
                    : new MetadataRecord.NodeConfigsSet(nodeId, next)), ApiError.NONE);
        });
    }

    private static ConfigKey dynamicKey(String name) {
        ConfigKey key = BrokerConfigs.key(name);
        if (key == null) {
            return null;
        }
        if (!DYNAMIC_KEYS.contains(name)) {
            throw new ConfigException("Cannot update broker config " + name + " dynamically: only the broker defaults"
                    + " of topic configs and the replication throttles can change at run time ("
                    + String.join(", ", DYNAMIC_KEYS)
                    + "); set it in server.properties and restart.");
        }
        return key;
    }

    private static void validate(Map<String, String> next, BrokerConfig current) {
        for (Map.Entry<String, String> e : next.entrySet()) {
            BrokerConfigs.key(e.getKey()).parse(e.getValue());
        }
        // Building the whole configuration catches values that are only wrong in combination.
        current.with(new LinkedHashMap<>(next));
    }
}
