package io.gregor.broker.controller;

import io.gregor.broker.config.BrokerConfig;
import io.gregor.broker.config.BrokerConfigs;
import io.gregor.broker.config.ConfigException;
import io.gregor.broker.config.ConfigKey;
import io.gregor.broker.config.TopicConfigs;
import io.gregor.metadata.ApiError;
import io.gregor.metadata.ControllerResult;
import io.gregor.metadata.MetadataManager;
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
 * Dynamic broker configuration: cluster-wide overrides of broker properties, kept in the metadata log as one
 * {@link BrokerConfigsSet} record that replaces the previous map. Every node applies it on top of its static
 * configuration.
 *
 * <p>Only the broker properties that are the default of a topic property ({@code log.retention.ms},
 * {@code log.segment.bytes}, ...) may be changed this way: the partitions pick those up without a restart. Any other
 * name is refused with INVALID_CONFIG.
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
        Set<String> keys = new TreeSet<>();
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
     * Applies {@code ops} to the dynamic broker configuration; with {@code replaceAll} (legacy AlterConfigs) they
     * apply to an empty map, so every dynamic value not set again is removed.
     *
     * @return NONE, INVALID_CONFIG (unknown or static name, bad value) or INVALID_REQUEST (duplicate key, no value)
     */
    public CompletableFuture<ApiError> alter(List<ConfigOp> ops, boolean replaceAll, boolean validateOnly) {
        BrokerConfig current = config.get();
        return metadata.write(image -> {
            Map<String, String> base = replaceAll ? Map.of() : image.brokerConfigs();
            Map<String, String> next;
            try {
                next = ConfigOp.applyAll("broker", base, ops, BrokerConfigOperations::dynamicKey, current::valueString);
                validate(next, current);
            } catch (ConfigException e) {
                return ControllerResult.noChange(ApiError.of(Errors.INVALID_CONFIG, e.getMessage()));
            } catch (IllegalArgumentException e) {
                return ControllerResult.noChange(ApiError.of(Errors.INVALID_REQUEST, e.getMessage()));
            }
            if (validateOnly || next.equals(image.brokerConfigs())) {
                return ControllerResult.noChange(ApiError.NONE);
            }
            return ControllerResult.of(List.of(new BrokerConfigsSet(next)), ApiError.NONE);
        });
    }

    private static ConfigKey dynamicKey(String name) {
        ConfigKey key = BrokerConfigs.key(name);
        if (key == null) {
            return null;
        }
        if (!DYNAMIC_KEYS.contains(name)) {
            throw new ConfigException("Cannot update broker config " + name + " dynamically: only the broker defaults"
                    + " of topic configs can change at run time (" + String.join(", ", DYNAMIC_KEYS)
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
