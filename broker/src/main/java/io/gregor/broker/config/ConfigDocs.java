package io.gregor.broker.config;

/** Renders docs/configuration.md from the configuration tables, so the reference cannot drift from the code. */
public final class ConfigDocs {
    private ConfigDocs() {
    }

    public static String markdown() {
        StringBuilder md = new StringBuilder();
        md.append("# Configuration reference\n\n")
                .append("Generated from `BrokerConfigs` and `TopicConfigs` (run `ConfigDocs.main`); do not edit by hand.\n\n")
                .append("Broker properties go in a `server.properties` file (`gregor start --config FILE`) or on the command line ")
                .append("(`gregor start --set name=value`). Names and defaults are Kafka's where Kafka has the same setting.\n\n")
                .append("## Broker properties\n\n| name | type | default | description |\n|---|---|---|---|\n");
        for (ConfigKey key : BrokerConfigs.keys().values()) {
            row(md, key.name(), key.type(), key.defaultValue(), key.doc());
        }
        md.append("\n## Topic properties\n\nSet per topic (CreateTopics configs, `gregor topic create --config`, ")
                .append("`gregor topic alter-config`, `kafka-configs.sh`). A topic without an override uses the broker ")
                .append("property named in the last column; those broker properties can also be changed at run time, ")
                .append("cluster-wide, with IncrementalAlterConfigs on the broker resource.\n\n")
                .append("| name | type | description | broker default from |\n|---|---|---|---|\n");
        for (TopicConfigs.TopicKey tk : TopicConfigs.keys().values()) {
            md.append("| `").append(tk.key().name()).append("` | ").append(tk.key().type().name().toLowerCase())
                    .append(" | ").append(tk.key().doc()).append(" | ")
                    .append(tk.brokerSynonym() == null ? "default `" + tk.key().defaultValue() + "`" : "`" + tk.brokerSynonym() + "`")
                    .append(" |\n");
        }
        return md.toString();
    }

    private static void row(StringBuilder md, String name, ConfigType type, String def, String doc) {
        md.append("| `").append(name).append("` | ").append(type.name().toLowerCase()).append(" | ")
                .append(def == null ? "" : "`" + def + "`").append(" | ").append(doc).append(" |\n");
    }

    public static void main(String[] args) throws java.io.IOException {
        java.nio.file.Path out = java.nio.file.Path.of(args.length > 0 ? args[0] : "docs/configuration.md");
        java.nio.file.Files.writeString(out, markdown());
    }
}
