package io.gregor.broker.config;

/** Value types of configuration properties, with the parsing rules Kafka applies to each. */
public enum ConfigType {
    BOOLEAN, INT, LONG, DOUBLE, STRING, LIST, PASSWORD;

    Object parse(String name, String raw) {
        String value = raw.trim();
        try {
            return switch (this) {
                case BOOLEAN -> {
                    if (value.equalsIgnoreCase("true")) {
                        yield Boolean.TRUE;
                    }
                    if (value.equalsIgnoreCase("false")) {
                        yield Boolean.FALSE;
                    }
                    throw new ConfigException(name, raw, "Expected value to be either true or false");
                }
                case INT -> Integer.parseInt(value);
                case LONG -> Long.parseLong(value);
                case DOUBLE -> Double.parseDouble(value);
                case STRING, PASSWORD -> value;
                case LIST -> value.isEmpty() ? java.util.List.of()
                        : java.util.Arrays.stream(value.split("\\s*,\\s*")).filter(s -> !s.isEmpty()).toList();
            };
        } catch (NumberFormatException e) {
            throw new ConfigException(name, raw, "Not a number of type " + this);
        }
    }

    /** Kafka's DescribeConfigs config type code. */
    public byte kafkaTypeCode() {
        return switch (this) {
            case BOOLEAN -> 1;
            case STRING -> 2;
            case INT -> 3;
            case LONG -> 5;
            case DOUBLE -> 6;
            case LIST -> 7;
            case PASSWORD -> 9;
        };
    }
}
