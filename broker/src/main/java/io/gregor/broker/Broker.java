package io.gregor.broker;

import io.gregor.broker.config.BrokerConfig;
import io.gregor.broker.config.BrokerConfigs;
import io.gregor.broker.config.Endpoint;
import io.gregor.broker.group.OffsetsTopic;
import io.gregor.broker.group.OffsetsTopicMigration;
import io.gregor.broker.handlers.Handlers;
import io.gregor.broker.handlers.LocalNode;
import io.gregor.broker.handlers.ProducerIdManager;
import io.gregor.metadata.ControllerResult;
import io.gregor.metadata.MetadataImage;
import io.gregor.metadata.MetadataManager;
import io.gregor.metadata.MetadataRecord;
import io.gregor.broker.controller.BrokerConfigOperations;
import io.gregor.broker.controller.TopicOperations;
import io.gregor.broker.network.HandlerRegistry;
import io.gregor.broker.network.KafkaServer;
import io.gregor.broker.replica.PartitionManager;
import io.gregor.coordinator.group.GroupConfig;
import io.gregor.coordinator.group.GroupCoordinatorService;
import io.gregor.coordinator.runtime.CoordinatorTime;
import io.gregor.replication.ReplicaManager;
import io.gregor.raft.RaftMetadataLog;
import io.gregor.raft.RaftSettings;
import io.gregor.storage.FailureProbe;
import io.gregor.storage.LogManager;
import io.gregor.storage.Time;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.common.Uuid;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Gregor node: storage, metadata log, partitions, request handlers and listeners, started in that order and
 * stopped in reverse. A single node is a cluster of one.
 */
