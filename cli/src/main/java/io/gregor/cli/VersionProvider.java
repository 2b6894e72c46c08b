package io.gregor.cli;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import org.apache.kafka.common.utils.AppInfoParser;
import picocli.CommandLine.IVersionProvider;

/** {@code --version}: our version (from a resource Maven fills in), the Kafka protocol library's, and the JVM's. */
final class VersionProvider implements IVersionProvider {
    @Override
    public String[] getVersion() {
        return new String[] {
            "gregor " + gregorVersion(),
            "kafka-clients " + AppInfoParser.getVersion() + ", Java " + Runtime.version() + " ("
                    + System.getProperty("java.vm.name") + ")"
        };
    }

    static String gregorVersion() {
        try (InputStream in = VersionProvider.class.getResourceAsStream("/io/gregor/cli/version.properties")) {
            if (in == null) {
                return "unknown";
            }
            Properties props = new Properties();
            props.load(in);
            String version = props.getProperty("version", "unknown");
            return version.startsWith("${") ? "unknown" : version;
        } catch (IOException e) {
            return "unknown";
        }
    }
}
