package io.gregor.broker.config;

/** A configuration value that cannot be used; the message says which property and why, as Kafka words it. */
public final class ConfigException extends RuntimeException {
    public ConfigException(String name, Object value, String why) {
        super("Invalid value " + value + " for configuration " + name + (why == null ? "" : ": " + why));
    }

    public ConfigException(String message) {
        super(message);
    }
}
