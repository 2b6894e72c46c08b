package io.gregor.testkit;

import io.gregor.broker.Broker;
import io.gregor.broker.config.BrokerConfig;
import io.gregor.storage.FailureProbe;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.CreateTopicsResult;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Gregor for tests, started in this JVM on a free port with its data in a directory of its own:
 * <pre>
 * try (GregorCluster gregor = GregorCluster.single().with("num.partitions", "3").start()) {
 *     gregor.createTopic("orders", 3);
 *     try (var producer = gregor.producer()) { ... }
 * }
 * </pre>
 * {@link #restart()} stops the node and starts it again on the same data. Several nodes come with replication
 * (issue 9): until then {@link #nodes} refuses more than one. Not thread-safe.
 */
public final class GregorCluster implements AutoCloseable {
    private final Map<String, String> settings;
    private final FailureProbe probe;
    private final Path dataDir;
    private final boolean ownsDir;
    private Broker broker;
    private Admin admin;

    private GregorCluster(Map<String, String> settings, Path dataDir, boolean ownsDir, FailureProbe probe) {
        this.settings = settings;
        this.probe = probe;
        this.dataDir = dataDir;
        this.ownsDir = ownsDir;
    }

    /** One node. */
    public static Builder single() {
        return new Builder();
    }

    /** {@code count} nodes; only 1 until replication exists. */
    public static Builder nodes(int count) {
        if (count != 1) {
            throw new UnsupportedOperationException("GregorCluster runs one node until replication lands (issue 9); asked for " + count);
        }
        return single();
    }

    /** Sets up a cluster; nothing runs until {@link #start()}. */
    public static final class Builder {
        private final Map<String, String> settings = new HashMap<>();
        private Path dataDir;
        private FailureProbe probe = FailureProbe.NONE;

        private Builder() {
            // Tests want groups that form at once, not after Kafka's 3 s initial rebalance delay.
            settings.put("group.initial.rebalance.delay.ms", "0");
        }

        /** A broker property (Kafka's name), as {@code --set} would give it. */
        public Builder with(String name, String value) {
            settings.put(name, value);
            return this;
        }

        /** Keeps the data in {@code dir} (left in place at close) instead of a temporary directory. */
        public Builder dataDir(Path dir) {
            this.dataDir = dir;
            return this;
        }

        /** Storage goes through {@code probe} (fault injection: full disks, failing fsyncs). */
        public Builder failureProbe(FailureProbe value) {
            this.probe = value;
            return this;
        }

        public GregorCluster start() {
            Path dir = dataDir;
            boolean owns = dir == null;
            try {
                if (owns) {
                    dir = Files.createTempDirectory("gregor-test-");
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            GregorCluster cluster = new GregorCluster(new HashMap<>(settings), dir, owns, probe);
            cluster.startNode();
            return cluster;
        }
    }

    private void startNode() {
        Map<String, String> config = new HashMap<>(settings);
        config.putIfAbsent("log.dirs", dataDir.toString());
        config.putIfAbsent("listeners", "PLAINTEXT://127.0.0.1:0");
        broker = new Broker(BrokerConfig.of(config), probe);
        try {
            broker.start();
        } catch (IOException e) {
            broker.close();
            throw new UncheckedIOException("Gregor did not start", e);
        }
        // A restart comes back on the same address, as a real node would: clients keep their bootstrap servers.
        settings.putIfAbsent("listeners", "PLAINTEXT://" + broker.bootstrapServers());
    }

    /** The {@code bootstrap.servers} value for clients. */
    public String bootstrapServers() {
        return broker.bootstrapServers();
    }

    /** The running node (for tests that look inside). */
    public Broker broker() {
        return broker;
    }

    public Path dataDir() {
        return dataDir;
    }

    /** One shared Admin client, closed with the cluster. */
    public Admin admin() {
        if (admin == null) {
            admin = Admin.create(Map.of("bootstrap.servers", bootstrapServers()));
        }
        return admin;
    }

    /** Creates a topic (replication factor 1), waits until it is created and returns its id. */
    public Uuid createTopic(String name, int partitions, Map<String, String> configs) {
        try {
            CreateTopicsResult result = admin().createTopics(List.of(new NewTopic(name, partitions, (short) 1).configs(configs)));
            result.all().get();
            return result.topicId(name).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("Creating topic " + name + " failed", e.getCause());
        }
    }

    /** Creates a topic (replication factor 1) without config overrides and returns its id. */
    public Uuid createTopic(String name, int partitions) {
        return createTopic(name, partitions, Map.of());
    }

    /** The client properties to reach this cluster, with {@code overrides} (name, value pairs) on top. */
    public Map<String, Object> clientConfig(String... overrides) {
        if (overrides.length % 2 != 0) {
            throw new IllegalArgumentException("overrides come as name, value pairs");
        }
        Map<String, Object> config = new HashMap<>();
        config.put("bootstrap.servers", bootstrapServers());
        for (int i = 0; i < overrides.length; i += 2) {
            config.put(overrides[i], overrides[i + 1]);
        }
        return config;
    }

    /** A String producer; the caller closes it. */
    public KafkaProducer<String, String> producer(String... overrides) {
        return new KafkaProducer<>(clientConfig(overrides), new StringSerializer(), new StringSerializer());
    }

    /** A String consumer; the caller closes it. */
    public KafkaConsumer<String, String> consumer(String... overrides) {
        return new KafkaConsumer<>(clientConfig(overrides), new StringDeserializer(), new StringDeserializer());
    }

    /** Stops the node (cleanly) and starts it again on the same data and address; clients may stay connected. */
    public void restart() {
        closeClients();
        broker.close();
        startNode();
    }

    private void closeClients() {
        if (admin != null) {
            admin.close(Duration.ofSeconds(5));
            admin = null;
        }
    }

    @Override
    public void close() {
        closeClients();
        if (broker != null) {
            broker.close();
        }
        if (ownsDir) {
            try (Stream<Path> files = Files.walk(dataDir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (IOException e) {
                // A temporary directory that could not be removed is left to the system.
            }
        }
    }
}
