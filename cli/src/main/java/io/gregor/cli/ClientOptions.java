package io.gregor.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Properties;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Option;

/**
 * Options every command that talks to a broker shares, and the client properties built from them. Precedence, lowest
 * first: our short timeouts, then {@code --command-config}, then {@code --bootstrap-server} and per-command flags.
 */
final class ClientOptions {
    static final String DEFAULT_BOOTSTRAP = "127.0.0.1:9092";
    static final int PROBE_TIMEOUT_MS = 3_000;
    static final String API_TIMEOUT_MS = "10000";

    @Option(
            names = {"-b", "--bootstrap-server"},
            paramLabel = "HOST:PORT",
            defaultValue = "${env:GREGOR_BOOTSTRAP:-" + DEFAULT_BOOTSTRAP + "}",
            description = "Broker(s) to connect to, comma-separated (default: ${DEFAULT-VALUE}; env GREGOR_BOOTSTRAP).")
    String bootstrapServers;

    @Option(
            names = "--command-config",
            paramLabel = "FILE",
            description = "Client properties file (security settings and the like).")
    Path commandConfig;

    /** Properties common to admin, producer and consumer. */
    Properties baseProperties() {
        Properties props = new Properties();
        props.put(CommonClientConfigs.REQUEST_TIMEOUT_MS_CONFIG, API_TIMEOUT_MS);
        props.put(CommonClientConfigs.DEFAULT_API_TIMEOUT_MS_CONFIG, API_TIMEOUT_MS);
        props.put(CommonClientConfigs.SOCKET_CONNECTION_SETUP_TIMEOUT_MS_CONFIG, "5000");
        props.put(CommonClientConfigs.SOCKET_CONNECTION_SETUP_TIMEOUT_MAX_MS_CONFIG, "5000");
        props.put(CommonClientConfigs.RECONNECT_BACKOFF_MAX_MS_CONFIG, "1000");
        props.put(CommonClientConfigs.CLIENT_ID_CONFIG, "gregor-cli");
        if (commandConfig != null) {
            props.putAll(readProperties(commandConfig));
        }
        props.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        return props;
    }

    /** Builds an Admin client after checking that the broker answers at all. */
    Admin admin() {
        Properties props = baseProperties();
        connectable(props);
        props.putIfAbsent(AdminClientConfig.RETRIES_CONFIG, "3");
        return Admin.create(props);
    }

    /** Fails fast with one clear line when nothing listens at the bootstrap address; quiets kafka-clients' logging. */
    void connectable(Properties props) {
        quietKafkaLogging();
        String protocol = props.getProperty(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "PLAINTEXT");
        boolean plaintext = !protocol.trim().toUpperCase(java.util.Locale.ROOT).endsWith("SSL");
        BrokerProbe.requireReachable(bootstrapServers, PROBE_TIMEOUT_MS, plaintext);
    }

    /**
     * kafka-clients logs every refused connection and retry at WARN/INFO; on a command line that drowns the one line
     * that matters. {@code -Dgregor.client.log.level=DEBUG} (via GREGOR_OPTS) brings it back.
     */
    static void quietKafkaLogging() {
        if (LoggerFactory.getLogger("org.apache.kafka") instanceof Logger logger) {
            logger.setLevel(Level.toLevel(System.getProperty("gregor.client.log.level"), Level.OFF));
        }
    }

    private static Properties readProperties(Path file) {
        Properties props = new Properties();
        try (Reader reader = Files.newBufferedReader(file)) {
            props.load(reader);
        } catch (NoSuchFileException e) {
            throw new CliException("command config file not found: " + file);
        } catch (IOException e) {
            throw new CliException("cannot read command config file " + file + ": " + e.getMessage(), e);
        }
        return props;
    }
}
