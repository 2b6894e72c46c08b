package io.gregor.broker.config;

import java.util.function.Predicate;

/**
 * One configuration property: its Kafka name, type, default, documentation and validator.
 *
 * @param validator returns true for valid values; {@code validDescription} is shown when it fails
 */
public record ConfigKey(String name, ConfigType type, String defaultValue, String doc,
                        Predicate<Object> validator, String validDescription) {

    public static ConfigKey of(String name, ConfigType type, String defaultValue, String doc) {
        return new ConfigKey(name, type, defaultValue, doc, v -> true, "");
    }

    public static ConfigKey atLeast(String name, ConfigType type, String defaultValue, long min, String doc) {
        return new ConfigKey(name, type, defaultValue, doc,
                v -> ((Number) v).longValue() >= min, "Value must be at least " + min);
    }

    public static ConfigKey oneOf(String name, String defaultValue, String doc, String... allowed) {
        java.util.List<String> values = java.util.List.of(allowed);
        return new ConfigKey(name, ConfigType.STRING, defaultValue, doc,
                v -> values.contains(v), "String must be one of: " + String.join(", ", allowed));
    }

    /** A non-empty list whose items are among {@code allowed} (case-insensitive), e.g. cleanup.policy. */
    public static ConfigKey listOf(String name, String defaultValue, String doc, String... allowed) {
        java.util.List<String> values = java.util.List.of(allowed);
        return new ConfigKey(name, ConfigType.LIST, defaultValue, doc, v -> {
            java.util.List<?> items = (java.util.List<?>) v;
            return !items.isEmpty() && items.stream().allMatch(i -> values.contains(String.valueOf(i).trim()
                    .toLowerCase(java.util.Locale.ROOT)));
        }, "List items must be among: " + String.join(", ", allowed));
    }

    /** Parses and validates a raw value; throws {@link ConfigException} naming this property. */
    public Object parse(String raw) {
        if (raw == null) {
            throw new ConfigException(name, null, "a value is required");
        }
        Object value = type.parse(name, raw);
        if (!validator.test(value)) {
            throw new ConfigException(name, raw, validDescription);
        }
        return value;
    }
}
