package io.gregor.testkit;

import io.gregor.broker.Broker;
import io.gregor.broker.config.BrokerConfig;
import io.gregor.storage.FailureProbe;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.Collectors;
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
 * Gregor for tests, started in this JVM on free ports with its data in a directory of its own:
 * <pre>
 * try (GregorCluster gregor = GregorCluster.single().with("num.partitions", "3").start()) {
 *     gregor.createTopic("orders", 3);
 *     try (var producer = gregor.producer()) { ... }
 * }
 * </pre>
 * {@link #nodes(int)} starts that many nodes (ids 1..n), each a voter of the metadata quorum
 * ({@code process.roles=broker,controller}, a CONTROLLER listener of its own), as a Kafka KRaft combined-mode cluster
 * would be configured. {@link #restart()} stops every node and starts it again on the same data and addresses;
 * {@link #stop(int)} and {@link #start(int)} do it for one node. Not thread-safe.
 */
public final class GregorCluster implements AutoCloseable {
    private final Map<String, String> settings;
    private final FailureProbe probe;
    private final Path dataDir;
    private final boolean ownsDir;
    private final List<Node> nodes = new ArrayList<>();
    private final List<Integer> controllerPorts = new ArrayList<>();
    private Admin admin;

    /** One node: its settings (addresses fixed after the first start) and, while it runs, its broker. */
    private static final class Node {
        final int id;
        final Path dir;
        final Map<String, String> config;
        Broker broker;

        Node(int id, Path dir, Map<String, String> config) {
            this.id = id;
            this.dir = dir;
            this.config = config;
        }
    }

    private GregorCluster(Map<String, String> settings, Path dataDir, boolean ownsDir, FailureProbe probe) {
        this.settings = settings;
        this.probe = probe;
        this.dataDir = dataDir;
        this.ownsDir = ownsDir;
    }

    /** One node. */
    public static Builder single() {
        return new Builder(1);
    }

    /** {@code count} nodes forming one cluster (each a voter of the metadata quorum). */
    public static Builder nodes(int count) {
        if (count < 1) {
            throw new IllegalArgumentException("a cluster has at least one node, not " + count);
        }
        return new Builder(count);
    }

    /** Sets up a cluster; nothing runs until {@link #start()}. */
    public static final class Builder {
        private final int count;
        private final Map<String, String> settings = new HashMap<>();
        private Path dataDir;
        private FailureProbe probe = FailureProbe.NONE;

        private Builder(int count) {
            this.count = count;
            // Tests want groups that form at once, not after Kafka's 3 s initial rebalance delay.
            settings.put("group.initial.rebalance.delay.ms", "0");
        }

        /** A broker property (Kafka's name), as {@code --set} would give it, for every node. */
        public Builder with(String name, String value) {
            settings.put(name, value);
            return this;
        }

        /** Keeps the data in {@code dir} (left in place at close) instead of a temporary directory. */
        public Builder dataDir(Path dir) {
            this.dataDir = dir;
            return this;
        }

        /** Storage goes through {@code probe} (fault injection: full disks, failing fsyncs), on every node. */
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
            // Ports are picked free and then released before the nodes bind them: another process may take one in
            // between. A start that fails on a taken port is tried again on fresh ports and an empty data directory.
            for (int attempt = 1; ; attempt++) {
                GregorCluster cluster = new GregorCluster(new HashMap<>(settings), dir, owns, probe);
                cluster.configure(count);
                try {
                    cluster.startAll();
                    return cluster;
                } catch (RuntimeException e) {
                    boolean again = attempt < MAX_START_ATTEMPTS && owns && portTaken(e);
                    cluster.close();
                    if (!again) {
                        throw e;
                    }
                    try {
                        Files.createDirectories(dir);
                    } catch (IOException io) {
                        throw new UncheckedIOException(io);
                    }
                }
            }
        }
    }

    private void configure(int count) {
        if (count == 1) {
            Map<String, String> config = new HashMap<>(settings);
            config.putIfAbsent("log.dirs", dataDir.toString());
            config.putIfAbsent("listeners", "PLAINTEXT://127.0.0.1:0");
            nodes.add(new Node(1, dataDir, config));
            return;
        }
        List<Integer> brokerPorts = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            controllerPorts.add(freePort());
            brokerPorts.add(freePort());
        }
        StringBuilder voters = new StringBuilder();
        for (int i = 0; i < count; i++) {
            voters.append(i == 0 ? "" : ",").append(i + 1).append("@127.0.0.1:").append(controllerPorts.get(i));
        }
        for (int i = 0; i < count; i++) {
            int id = i + 1;
            Path dir = dataDir.resolve("n" + id);
            Map<String, String> config = new HashMap<>(settings);
            config.put("node.id", Integer.toString(id));
            config.put("process.roles", "broker,controller");
            config.put("controller.quorum.voters", voters.toString());
            config.put("controller.listener.names", "CONTROLLER");
            config.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
            config.put("listeners", "PLAINTEXT://127.0.0.1:" + brokerPorts.get(i) + ",CONTROLLER://127.0.0.1:"
                    + controllerPorts.get(i));
            // Elections within a fraction of a second keep failover tests short.
            config.putIfAbsent("controller.quorum.election.timeout.ms", "300");
            config.put("log.dirs", dir.toString());
            nodes.add(new Node(id, dir, config));
        }
    }

    /**
     * Adds a broker-only node ({@code process.roles=broker}: it holds partitions and receives the metadata log without
     * voting) to this running cluster of several nodes, finding the quorum through
     * {@code controller.quorum.bootstrap.servers} as a Kafka 4.x broker would; starts it and returns its id (the next
     * one). It then stops, starts and closes with the others.
     */
    public int addBrokerNode() {
        return addNode(false);
    }

    /**
     * Adds a {@code process.roles=broker,controller} node with a CONTROLLER listener of its own
     * ({@link #controllerEndpoint}) and only {@code controller.quorum.bootstrap.servers}: it observes the quorum until
     * AddRaftVoter makes it a voter. Starts it and returns its id.
     */
    public int addControllerNode() {
        return addNode(true);
    }

    private int addNode(boolean controller) {
        if (controllerPorts.isEmpty()) {
            throw new IllegalStateException("a node joins a cluster of several nodes, not a single node");
        }
        int id = nodes.size() + 1;
        Path dir = dataDir.resolve("n" + id);
        Map<String, String> config = new HashMap<>(settings);
        config.put("node.id", Integer.toString(id));
        config.put("process.roles", controller ? "broker,controller" : "broker");
        // Every node with a CONTROLLER listener (a voter, or one to be) may answer.
        config.put("controller.quorum.bootstrap.servers", nodes.stream()
                .filter(n -> n.config.get("listeners").contains("CONTROLLER://"))
                .map(n -> controllerEndpoint(n.id)).collect(Collectors.joining(",")));
        config.put("controller.listener.names", "CONTROLLER");
        config.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        int controllerPort = freePort();
        controllerPorts.add(controllerPort);
        config.put("listeners", "PLAINTEXT://127.0.0.1:" + freePort()
                + (controller ? ",CONTROLLER://127.0.0.1:" + controllerPort : ""));
        config.putIfAbsent("controller.quorum.election.timeout.ms", "300");
        config.put("log.dirs", dir.toString());
        Node node = new Node(id, dir, config);
        nodes.add(node);
        closeClients();
        startNode(node);
        return id;
    }

    /** {@code 127.0.0.1:port} of node {@code id}'s CONTROLLER listener (the Raft server of a voter). */
    public String controllerEndpoint(int id) {
        node(id);
        return "127.0.0.1:" + controllerPorts.get(id - 1);
    }

    private static final int MAX_START_ATTEMPTS = 3;

    /** Whether a start failed because a port was taken (by anything between {@link #freePort()} and the bind). */
    private static boolean portTaken(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof java.net.BindException || t.getMessage() != null && t.getMessage().contains("Address already in use")) {
                return true;
            }
        }
        return false;
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Starts every stopped node, at once: a node of a quorum waits in its start for a majority. */
    private void startAll() {
        List<Node> stopped = nodes.stream().filter(n -> n.broker == null).toList();
        if (stopped.size() == 1) {
            startNode(stopped.get(0));
            return;
        }
        ExecutorService threads = Executors.newFixedThreadPool(stopped.size());
        try {
            List<CompletableFuture<Void>> starts = stopped.stream()
                    .map(n -> CompletableFuture.runAsync(() -> startNode(n), threads)).toList();
            for (CompletableFuture<Void> start : starts) {
                try {
                    start.join();
                } catch (CompletionException e) {
                    throw e.getCause() instanceof RuntimeException r ? r : e;
                }
            }
        } finally {
            threads.shutdown();
        }
    }

    private void startNode(Node node) {
        Broker broker = new Broker(BrokerConfig.of(node.config), probe);
        try {
            broker.start();
        } catch (IOException e) {
            broker.close();
            throw new UncheckedIOException("Gregor node " + node.id + " did not start", e);
        }
        node.broker = broker;
        // A restart comes back on the same address, as a real node would: clients keep their bootstrap servers.
        if (node.config.get("listeners").endsWith(":0")) {
            node.config.put("listeners", "PLAINTEXT://" + broker.bootstrapServers());
        }
    }

    /** The {@code bootstrap.servers} value for clients: every running node. */
    public String bootstrapServers() {
        return running().stream().map(n -> n.broker.bootstrapServers()).collect(Collectors.joining(","));
    }

    private List<Node> running() {
        return nodes.stream().filter(n -> n.broker != null).toList();
    }

    /** The first running node (for tests that look inside). */
    public Broker broker() {
        return running().get(0).broker;
    }

    /** Node {@code id} (1..n), or null while it is stopped. */
    public Broker broker(int id) {
        return node(id).broker;
    }

    private Node node(int id) {
        if (id < 1 || id > nodes.size()) {
            throw new IllegalArgumentException("no node " + id + " in a cluster of " + nodes.size());
        }
        return nodes.get(id - 1);
    }

    /** How many nodes the cluster has, running or not. */
    public int size() {
        return nodes.size();
    }

    /** Stops node {@code id} cleanly; {@link #start(int)} brings it back on the same data and addresses. */
    public void stop(int id) {
        Node node = node(id);
        if (node.broker != null) {
            closeClients();
            node.broker.close();
            node.broker = null;
        }
    }

    /**
     * Stops node {@code id} without a controlled shutdown, as a crash looks to the other nodes (they fence it after
     * broker.session.timeout.ms); its files are still closed cleanly, unlike kill -9.
     */
    public void halt(int id) {
        Node node = node(id);
        if (node.broker != null) {
            closeClients();
            node.broker.halt();
            node.broker = null;
        }
    }

    /** Starts node {@code id} again after {@link #stop(int)} or {@link #halt(int)}. */
    public void start(int id) {
        Node node = node(id);
        if (node.broker == null) {
            startNode(node);
        }
    }

    /** The data directory: of the only node, or the parent of {@code n1}, {@code n2}, ... of a cluster. */
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
            Uuid id = result.topicId(name).get();
            // Nodes create the partitions' logs after the topic is committed; tests may use them at once.
            awaitMetadataPublished();
            return id;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("Creating topic " + name + " failed", e.getCause());
        }
    }

    /** Waits until every running node has applied all it knows of the metadata log locally (logs created, ...). */
    public void awaitMetadataPublished() {
        for (Node node : nodes) {
            if (node.broker != null && node.broker.metadata() != null) {
                node.broker.metadata().awaitPublished(java.time.Duration.ofSeconds(30));
            }
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

    /** Stops every node (cleanly) and starts them again on the same data and addresses; clients may stay connected. */
    public void restart() {
        closeClients();
        for (Node node : nodes) {
            if (node.broker != null) {
                node.broker.close();
                node.broker = null;
            }
        }
        startAll();
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
        for (Node node : nodes) {
            if (node.broker != null) {
                node.broker.close();
                node.broker = null;
            }
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
