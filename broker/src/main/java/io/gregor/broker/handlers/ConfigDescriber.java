package io.gregor.broker.handlers;

import io.gregor.broker.config.BrokerConfig;
import io.gregor.broker.config.BrokerConfigs;
import io.gregor.broker.config.ConfigKey;
import io.gregor.broker.config.TopicConfigs;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Effective configuration of a topic or the broker, with where each value comes from (Kafka's config sources). */
public final class ConfigDescriber {
    /** Kafka's DescribeConfigs source codes. */
    public static final byte DYNAMIC_TOPIC_CONFIG = 1;
    public static final byte DYNAMIC_BROKER_CONFIG = 2;
    public static final byte DYNAMIC_DEFAULT_BROKER_CONFIG = 3;
    public static final byte STATIC_BROKER_CONFIG = 4;
    public static final byte DEFAULT_CONFIG = 5;

    private ConfigDescriber() {
    }

    /** One described entry; {@code synonyms} lists the lower-precedence sources, most specific first. */
    public record Entry(String name, String value, byte source, boolean readOnly, boolean sensitive, ConfigKey key,
                        List<Entry> synonyms) {
    }

    public static List<Entry> topic(Map<String, String> overrides, BrokerConfig broker, Map<String, String> dynamicBroker) {
        List<Entry> entries = new ArrayList<>();
        for (TopicConfigs.TopicKey tk : TopicConfigs.keys().values()) {
            String name = tk.key().name();
            List<Entry> synonyms = new ArrayList<>();
            String brokerName = tk.brokerSynonym();
            String brokerValue = tk.brokerDefault().apply(broker);
            byte brokerSource = DEFAULT_CONFIG;
            if (brokerName != null && dynamicBroker.containsKey(brokerName)) {
                brokerSource = DYNAMIC_DEFAULT_BROKER_CONFIG;
            } else if (brokerName != null && broker.isSet(brokerName)) {
                brokerSource = STATIC_BROKER_CONFIG;
            }
            if (overrides.containsKey(name)) {
                synonyms.add(new Entry(name, overrides.get(name), DYNAMIC_TOPIC_CONFIG, false, false, tk.key(), List.of()));
            }
            if (brokerSource != DEFAULT_CONFIG) {
                synonyms.add(new Entry(brokerName, brokerValue, brokerSource, false, false, tk.key(), List.of()));
            }
            synonyms.add(new Entry(brokerName != null ? brokerName : name, brokerValue, DEFAULT_CONFIG, false, false, tk.key(), List.of()));
            entries.add(new Entry(name, overrides.containsKey(name) ? overrides.get(name) : brokerValue,
                    overrides.containsKey(name) ? DYNAMIC_TOPIC_CONFIG : brokerSource, false, false, tk.key(), synonyms));
        }
        return entries;
    }

    public static List<Entry> broker(BrokerConfig broker, Map<String, String> dynamicBroker, Map<String, String> dynamicNode) {
        List<Entry> entries = new ArrayList<>();
        for (ConfigKey key : BrokerConfigs.keys().values()) {
            String name = key.name();
            byte source;
            String value;
            if (dynamicNode.containsKey(name)) {
                source = DYNAMIC_BROKER_CONFIG;
                value = dynamicNode.get(name);
            } else if (dynamicBroker.containsKey(name)) {
                source = DYNAMIC_DEFAULT_BROKER_CONFIG;
                value = dynamicBroker.get(name);
            } else if (broker.isSet(name)) {
                source = STATIC_BROKER_CONFIG;
                value = broker.valueString(name);
            } else {
                source = DEFAULT_CONFIG;
                value = key.defaultValue();
            }
            boolean readOnly = !io.gregor.broker.controller.BrokerConfigOperations.isDynamic(name);
            entries.add(new Entry(name, value, source, readOnly, false, key,
                    List.of(new Entry(name, value, source, readOnly, false, key, List.of()))));
        }
        return entries;
    }
}
