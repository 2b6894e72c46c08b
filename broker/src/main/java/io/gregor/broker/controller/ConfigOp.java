package io.gregor.broker.controller;

import io.gregor.broker.config.ConfigException;
import io.gregor.broker.config.ConfigKey;
import io.gregor.broker.config.ConfigType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * One IncrementalAlterConfigs operation on a configuration key. {@link #applyAll} turns a list of them into the new
 * override map; validating the resulting values is left to the caller, which knows whose configs they are.
 *
 * @param value the operand; ignored for DELETE
 */
public record ConfigOp(String name, Type type, String value) {

    /** Kafka's {@code AlterConfigOp.OpType}, in code order. */
    public enum Type {
        SET, DELETE, APPEND, SUBTRACT;

        /** The type with Kafka's wire code {@code code}, or null for a code Kafka does not define. */
        public static Type of(byte code) {
            return code >= 0 && code < values().length ? values()[code] : null;
        }
    }

    public static ConfigOp set(String name, String value) {
        return new ConfigOp(name, Type.SET, value);
    }

    /**
     * Applies {@code ops} in order to a copy of {@code overrides}. APPEND and SUBTRACT work on list-typed keys only
     * and start from the key's current value: its override, else {@code inherited}.
     *
     * @param kind what the configs belong to ("topic", "broker"), for error messages
     * @param keys the definition of each known key, null for an unknown one
     * @param inherited the value a key has when it has no override
     * @throws ConfigException for an unknown key or APPEND/SUBTRACT on a non-list key (INVALID_CONFIG)
     * @throws IllegalArgumentException for a key named twice or a missing operand (INVALID_REQUEST)
     */
    static Map<String, String> applyAll(String kind, Map<String, String> overrides, List<ConfigOp> ops,
                                        Function<String, ConfigKey> keys, Function<String, String> inherited) {
        Set<String> seen = new HashSet<>();
        for (ConfigOp op : ops) {
            if (!seen.add(op.name())) {
                throw new IllegalArgumentException("Error due to duplicate config keys: " + op.name());
            }
        }
        Map<String, String> next = new LinkedHashMap<>(overrides);
        for (ConfigOp op : ops) {
            ConfigKey key = keys.apply(op.name());
            if (key == null) {
                throw new ConfigException("Unknown " + kind + " config name: " + op.name());
            }
            if (op.type() != Type.DELETE && op.value() == null) {
                throw new IllegalArgumentException("Null value not supported for: " + op.name());
            }
            switch (op.type()) {
                case SET -> next.put(op.name(), op.value());
                case DELETE -> next.remove(op.name());
                case APPEND, SUBTRACT -> {
                    if (key.type() != ConfigType.LIST) {
                        throw new ConfigException("Config value " + op.type().name().toLowerCase(Locale.ROOT)
                                + " is not allowed for config key " + op.name() + ": it is not a list");
                    }
                    String current = next.containsKey(op.name()) ? next.get(op.name()) : inherited.apply(op.name());
                    next.put(op.name(), String.join(",", edit(split(current), split(op.value()), op.type())));
                }
            }
        }
        return next;
    }

    private static List<String> edit(List<String> current, List<String> operand, Type type) {
        List<String> result = new ArrayList<>(current);
        if (type == Type.APPEND) {
            operand.stream().filter(v -> !result.contains(v)).forEach(result::add);
        } else {
            result.removeAll(operand);
        }
        return result;
    }

    private static List<String> split(String list) {
        if (list == null || list.isBlank()) {
            return List.of();
        }
        return Arrays.stream(list.trim().split("\\s*,\\s*")).filter(s -> !s.isEmpty()).toList();
    }
}
