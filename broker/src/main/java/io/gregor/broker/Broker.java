package io.gregor.broker;

import io.gregor.broker.config.BrokerConfig;
import io.gregor.broker.config.BrokerConfigs;
import io.gregor.broker.config.Endpoint;
import io.gregor.broker.group.OffsetsLeadership;
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
import io.gregor.broker.controller.ClusterOperations;
import io.gregor.broker.controller.ReassignmentOperations;
import io.gregor.broker.controller.ControllerChannel;
import io.gregor.broker.network.NodeClient;
import io.gregor.metadata.BrokerRegistration;
import io.gregor.metadata.ApiError;
import io.gregor.replication.ReplicaFetcherManager;
import org.apache.kafka.common.message.AlterPartitionRequestData;
import org.apache.kafka.common.message.AlterPartitionResponseData;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.message.OffsetForLeaderEpochRequestData;
import org.apache.kafka.common.message.OffsetForLeaderEpochResponseData;
import org.apache.kafka.common.message.BrokerHeartbeatRequestData;
import org.apache.kafka.common.message.BrokerHeartbeatResponseData;
import org.apache.kafka.common.message.BrokerRegistrationRequestData;
import org.apache.kafka.common.message.BrokerRegistrationResponseData;
import org.apache.kafka.common.protocol.Errors;
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
import io.gregor.raft.RaftVoter;
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
    /** The Raft term in which this node last became the active controller ({@link #activateIfNewTerm}). */
    private final java.util.concurrent.atomic.AtomicLong activatedTerm = new java.util.concurrent.atomic.AtomicLong(-1);
    private KafkaServer server;
    private volatile RaftMetadataLog raft;
    private ControllerChannel controller;
    private ClusterOperations cluster;
    private final Uuid incarnationId = Uuid.randomUuid();
    private MetadataManager metadata;
    private PartitionManager partitions;
    private ReplicaManager replicas;
    private io.gregor.broker.handlers.FetchSessionCache fetchSessions;
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
            logManager.producerIdExpirationMs(staticConfig.producerIdExpirationMs());
            ExecutorService ioPool = Executors.newFixedThreadPool(staticConfig.numIoThreads(), daemonThreads("gregor-io"));
            lifecycle.started("io threads", ioPool, ioPool::shutdownNow);
            replicas = lifecycle.started("replica manager", new ReplicaManager(staticConfig.nodeId(), ioPool));

            metadata = lifecycle.started("metadata", new MetadataManager());
            NodeClient nodeClient = lifecycle.started("node client", new NodeClient("gregor-node-" + staticConfig.nodeId(),
                    staticConfig.socketRequestMaxBytes()));
            ReplicaFetcherManager fetchers = lifecycle.started("replica fetchers", new ReplicaFetcherManager(
                    staticConfig.nodeId(), replicas, new NodeLeaderEndpoint(nodeClient), fetcherSettings()));
            partitions = new PartitionManager(staticConfig, logManager, replicas, fetchers);
            metadata.addListener(partitions);
            metadata.addListener(this::onMetadata);
            TopicOperations topics = new TopicOperations(metadata, () -> config);

            CoordinatorTime.SystemTime groupTime = lifecycle.started("group timer", CoordinatorTime.system("gregor-group-timer"));
            OffsetsTopic offsetsTopic = new OffsetsTopic(replicas);
            GroupCoordinatorService groups = lifecycle.started("group coordinator", new GroupCoordinatorService(
                    groupConfig(staticConfig), offsetsTopic, new ImageTopicCatalog(metadata), groupTime, ioPool));
            metadata.addListener(new OffsetsLeadership(staticConfig.nodeId(), groups));

            controller = lifecycle.started("controller channel", new ControllerChannel(staticConfig.nodeId(),
                    () -> raft == null ? -1 : raft.leaderId(), () -> raft != null && raft.isLeader(), metadata,
                    staticConfig.interBrokerListenerName(), nodeClient));
            io.gregor.broker.txn.TransactionMarkers markers = lifecycle.started("transaction markers",
                    new io.gregor.broker.txn.TransactionMarkers(staticConfig.nodeId(), metadata, replicas, groups, nodeClient,
                            this::interBrokerAddress));
            io.gregor.broker.txn.TransactionStateTopic transactionTopic = new io.gregor.broker.txn.TransactionStateTopic(
                    replicas, metadata, new io.gregor.broker.txn.TransactionStateTopic.Settings(
                            staticConfig.transactionStateLogNumPartitions(), staticConfig.transactionStateLogReplicationFactor(),
                            staticConfig.transactionStateLogMinIsr(), staticConfig.transactionStateLogSegmentBytes()),
                    topic -> controller.isActive() ? OffsetsTopic.createWith(topics).apply(topic) : forwardCreate(topic),
                    () -> liveBrokerCount(metadata.image()));
            io.gregor.coordinator.transaction.TransactionCoordinatorService transactions = lifecycle.started(
                    "transaction coordinator", new io.gregor.coordinator.transaction.TransactionCoordinatorService(
                            new io.gregor.coordinator.transaction.TransactionConfig(staticConfig.transactionMaxTimeoutMs(),
                                    staticConfig.transactionalIdExpirationMs(),
                                    staticConfig.transactionRemoveExpiredCleanupIntervalMs()),
                            transactionTopic, markers, groupTime, ioPool));
            io.gregor.broker.txn.TransactionLeadership transactionLeadership =
                    new io.gregor.broker.txn.TransactionLeadership(staticConfig.nodeId(), transactions);
            metadata.addListener(transactionLeadership);
            cluster = new ClusterOperations(metadata, Long.parseLong(staticConfig.valueString(BrokerConfigs.BROKER_SESSION_TIMEOUT_MS)),
                    Long.parseLong(staticConfig.valueString(BrokerConfigs.BROKER_HEARTBEAT_INTERVAL_MS)),
                    () -> TimeUnit.NANOSECONDS.toMillis(System.nanoTime()), this::uncleanAllowed);
            fetchSessions = new io.gregor.broker.handlers.FetchSessionCache(config.maxIncrementalFetchSessionCacheSlots(),
                    System::currentTimeMillis);
            HandlerRegistry registry = Handlers.registry(new Handlers.Components(() -> config, node, metadata, topics,
                    new BrokerConfigOperations(metadata, () -> config),
                    new io.gregor.broker.controller.FeatureOperations(metadata, () -> config), replicas,
                    new ProducerIdManager(metadata, controller), groups, controller, cluster,
                    new ReassignmentOperations(metadata), this::quorumState,
                    staticConfig.controllerListener().map(Endpoint::listenerName).orElse("CONTROLLER"),
                    new io.gregor.broker.handlers.QuorumMembership() {
                        @Override
                        public CompletableFuture<Void> addVoter(int nodeId, String host, int port) {
                            return raft.addVoter(nodeId, host, port);
                        }

                        @Override
                        public CompletableFuture<Void> removeVoter(int nodeId) {
                            return raft.removeVoter(nodeId);
                        }
                    }, fetchSessions, transactions, transactionTopic, markers,
                    new io.gregor.broker.txn.TransactionVerifier(staticConfig.nodeId(), metadata, transactions, nodeClient,
                            this::interBrokerAddress)));
            registry.onConnectionClosed(cluster::connectionClosed);
            server = lifecycle.started(SERVER, new KafkaServer(staticConfig, registry, ioPool));
            // Bind while the metadata log starts: requests that arrive meanwhile wait until the node is ready.
            CompletableFuture<Void> bound = CompletableFuture.runAsync(() -> {
                try {
                    server.start();
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }, ioPool);
            raft = lifecycle.started("metadata log", new RaftMetadataLog(raftSettings(logDir), metadata));
            metadata.attach(raft);
            // The cluster id is written once, by the first leader of the quorum; every node then reads it from the log.
            raft.addLeadershipListener(new RaftMetadataLog.LeadershipListener() {
                @Override
                public void onLeaderChange(int leaderId) {
                    log.info("Metadata quorum leader (active controller) is now node {}", leaderId);
                }

                @Override
                public void onBecomeReadyLeader() {
                    activateIfNewTerm();
                    writeClusterIdIfMissing();
                    // Partitions of a data directory from before clustering had no registration: this node held them.
                    cluster.adoptUnregisteredPartitions(staticConfig.nodeId()).whenComplete((n, e) -> {
                        if (e == null && n > 0) {
                            log.info("Registered {} partitions created before clustering on node {}", n,
                                    staticConfig.nodeId());
                        }
                    });
                }
            });
            raft.start();
            config = effectiveConfig(metadata.image());
            metadata.replayDone();
            partitions.removeStrayLogs(metadata.image());
            awaitClusterId();
            awaitBound(bound);
            advertised = resolveAdvertised(server.boundAddresses());
            if (staticConfig.clustered()) {
                startControllerDuties();
                // As Kafka, a cluster node answers clients only once it is registered: a client that sees a node in
                // the cluster can then use it (for example as a replica of a new topic).
                registerWithController();
                server.markReady();
            } else {
                server.markReady();
                registerWithController();
            }
            replicas.setIsrChanges(new ReplicaManager.IsrChanges() {
                @Override
                public void propose(io.gregor.replication.Partition partition, List<Integer> newIsr) {
                    proposeIsr(partition, newIsr);
                }

                @Override
                public boolean eligible(int replicaId) {
                    BrokerRegistration b = metadata.image().broker(replicaId);
                    return b != null && !b.fenced();
                }
            });
            if (staticConfig.clustered()) {
                startHeartbeats();
            }
            loadGroups(logDir, topics, offsetsTopic, groups, ioPool);
            metadata.withAppliedImage(image -> {
                transactionLeadership.catchUp(image);
                return null;
            });
            scheduleHousekeeping(logManager);
            staticConfig.warnings().forEach(log::warn);
            log.info("Gregor node {} started in {} ms: {} (cluster {}, data in {}, {} partitions{})", staticConfig.nodeId(),
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNs), advertised, node.clusterId(), logDir,
                    partitions.partitions().size(),
                    logManager.hadCleanShutdown() || partitions.partitions().isEmpty() ? "" : ", recovered after unclean shutdown");
        } catch (IOException | RuntimeException e) {
            log.error("Gregor node {} failed to start, stopping what it had started: {}", staticConfig.nodeId(), e.toString());
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
            if (!staticConfig.clustered()) {
                // Only a single node can have a data directory of the first layout.
                OffsetsTopicMigration.migrateIfNeeded(logDir, metadata, topics, offsetsTopic, replicas,
                        staticConfig.offsetsTopicNumPartitions(), staticConfig.offsetsTopicReplicationFactor(), 1,
                        staticConfig.offsetsTopicSegmentBytes());
            }
            int count = OffsetsTopic.ensureTopic(metadata, topic -> controller.isActive()
                            ? OffsetsTopic.createWith(topics).apply(topic) : forwardCreate(topic),
                    staticConfig.offsetsTopicNumPartitions(), staticConfig.offsetsTopicReplicationFactor(),
                    awaitBrokersForOffsetsTopic(), staticConfig.offsetsTopicSegmentBytes());
            // Decided while no metadata entry is applied: the partitions led now exist on this node already, and any
            // later leadership change reaches OffsetsLeadership (which acts once the coordinator has started).
            List<CompletableFuture<Long>> loads = metadata.withAppliedImage(image -> {
                groups.startup(count);
                List<CompletableFuture<Long>> started = new ArrayList<>();
                var offsets = image.topic(OffsetsTopic.TOPIC);
                for (int p = 0; p < count; p++) {
                    var registration = offsets.registration(p);
                    // This node coordinates the groups of the partitions it leads.
                    if (registration == null || registration.leader() == staticConfig.nodeId()) {
                        started.add(groups.load(p, registration == null ? 0 : registration.leaderEpoch()));
                    }
                }
                return started;
            });
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

    /**
     * The live brokers {@code __consumer_offsets} may be replicated over: at a cluster's first start the nodes
     * register one by one, so this waits (up to 30 s) until as many as its replication factor asks (at most the
     * number of voters) are registered, rather than creating it with fewer replicas for good.
     */
    private int awaitBrokersForOffsetsTopic() {
        int wanted = Math.min(staticConfig.offsetsTopicReplicationFactor(), Math.max(1, raft.quorum().voters().size()));
        metadata.awaitImage(image -> liveBrokerCount(image) >= wanted || image.topic(OffsetsTopic.TOPIC) != null,
                Duration.ofSeconds(30));
        return Math.max(1, liveBrokerCount(metadata.image()));
    }

    private static int liveBrokerCount(MetadataImage image) {
        return (int) image.brokers().values().stream().filter(b -> !b.fenced()).count();
    }

    /** Creates a topic through the active controller on another node (CreateTopics); completes with the outcome. */
    private CompletableFuture<ApiError> forwardCreate(TopicOperations.NewTopic topic) {
        return controller.createTopics(List.of(topic), Duration.ofSeconds(60)).thenApply(outcome -> outcome.get(topic.name()));
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
        public List<BrokerAddress> liveBrokers(String listenerName) {
            List<BrokerAddress> result = registered(listenerName, false);
            // A single node answers with itself before its own registration is applied; a cluster node lists only what
            // the metadata log says, so that a client never sees more brokers than the controller can place replicas on.
            if (!staticConfig.clustered() && metadata.image().broker(staticConfig.nodeId()) == null
                    && !advertised.isEmpty()) {
                Endpoint self = advertisedFor(listenerName);
                result.add(new BrokerAddress(staticConfig.nodeId(), self.host(), self.port(),
                        staticConfig.valueString(BrokerConfigs.BROKER_RACK)));
                result.sort(java.util.Comparator.comparingInt(BrokerAddress::id));
            }
            return result;
        }

        @Override
        public List<BrokerAddress> fencedBrokers(String listenerName) {
            return registered(listenerName, true);
        }

        /** The registered nodes that are (or are not) fenced and have an endpoint on {@code listenerName}, by id. */
        private List<BrokerAddress> registered(String listenerName, boolean fenced) {
            List<BrokerAddress> result = new ArrayList<>();
            for (BrokerRegistration b : metadata.image().brokers().values()) {
                BrokerRegistration.Endpoint e = b.endpoint(listenerName);
                if (b.fenced() == fenced && e != null) {
                    result.add(new BrokerAddress(b.id(), e.host(), e.port(), b.rack()));
                }
            }
            result.sort(java.util.Comparator.comparingInt(BrokerAddress::id));
            return result;
        }

        @Override
        public int controllerId() {
            int id = controller == null ? -1 : controller.controllerId();
            return id >= 0 && metadata.image().broker(id) != null ? id : staticConfig.nodeId();
        }

        @Override
        public Endpoint advertisedFor(String listenerName) {
            List<Endpoint> endpoints = advertised;
            return endpoints.stream().filter(e -> e.listenerName().equals(listenerName)).findFirst()
                    .orElse(endpoints.get(0));
        }
    }

    /** On the quorum leader: writes the cluster id (the configured one, or a new random one) unless the log has one. */
    private void writeClusterIdIfMissing() {
        writeClusterIdIfMissing(1);
    }

    /** Retried (a few times, while this node leads) so that a single node never waits for a next leader. */
    private void writeClusterIdIfMissing(int attempt) {
        if (metadata.image().clusterId() != null) {
            return;
        }
        String id = staticConfig.clusterId() != null ? staticConfig.clusterId() : Uuid.randomUuid().toString();
        metadata.write(image -> image.clusterId() != null ? ControllerResult.noChange(null)
                : ControllerResult.of(List.of(new MetadataRecord.ClusterIdSet(id)), null)).whenComplete((v, e) -> {
                    if (e == null) {
                        return;
                    }
                    RaftMetadataLog metadataLog = raft;
                    if (attempt < 10 && metadataLog != null && metadataLog.leaderId() == staticConfig.nodeId()) {
                        CompletableFuture.delayedExecutor(200L * attempt, TimeUnit.MILLISECONDS)
                                .execute(() -> writeClusterIdIfMissing(attempt + 1));
                    } else {
                        log.warn("Could not write the cluster id; the next leader will: {}", e.toString());
                    }
                });
    }

    /**
     * Registers this node (its listeners and rack, a new incarnation id) with the active controller, here or through
     * the controller channel, and waits until the registration is applied on this node: from then on the node appears
     * in Metadata responses and can be given partitions.
     */
    private void registerWithController() {
        List<BrokerRegistration.Endpoint> endpoints = advertised.stream()
                .map(e -> new BrokerRegistration.Endpoint(e.listenerName(), e.host(), e.port())).toList();
        String clusterId = metadata.image().clusterId();
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
        while (true) {
            ClusterOperations.Registered registered;
            try {
                if (controller.isActive()) {
                    registered = cluster.register(staticConfig.nodeId(), clusterId, incarnationId, endpoints,
                            staticConfig.valueString(BrokerConfigs.BROKER_RACK)).get(30, TimeUnit.SECONDS);
                } else {
                    BrokerRegistrationRequestData request = new BrokerRegistrationRequestData()
                            .setBrokerId(staticConfig.nodeId()).setClusterId(clusterId).setIncarnationId(incarnationId)
                            .setRack(staticConfig.valueString(BrokerConfigs.BROKER_RACK));
                    for (BrokerRegistration.Endpoint e : endpoints) {
                        request.listeners().add(new BrokerRegistrationRequestData.Listener().setName(e.name())
                                .setHost(e.host()).setPort(e.port()).setSecurityProtocol((short) 0));
                    }
                    var response = (BrokerRegistrationResponseData) controller.send(request, (short) 4,
                            Duration.ofSeconds(30), ControllerChannel::notController).get(35, TimeUnit.SECONDS);
                    registered = new ClusterOperations.Registered(Errors.forCode(response.errorCode()), null,
                            response.brokerEpoch());
                }
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                if (System.nanoTime() - deadline > 0) {
                    throw new IllegalStateException("Could not register node " + staticConfig.nodeId()
                            + " with the active controller: " + e, e);
                }
                log.info("Registering with the active controller (node {}) failed, trying again: {}",
                        controller.controllerId(), e.getCause() != null ? e.getCause().toString() : e.toString());
                continue;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("Interrupted while registering", e);
            }
            if (registered.error() != Errors.NONE) {
                throw new IllegalStateException("The active controller refused the registration of node "
                        + staticConfig.nodeId() + ": " + registered.error() + (registered.message() == null ? ""
                        : " (" + registered.message() + ")"));
            }
            break;
        }
        boolean applied = metadata.awaitImage(image -> image.broker(staticConfig.nodeId()) != null
                        && incarnationId.equals(image.broker(staticConfig.nodeId()).incarnationId()),
                Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
        if (!applied) {
            throw new IllegalStateException("The registration of node " + staticConfig.nodeId()
                    + " did not reach this node's metadata");
        }
        log.info("Node {} registered with broker epoch {} (active controller: node {})", staticConfig.nodeId(),
                metadata.image().broker(staticConfig.nodeId()).epoch(), controller.controllerId());
    }

    /**
     * A node of a cluster sends a heartbeat to the active controller every broker.heartbeat.interval.ms; the active
     * controller fences nodes whose heartbeats stopped for broker.session.timeout.ms.
     */
    private void startHeartbeats() {
        ScheduledExecutorService beats = Executors.newSingleThreadScheduledExecutor(daemonThreads("gregor-heartbeat"));
        lifecycle.started("heartbeats", beats, beats::shutdownNow);
        long interval = Long.parseLong(staticConfig.valueString(BrokerConfigs.BROKER_HEARTBEAT_INTERVAL_MS));
        beats.scheduleWithFixedDelay(() -> heartbeat(false).whenComplete((fenced, e) -> {
            if (e != null) {
                log.debug("Heartbeat to the active controller failed: {}", e.toString());
            }
        }), interval, interval, TimeUnit.MILLISECONDS);
        long lag = Long.parseLong(staticConfig.valueString(BrokerConfigs.REPLICA_LAG_TIME_MAX_MS));
        beats.scheduleWithFixedDelay(() -> replicas.shrinkIsrs(lag), lag / 2, Math.max(1, lag / 2), TimeUnit.MILLISECONDS);
    }

    /**
     * The active controller's periodic duties (fencing silent nodes, unclean elections where allowed, preferred leaders),
     * started before this node registers: it may become the active controller during its own start.
     */
    private void startControllerDuties() {
        ScheduledExecutorService beats = Executors.newSingleThreadScheduledExecutor(daemonThreads("gregor-controller-duties"));
        lifecycle.started("controller duties", beats, beats::shutdownNow);
        long session = Long.parseLong(staticConfig.valueString(BrokerConfigs.BROKER_SESSION_TIMEOUT_MS));
        long check = Math.max(10, Math.min(500, session / 4));
        beats.scheduleWithFixedDelay(() -> {
            if (controller.isActive()) {
                activateIfNewTerm();
                cluster.fenceExpired().whenComplete((fenced, e) -> {
                    if (e == null && !fenced.isEmpty()) {
                        log.warn("Fenced nodes {}: no heartbeat for {} ms (or within the short grace after their heartbeat "
                                + "connection closed)", fenced, session);
                    }
                });
                cluster.electUncleanWhereAllowed();
            }
        }, check, check, TimeUnit.MILLISECONDS);
        if (Boolean.parseBoolean(staticConfig.valueString(BrokerConfigs.AUTO_LEADER_REBALANCE_ENABLE))) {
            long every = Long.parseLong(staticConfig.valueString(BrokerConfigs.LEADER_IMBALANCE_CHECK_INTERVAL_SECONDS));
            beats.scheduleWithFixedDelay(() -> {
                if (controller.isActive()) {
                    cluster.balanceLeaders().whenComplete((moved, e) -> {
                        if (e == null && moved > 0) {
                            log.info("Moved the leadership of {} partitions back to their preferred replicas", moved);
                        }
                    });
                }
            }, every, every, TimeUnit.SECONDS);
        }
    }

    private io.gregor.raft.RaftMetadataLog.QuorumState quorumState() {
        RaftMetadataLog log = raft;
        return log == null ? new io.gregor.raft.RaftMetadataLog.QuorumState(-1, -1, -1, List.of()) : log.quorum();
    }

    /**
     * Tells the controller operations that this node became the active controller, once per Raft term: when Ratis
     * reports the ready leadership, or at the first session check of the term if that comes first (a report that comes
     * late must not leave the sessions of a previous term's view in place).
     */
    private void activateIfNewTerm() {
        long term = raft.currentTerm();
        if (activatedTerm.getAndSet(term) != term) {
            cluster.activate();
        }
    }

    /** unclean.leader.election.enable of {@code topic}: its own, else the cluster's (dynamic, then static). */
    private boolean uncleanAllowed(io.gregor.metadata.TopicImage topic) {
        String own = topic.configs().get(io.gregor.broker.config.TopicConfigs.UNCLEAN_LEADER_ELECTION_ENABLE);
        return Boolean.parseBoolean(own != null ? own : config.valueString(BrokerConfigs.UNCLEAN_LEADER_ELECTION_ENABLE));
    }

    /** Replica fetcher settings (replica.fetch.* properties). */
    private ReplicaFetcherManager.Settings fetcherSettings() {
        return new ReplicaFetcherManager.Settings(
                Integer.parseInt(staticConfig.valueString(BrokerConfigs.REPLICA_FETCH_WAIT_MAX_MS)),
                Integer.parseInt(staticConfig.valueString(BrokerConfigs.REPLICA_FETCH_MAX_BYTES)),
                Integer.parseInt(staticConfig.valueString(BrokerConfigs.REPLICA_FETCH_RESPONSE_MAX_BYTES)),
                Long.parseLong(staticConfig.valueString(BrokerConfigs.REPLICA_FETCH_BACKOFF_MS)));
    }

    /** The inter-broker listener address node {@code id} registered, or null. */
    private InetSocketAddress interBrokerAddress(int id) {
        BrokerRegistration b = metadata.image().broker(id);
        BrokerRegistration.Endpoint e = b == null ? null : b.endpoint(staticConfig.interBrokerListenerName());
        return e == null ? null : new InetSocketAddress(e.host(), e.port());
    }

    /** How a follower reaches its leader: Kafka requests on the leader's inter-broker listener. */
    private final class NodeLeaderEndpoint implements ReplicaFetcherManager.LeaderEndpoint {
        private final NodeClient client;

        NodeLeaderEndpoint(NodeClient client) {
            this.client = client;
        }

        private InetSocketAddress addressOf(int leaderId) {
            BrokerRegistration leader = metadata.image().broker(leaderId);
            BrokerRegistration.Endpoint e = leader == null ? null : leader.endpoint(staticConfig.interBrokerListenerName());
            if (e == null) {
                throw new IllegalStateException("node " + leaderId + " has no " + staticConfig.interBrokerListenerName()
                        + " endpoint registered");
            }
            return new InetSocketAddress(e.host(), e.port());
        }

        @Override
        public CompletableFuture<FetchResponseData> fetch(int leaderId, FetchRequestData request) {
            return client.send("replication", addressOf(leaderId), request, (short) 12,
                            Duration.ofMillis(request.maxWaitMs() + 30_000L))
                    .thenApply(r -> (FetchResponseData) r);
        }

        @Override
        public CompletableFuture<OffsetForLeaderEpochResponseData> epochEnds(int leaderId,
                                                                             OffsetForLeaderEpochRequestData request) {
            return client.send("replication", addressOf(leaderId), request, (short) 4, Duration.ofSeconds(30))
                    .thenApply(r -> (OffsetForLeaderEpochResponseData) r);
        }
    }

    /** ISR changes proposed and not sent yet, in proposal order (a later proposal of a partition replaces its own). */
    private final java.util.LinkedHashMap<io.gregor.replication.Partition, List<Integer>> queuedIsrChanges =
            new java.util.LinkedHashMap<>();
    private boolean isrRequestInFlight;

    /**
     * The leader of {@code partition} asks the active controller to change its ISR (AlterPartition); the change takes
     * effect when its record reaches this node. As Kafka's AlterPartition manager: one request in flight at a time,
     * carrying every change proposed meanwhile (a node coming back into thousands of ISRs is one request and one
     * metadata entry, not thousands). A refusal or failure goes to the replica manager, per partition.
     */
    private void proposeIsr(io.gregor.replication.Partition partition, List<Integer> newIsr) {
        synchronized (queuedIsrChanges) {
            queuedIsrChanges.put(partition, List.copyOf(newIsr));
            if (isrRequestInFlight) {
                return;
            }
            isrRequestInFlight = true;
        }
        sendQueuedIsrChanges();
    }

    private void sendQueuedIsrChanges() {
        List<io.gregor.replication.Partition> batch;
        List<ClusterOperations.IsrChange> changes = new ArrayList<>();
        synchronized (queuedIsrChanges) {
            if (queuedIsrChanges.isEmpty()) {
                isrRequestInFlight = false;
                return;
            }
            batch = new ArrayList<>(queuedIsrChanges.keySet());
            for (var e : queuedIsrChanges.entrySet()) {
                var state = e.getKey().state();
                changes.add(new ClusterOperations.IsrChange(e.getKey().topicId(), e.getKey().index(), state.leaderEpoch(),
                        state.partitionEpoch(), e.getValue()));
            }
            queuedIsrChanges.clear();
        }
        CompletableFuture<List<Errors>> outcome;
        if (controller.isActive()) {
            outcome = cluster.alterPartitions(staticConfig.nodeId(), changes)
                    .thenApply(answers -> answers.stream().map(ClusterOperations.IsrChanged::error).toList());
        } else {
            outcome = sendAlterPartition(changes);
        }
        outcome.whenComplete((errors, e) -> {
            for (int i = 0; i < batch.size(); i++) {
                Errors error = e != null ? null : errors.get(i);
                if (error != Errors.NONE) {
                    log.info("ISR change of {} to {} not made: {}", batch.get(i), changes.get(i).newIsr(),
                            e != null ? e.toString() : error);
                    replicas.isrChangeFailed(batch.get(i), error);
                }
            }
            sendQueuedIsrChanges();
        });
    }

    /** One AlterPartition request to the active controller for {@code changes}; the error of each, in order. */
    private CompletableFuture<List<Errors>> sendAlterPartition(List<ClusterOperations.IsrChange> changes) {
        BrokerRegistration self = metadata.image().broker(staticConfig.nodeId());
        AlterPartitionRequestData request = new AlterPartitionRequestData().setBrokerId(staticConfig.nodeId())
                .setBrokerEpoch(self == null ? -1 : self.epoch());
        java.util.Map<Uuid, AlterPartitionRequestData.TopicData> byTopic = new java.util.LinkedHashMap<>();
        for (ClusterOperations.IsrChange c : changes) {
            AlterPartitionRequestData.PartitionData data = new AlterPartitionRequestData.PartitionData()
                    .setPartitionIndex(c.partition()).setLeaderEpoch(c.leaderEpoch()).setPartitionEpoch(c.partitionEpoch());
            for (int member : c.newIsr()) {
                BrokerRegistration b = metadata.image().broker(member);
                data.newIsrWithEpochs().add(new AlterPartitionRequestData.BrokerState().setBrokerId(member)
                        .setBrokerEpoch(b == null ? -1 : b.epoch()));
            }
            byTopic.computeIfAbsent(c.topicId(), id -> new AlterPartitionRequestData.TopicData().setTopicId(id))
                    .partitions().add(data);
        }
        request.topics().addAll(byTopic.values());
        return controller.send(request, (short) 3, Duration.ofSeconds(30), ControllerChannel::notController)
                .thenApply(r -> {
                    var response = (AlterPartitionResponseData) r;
                    java.util.Map<String, Errors> found = new java.util.HashMap<>();
                    for (var topic : response.topics()) {
                        for (var p : topic.partitions()) {
                            found.put(topic.topicId() + "-" + p.partitionIndex(), Errors.forCode(p.errorCode()));
                        }
                    }
                    Errors whole = Errors.forCode(response.errorCode());
                    List<Errors> errors = new ArrayList<>(changes.size());
                    for (ClusterOperations.IsrChange c : changes) {
                        Errors one = found.get(c.topicId() + "-" + c.partition());
                        // A partition missing from the answer: its outcome is unknown (null), sent again later.
                        errors.add(whole != Errors.NONE ? whole : one);
                    }
                    return errors;
                });
    }

    /** One heartbeat, here or through the controller channel; completes with whether the node should shut down. */
    private CompletableFuture<Boolean> heartbeat(boolean wantShutDown) {
        BrokerRegistration self = metadata.image().broker(staticConfig.nodeId());
        long epoch = self == null ? -1 : self.epoch();
        if (controller.isActive()) {
            return cluster.heartbeat(staticConfig.nodeId(), epoch, wantShutDown).thenApply(b -> b.shouldShutDown());
        }
        BrokerHeartbeatRequestData request = new BrokerHeartbeatRequestData().setBrokerId(staticConfig.nodeId())
                .setBrokerEpoch(epoch).setCurrentMetadataOffset(metadata.image().offset()).setWantShutDown(wantShutDown);
        long timeout = Long.parseLong(staticConfig.valueString(BrokerConfigs.BROKER_HEARTBEAT_INTERVAL_MS));
        return controller.send(request, (short) 1, Duration.ofMillis(Math.max(timeout, 1000)), ControllerChannel::notController)
                .thenApply(r -> ((BrokerHeartbeatResponseData) r).shouldShutDown());
    }

    /**
     * Controlled shutdown of a node of a cluster: asks the active controller to move its leaderships away and waits
     * (a few seconds at most) until that is done, so clients find the new leaders at once instead of after the
     * session timeout.
     */
    private void controlledShutdown() {
        if (!staticConfig.clustered() || controller == null || metadata == null
                || metadata.image().broker(staticConfig.nodeId()) == null) {
            return;
        }
        long startNs = System.nanoTime();
        try {
            boolean done = heartbeat(true).get(5, TimeUnit.SECONDS);
            log.info("Controlled shutdown of node {} {} in {} ms", staticConfig.nodeId(), done ? "done" : "not confirmed",
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNs));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            log.warn("Controlled shutdown of node {} failed, the controller will fence it after the session timeout: {}",
                    staticConfig.nodeId(), e.toString());
        }
    }

    /** Waits until the metadata log holds the cluster id, and refuses to join a cluster other than the configured one. */
    private void awaitClusterId() {
        if (!metadata.awaitImage(image -> image.clusterId() != null, Duration.ofSeconds(30))) {
            throw new IllegalStateException("The metadata quorum has not agreed on a cluster id within 30 s (" + raft.status()
                    + ")");
        }
        String agreed = metadata.image().clusterId();
        if (staticConfig.clusterId() != null && !staticConfig.clusterId().equals(agreed)) {
            throw new IllegalStateException("This node is configured with cluster.id " + staticConfig.clusterId()
                    + " but its metadata log belongs to cluster " + agreed);
        }
    }

    /**
     * The metadata log's settings: this node alone, a voter of controller.quorum.voters on the CONTROLLER listener, or
     * (process.roles=broker) an observer reached on the host of its inter-broker listener.
     */
    private RaftSettings raftSettings(Path logDir) {
        java.util.Optional<Endpoint> listener = staticConfig.controllerListener();
        String host = listener.map(Endpoint::host).filter(h -> !h.isEmpty()).orElse("127.0.0.1");
        int port = listener.map(Endpoint::port).orElse(0);
        if (staticConfig.brokerOnly()) {
            host = observerHost();
            port = 0;
        }
        // A broker,controller node given only bootstrap servers joins as an observer on its CONTROLLER listener, to be
        // made a voter with AddRaftVoter (gregor cluster add-voter).
        boolean observer = staticConfig.brokerOnly() || staticConfig.voters().isEmpty() && staticConfig.clustered();
        List<RaftVoter> voters = staticConfig.voters().stream()
                .map(v -> new RaftVoter(v.nodeId(), v.host(), v.port())).toList();
        // A node of a cluster waits for the others as long as it takes (and says so); a single node needs nobody.
        Duration startTimeout = staticConfig.clustered() ? Duration.ofDays(1) : Duration.ofSeconds(30);
        return new RaftSettings(logDir.resolve(METADATA_DIR), staticConfig.nodeId(), host, port, 10_000, startTimeout,
                voters, Duration.ofMillis(staticConfig.controllerQuorumElectionTimeoutMs()), observer,
                staticConfig.bootstrapServers());
    }

    /** The host the voters reach a broker-only node's Raft server on: that of its advertised inter-broker listener. */
    private String observerHost() {
        String inter = staticConfig.interBrokerListenerName();
        String host = staticConfig.advertisedListeners().stream().filter(e -> e.listenerName().equalsIgnoreCase(inter))
                .map(Endpoint::host).findFirst().orElse("");
        return host.isEmpty() || host.equals("0.0.0.0") || host.equals("::") ? "127.0.0.1" : host;
    }

    private void onMetadata(MetadataImage previous, MetadataImage next) {
        int id = staticConfig.nodeId();
        if (!previous.brokerConfigs().equals(next.brokerConfigs())
                || !previous.nodeConfigs(id).equals(next.nodeConfigs(id))) {
            config = effectiveConfig(next);
            partitions.updateBrokerConfig(config, next);
        }
    }

    /** The static configuration, under the cluster-wide dynamic overrides, under this node's own (Kafka's order). */
    private BrokerConfig effectiveConfig(MetadataImage image) {
        java.util.Map<String, String> dynamic = new java.util.LinkedHashMap<>(image.brokerConfigs());
        dynamic.putAll(image.nodeConfigs(staticConfig.nodeId()));
        return dynamic.isEmpty() ? staticConfig : staticConfig.with(dynamic);
    }

    private List<Endpoint> resolveAdvertised(List<InetSocketAddress> bound) {
        List<Endpoint> listeners = staticConfig.brokerListeners();
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
            io.gregor.storage.LogCleaner cleaner = new io.gregor.storage.LogCleaner(new io.gregor.storage.LogCleaner.Settings(
                    Long.parseLong(staticConfig.valueString(BrokerConfigs.LOG_CLEANER_DEDUPE_BUFFER_SIZE)),
                    Double.parseDouble(staticConfig.valueString(BrokerConfigs.LOG_CLEANER_IO_MAX_BYTES_PER_SECOND))),
                    io.gregor.storage.Time.SYSTEM);
            // Stopped, not interrupted: an interrupt inside file I/O closes the channel (of a segment, too) and can
            // leave a swap half done; the cleaner stops at its next batch instead.
            lifecycle.started("log cleaner", cleanerThread, () -> {
                cleaner.stop();
                cleanerThread.shutdown();
                try {
                    if (!cleanerThread.awaitTermination(30, TimeUnit.SECONDS)) {
                        log.warn("The log cleaner did not stop within 30 s; interrupting it");
                        cleanerThread.shutdownNow();
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    cleanerThread.shutdownNow();
                }
            });
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

    /** The incremental fetch sessions this node serves (KIP-227), its followers' among them. */
    public io.gregor.broker.handlers.FetchSessionCache fetchSessions() {
        return fetchSessions;
    }

    public PartitionManager partitions() {
        return partitions;
    }

    /** The node id of the active controller (the metadata quorum's leader), -1 while there is none. */
    public int activeControllerId() {
        return controller == null ? -1 : controller.controllerId();
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

    /**
     * Stops the node: a node of a cluster first hands its leaderships over (controlled shutdown); then the listeners
     * stop, then every other component in reverse start order (storage last, writing the clean-shutdown marker).
     */
    @Override
    public void close() {
        close(true);
    }

    /**
     * Stops without a controlled shutdown: to the other nodes of a cluster this looks like a crash (they fence this
     * node after the session timeout); the data on this node's disk is still closed cleanly. For tests.
     */
    public void halt() {
        close(false);
    }

    private synchronized void close(boolean controlled) {
        if (closed) {
            return;
        }
        closed = true;
        if (controlled) {
            controlledShutdown();
        }
        // The listeners go first so no request arrives while the rest stops.
        lifecycle.stopFirst(SERVER);
        lifecycle.stop();
        stopped.countDown();
        log.info("Gregor node {} stopped", staticConfig.nodeId());
    }
}