public final class Broker implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Broker.class);
    static final String METADATA_DIR = "__gregor_metadata";
    private static final String SERVER = "listeners";

    private final BrokerConfig staticConfig;
    private final FailureProbe probe;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final Lifecycle lifecycle = new Lifecycle();
    private final LocalNode node = new ThisNode();
    private final CompletableFuture<GroupLoad> groupsLoaded = new CompletableFuture<>();
    private volatile BrokerConfig config;
    private volatile List<Endpoint> advertised = List.of();
    private KafkaServer server;
    private MetadataManager metadata;
    private PartitionManager partitions;
    private ReplicaManager replicas;
    private boolean closed;

    public Broker(BrokerConfig config) {
        this(config, FailureProbe.NONE);
    }

    /** A broker whose storage goes through {@code probe} (fault-injection tests). */
    public Broker(BrokerConfig config, FailureProbe probe) {
        this.staticConfig = config;
        this.config = config;
        this.probe = probe;
    }

    /**
     * Starts the node's components in dependency order: storage, replica manager, metadata, group coordinator, request
     * handlers and listeners (bound while the metadata log starts, answering once the node is ready), then the
     * metadata log itself, the group load and housekeeping. {@link #close()} stops them in reverse order, listeners
     * first.
     */
    public synchronized void start() throws IOException {
        long startNs = System.nanoTime();
        Path logDir = staticConfig.logDirs().get(0).toAbsolutePath().normalize();
        Files.createDirectories(logDir);
        if (staticConfig.logDirs().size() > 1) {
            log.warn("Only the first of log.dirs is used for now: {}", logDir);
        }
        try {
            LogManager logManager = lifecycle.started("log manager", new LogManager(logDir, Time.SYSTEM, probe));
            ExecutorService ioPool = Executors.newFixedThreadPool(staticConfig.numIoThreads(), daemonThreads("gregor-io"));
            lifecycle.started("io threads", ioPool, ioPool::shutdownNow);
            replicas = lifecycle.started("replica manager", new ReplicaManager(staticConfig.nodeId(), ioPool));

            metadata = lifecycle.started("metadata", new MetadataManager());
            partitions = new PartitionManager(staticConfig, logManager, replicas);
            metadata.addListener(partitions);
            metadata.addListener(this::onMetadata);
            TopicOperations topics = new TopicOperations(metadata, () -> config, () -> 1);

            CoordinatorTime.SystemTime groupTime = lifecycle.started("group timer", CoordinatorTime.system("gregor-group-timer"));
            OffsetsTopic offsetsTopic = new OffsetsTopic(replicas);
            GroupCoordinatorService groups = lifecycle.started("group coordinator", new GroupCoordinatorService(
                    groupConfig(staticConfig), offsetsTopic, new ImageTopicCatalog(metadata), groupTime, ioPool));

            HandlerRegistry registry = Handlers.registry(new Handlers.Components(() -> config, node, metadata, topics,
                    new BrokerConfigOperations(metadata, () -> config), replicas, new ProducerIdManager(metadata), groups));
            server = lifecycle.started(SERVER, new KafkaServer(staticConfig, registry, ioPool));
            // Bind while the metadata log starts: requests that arrive meanwhile wait until the node is ready.
            CompletableFuture<Void> bound = CompletableFuture.runAsync(() -> {
                try {
                    server.start();
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }, ioPool);
            RaftMetadataLog raft = lifecycle.started("metadata log", new RaftMetadataLog(new RaftSettings(
                    logDir.resolve(METADATA_DIR), staticConfig.nodeId(), "127.0.0.1", 0, 10_000, Duration.ofSeconds(30)),
                    metadata));
            metadata.attach(raft);
            raft.start();
            config = effectiveConfig(metadata.image());
            metadata.replayDone();
            partitions.removeStrayLogs(metadata.image());
            ensureClusterId();
            awaitBound(bound);
            advertised = resolveAdvertised(server.boundAddresses());
            server.markReady();
            loadGroups(logDir, topics, offsetsTopic, groups, ioPool);
            scheduleHousekeeping(logManager);
            staticConfig.warnings().forEach(log::warn);
            log.info("Gregor node {} started in {} ms: {} (cluster {}, data in {}, {} partitions{})", staticConfig.nodeId(),
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNs), advertised, node.clusterId(), logDir,
                    partitions.partitions().size(),
                    logManager.hadCleanShutdown() || partitions.partitions().isEmpty() ? "" : ", recovered after unclean shutdown");
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    /**
     * Brings {@code __consumer_offsets} to Kafka's layout (creating it, or migrating a data directory of the first
     * layout) and loads every partition's groups, in the background; group requests answer
     * COORDINATOR_LOAD_IN_PROGRESS meanwhile.
     */
    private void loadGroups(Path logDir, TopicOperations topics, OffsetsTopic offsetsTopic, GroupCoordinatorService groups,
                            ExecutorService pool) {
        CompletableFuture.supplyAsync(() -> {
            long startNs = System.nanoTime();
            OffsetsTopicMigration.migrateIfNeeded(logDir, metadata, topics, offsetsTopic, replicas,
                    staticConfig.offsetsTopicNumPartitions(), staticConfig.offsetsTopicReplicationFactor(), 1,
                    staticConfig.offsetsTopicSegmentBytes());
            int count = OffsetsTopic.ensureTopic(topics, replicas, staticConfig.offsetsTopicNumPartitions(),
                    staticConfig.offsetsTopicReplicationFactor(), 1, staticConfig.offsetsTopicSegmentBytes());
            groups.startup(count);
            List<CompletableFuture<Long>> loads = new ArrayList<>();
            for (int p = 0; p < count; p++) {
                loads.add(groups.load(p, 0));
            }
            return CompletableFuture.allOf(loads.toArray(CompletableFuture[]::new)).thenApply(v -> {
                long records = loads.stream().mapToLong(CompletableFuture::join).sum();
                long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNs);
                log.info("Loaded {} records of {} ({} partitions) in {} ms", records, OffsetsTopic.TOPIC, count, ms);
                return new GroupLoad(records, System.nanoTime() - startNs);
            });
        }, pool).thenCompose(f -> f).whenComplete((load, e) -> {
            if (e != null) {
                log.error("Loading the group coordinator failed", e);
                groupsLoaded.completeExceptionally(e);
            } else {
                groupsLoaded.complete(load);
            }
        });
    }

    /** The group coordinator's settings (group.* and offsets.* properties). */
    static GroupConfig groupConfig(BrokerConfig config) {
        return new GroupConfig(config.groupInitialRebalanceDelayMs(), config.groupMinSessionTimeoutMs(),
                config.groupMaxSessionTimeoutMs(), config.groupMaxSize(), config.groupConsumerHeartbeatIntervalMs(),
                config.groupConsumerSessionTimeoutMs(), config.groupConsumerMaxSize(), config.groupConsumerAssignors(),
                config.groupConsumerMigrationPolicy(), config.offsetsRetentionMinutes() * 60_000L,
                config.offsetsRetentionCheckIntervalMs(), config.offsetMetadataMaxBytes());
    }

    /** How the group coordinator's replay of {@code __consumer_offsets} went at start. */
    public record GroupLoad(long records, long nanos) {
    }

    /** Completes once the group coordinator has replayed {@code __consumer_offsets}. */
    public CompletableFuture<GroupLoad> groupsLoaded() {
        return groupsLoaded;
    }

    private static void awaitBound(CompletableFuture<Void> bound) throws IOException {
        try {
            bound.join();
        } catch (java.util.concurrent.CompletionException e) {
            if (e.getCause() instanceof java.io.UncheckedIOException io) {
                throw io.getCause();
            }
            throw e;
        }
    }

    /** This node as handlers see it: id and advertised endpoints from the config, cluster id from the metadata log. */
    private final class ThisNode implements LocalNode {
        @Override
        public int nodeId() {
            return staticConfig.nodeId();
        }

        @Override
        public String clusterId() {
            String id = metadata.image().clusterId();
            return id != null ? id : staticConfig.clusterId();
        }

        @Override
        public Endpoint advertisedFor(String listenerName) {
            List<Endpoint> endpoints = advertised;
            return endpoints.stream().filter(e -> e.listenerName().equals(listenerName)).findFirst()
                    .orElse(endpoints.get(0));
        }
    }

    private void ensureClusterId() {
        if (metadata.image().clusterId() != null) {
            return;
        }
        String id = staticConfig.clusterId() != null ? staticConfig.clusterId() : Uuid.randomUuid().toString();
        metadata.write(image -> image.clusterId() != null ? ControllerResult.noChange(null)
                : ControllerResult.of(List.of(new MetadataRecord.ClusterIdSet(id)), null)).join();
    }

    private void onMetadata(MetadataImage previous, MetadataImage next) {
        if (!previous.brokerConfigs().equals(next.brokerConfigs())) {
            config = effectiveConfig(next);
            partitions.updateBrokerConfig(config, next);
        }
    }

    private BrokerConfig effectiveConfig(MetadataImage image) {
        return image.brokerConfigs().isEmpty() ? staticConfig : staticConfig.with(image.brokerConfigs());
    }

    private List<Endpoint> resolveAdvertised(List<InetSocketAddress> bound) {
        List<Endpoint> listeners = staticConfig.listeners();
        List<Endpoint> result = new ArrayList<>();
        for (Endpoint adv : staticConfig.advertisedListeners()) {
            int index = indexOf(listeners, adv.listenerName());
            int port = adv.port() == 0 && index >= 0 ? bound.get(index).getPort() : adv.port();
            String host = adv.host().isEmpty() || adv.host().equals("0.0.0.0") || adv.host().equals("::")
                    ? "127.0.0.1" : adv.host();
            result.add(new Endpoint(adv.listenerName(), host, port));
        }
        return List.copyOf(result);
    }

    private static int indexOf(List<Endpoint> endpoints, String name) {
        for (int i = 0; i < endpoints.size(); i++) {
            if (endpoints.get(i).listenerName().equals(name)) {
                return i;
            }
        }
        return -1;
    }

    private void scheduleHousekeeping(LogManager logManager) {
        ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(daemonThreads("gregor-housekeeping"));
        lifecycle.started("retention", scheduler, scheduler::shutdownNow);
        long interval = staticConfig.logRetentionCheckIntervalMs();
        scheduler.scheduleWithFixedDelay(() -> {
            try {
                logManager.runRetention();
            } catch (RuntimeException e) {
                log.error("Retention check failed", e);
            }
        }, Math.min(interval, 30_000), interval, TimeUnit.MILLISECONDS);
        if (Boolean.parseBoolean(staticConfig.valueString(BrokerConfigs.LOG_CLEANER_ENABLE))) {
            // One cleaner thread: it cleans every log that needs it, then waits log.cleaner.backoff.ms.
            ScheduledExecutorService cleanerThread = Executors.newSingleThreadScheduledExecutor(daemonThreads("gregor-log-cleaner"));
            lifecycle.started("log cleaner", cleanerThread, cleanerThread::shutdownNow);
            io.gregor.storage.LogCleaner cleaner = new io.gregor.storage.LogCleaner(new io.gregor.storage.LogCleaner.Settings(
                    Long.parseLong(staticConfig.valueString(BrokerConfigs.LOG_CLEANER_DEDUPE_BUFFER_SIZE)),
                    Double.parseDouble(staticConfig.valueString(BrokerConfigs.LOG_CLEANER_IO_MAX_BYTES_PER_SECOND))),
                    io.gregor.storage.Time.SYSTEM);
            long backoff = Math.max(1, Long.parseLong(staticConfig.valueString(BrokerConfigs.LOG_CLEANER_BACKOFF_MS)));
            cleanerThread.scheduleWithFixedDelay(() -> {
                try {
                    logManager.runCleaner(cleaner);
                } catch (RuntimeException e) {
                    log.error("Log cleaner round failed", e);
                }
            }, backoff, backoff, TimeUnit.MILLISECONDS);
        }
    }

    private static java.util.concurrent.ThreadFactory daemonThreads(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    public BrokerConfig config() {
        return config;
    }

    public MetadataManager metadata() {
        return metadata;
    }

    public PartitionManager partitions() {
        return partitions;
    }

    /** The addresses actually bound, one per listener, in listener order (port 0 resolved). */
    public List<InetSocketAddress> boundAddresses() {
        return server == null ? List.of() : server.boundAddresses();
    }

    /** The bound port of the first listener. */
    public int boundPort() {
        return boundAddresses().get(0).getPort();
    }

    /** "host:port" of the first listener, for clients' bootstrap.servers. */
    public String bootstrapServers() {
        InetSocketAddress a = boundAddresses().get(0);
        return a.getHostString() + ":" + a.getPort();
    }

    public void awaitShutdown() throws InterruptedException {
        stopped.await();
    }

    /** Stops the listeners first, then every other component in reverse start order (storage last, writing the clean-shutdown marker). */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        // The listeners go first so no request arrives while the rest stops.
        lifecycle.stopFirst(SERVER);
        lifecycle.stop();
        stopped.countDown();
        log.info("Gregor node {} stopped", staticConfig.nodeId());
    }
}
