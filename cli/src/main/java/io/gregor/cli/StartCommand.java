package io.gregor.cli;

import io.gregor.broker.Broker;
import io.gregor.broker.config.BrokerConfig;
import io.gregor.broker.config.BrokerConfigs;
import io.gregor.broker.config.ConfigException;
import io.gregor.broker.config.Endpoint;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code gregor start}: runs one node in the foreground until interrupted. */
@Command(
        name = "start",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = {
            "Start a Gregor node in the foreground; Ctrl-C (SIGINT/SIGTERM) stops it cleanly.",
            "Settings come from --config, then --set, then --data-dir/--listeners (later wins)."
        })
final class StartCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = {"-d", "--data-dir"}, paramLabel = "DIR", description = "Data directory (log.dirs; default ./data).")
    Path dataDir;

    @Option(
            names = {"-l", "--listeners"},
            paramLabel = "URI",
            split = ",",
            description = "Listeners, e.g. PLAINTEXT://0.0.0.0:9092 (default PLAINTEXT://127.0.0.1:9092).")
    List<String> listeners;

    @Option(names = {"-c", "--config"}, paramLabel = "FILE", description = "A server.properties file.")
    Path configFile;

    @Option(
            names = {"-s", "--set"},
            paramLabel = "KEY=VALUE",
            description = "Set a broker property, e.g. --set num.partitions=3 (repeatable).")
    Map<String, String> overrides = new LinkedHashMap<>();

    @Override
    public Integer call() throws Exception {
        BrokerConfig config = loadConfig();
        Broker broker = new Broker(config);
        try {
            broker.start();
        } catch (IOException e) {
            broker.close();
            throw new CliException(startFailure(config, e), e);
        }
        Runtime.getRuntime().addShutdownHook(new Thread(broker::close, "gregor-shutdown"));
        spec.commandLine().getOut().println(startedLine(config, boundListeners(config, broker.boundAddresses())));
        spec.commandLine().getOut().flush();
        broker.awaitShutdown();
        return GregorCli.EXIT_OK;
    }

    /** Merges --set, --data-dir and --listeners over the config file; nothing here has defaults of its own. */
    Map<String, String> effectiveOverrides() {
        Map<String, String> merged = new LinkedHashMap<>(overrides);
        if (dataDir != null) {
            merged.put(BrokerConfigs.LOG_DIRS, dataDir.toString());
        }
        if (listeners != null && !listeners.isEmpty()) {
            merged.put(BrokerConfigs.LISTENERS, String.join(",", listeners));
        }
        return merged;
    }

    BrokerConfig loadConfig() {
        try {
            return BrokerConfig.load(configFile, effectiveOverrides());
        } catch (NoSuchFileException e) {
            throw new CliException("config file not found: " + configFile);
        } catch (IOException e) {
            throw new CliException("cannot read config file " + configFile + ": " + e.getMessage(), e);
        } catch (ConfigException e) {
            throw new CliException(e.getMessage(), e);
        }
    }

    /** The configured listeners with the ports actually bound (port 0 resolved), in listener order. */
    static List<Endpoint> boundListeners(BrokerConfig config, List<InetSocketAddress> bound) {
        List<Endpoint> configured = config.brokerListeners();
        List<Endpoint> result = new ArrayList<>(configured.size());
        for (int i = 0; i < configured.size(); i++) {
            Endpoint e = configured.get(i);
            result.add(i < bound.size() ? e.withPort(bound.get(i).getPort()) : e);
        }
        return result;
    }

    static String startedLine(BrokerConfig config, List<Endpoint> listeners) {
        String dirs = config.logDirs().stream().map(Path::toString).collect(Collectors.joining(", "));
        String endpoints = listeners.stream().map(Endpoint::toString).collect(Collectors.joining(", "));
        return "Gregor started: " + endpoints + ", data in " + dirs + " (node " + config.nodeId() + ")";
    }

    private static String startFailure(BrokerConfig config, IOException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            String m = t.getMessage();
            if (t instanceof BindException || (m != null && m.contains("Address already in use"))) {
                String hint = " (is another broker running? use --listeners to pick another port)";
                String top = e.getMessage();
                if (top != null && top.toLowerCase(java.util.Locale.ROOT).contains("listen")) {
                    return top + hint; // the broker already names the listener
                }
                String endpoints = config.listeners().stream().map(Endpoint::toString).collect(Collectors.joining(", "));
                return "cannot listen on " + endpoints + ": " + (m == null ? "address already in use" : m) + hint;
            }
        }
        return "cannot start: " + (e.getMessage() == null ? e.toString() : e.getMessage());
    }
}
