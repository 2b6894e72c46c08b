package io.gregor.broker.config;

import static io.gregor.broker.config.BrokerConfigs.*;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * Immutable, validated broker configuration. Built once from properties (file, then {@code --set} overrides); unknown
 * property names are kept (Kafka tolerates them), reported by {@link #unknownNames()} and warned about at start
 * ({@link #warnings()}). Listeners must map to a security protocol the broker serves (PLAINTEXT for now).
 */
public final class BrokerConfig {
    private final Map<String, String> originals;
    private final Map<String, Object> values;

    private BrokerConfig(Map<String, String> originals) {
        this.originals = Collections.unmodifiableMap(new LinkedHashMap<>(originals));
        Map<String, Object> parsed = new LinkedHashMap<>();
        for (ConfigKey key : BrokerConfigs.keys().values()) {
            String raw = originals.getOrDefault(key.name(), key.defaultValue());
            parsed.put(key.name(), raw == null ? null : key.parse(raw));
        }
        this.values = parsed;
        validate();
    }

    public static BrokerConfig of(Map<String, String> properties) {
        return new BrokerConfig(properties);
    }

    public static BrokerConfig defaults() {
        return of(Map.of());
    }

    /** Reads a server.properties file and applies {@code overrides} on top. */
    public static BrokerConfig load(Path file, Map<String, String> overrides) throws IOException {
        Map<String, String> merged = new LinkedHashMap<>();
        if (file != null) {
            Properties props = new Properties();
            try (Reader reader = Files.newBufferedReader(file)) {
                props.load(reader);
            }
            props.stringPropertyNames().forEach(n -> merged.put(n, props.getProperty(n)));
        }
        merged.putAll(overrides);
        return of(merged);
    }

    public BrokerConfig with(Map<String, String> overrides) {
        Map<String, String> merged = new LinkedHashMap<>(originals);
        merged.putAll(overrides);
        return of(merged);
    }

    private void validate() {
        if (listeners().isEmpty()) {
            throw new ConfigException(LISTENERS, originals.get(LISTENERS), "at least one listener is required");
        }
        if (logDirs().isEmpty()) {
            throw new ConfigException(LOG_DIRS, originals.get(LOG_DIRS), "at least one log directory is required");
        }
        validateQuorum();
        Map<String, String> protocols = securityProtocolMap();
        for (Endpoint listener : listeners()) {
            String protocol = protocols.get(listener.listenerName());
            if (protocol == null) {
                throw new ConfigException(LISTENERS, valueString(LISTENERS), "listener " + listener.listenerName()
                        + " has no security protocol: add " + listener.listenerName() + ":PLAINTEXT to "
                        + LISTENER_SECURITY_PROTOCOL_MAP);
            }
            if (!protocol.equals("PLAINTEXT")) {
                throw new ConfigException(LISTENERS, valueString(LISTENERS), "listener " + listener.listenerName()
                        + " uses security protocol " + protocol + ", which this version of Gregor does not serve yet "
                        + "(only PLAINTEXT); it is refused rather than served without its security");
            }
        }
    }

    /**
     * The settings of Kafka's KRaft combined mode: either none of them (a single node), or process.roles=broker,controller
     * with controller.quorum.voters naming this node and controller.listener.names naming one of the listeners, on
     * the port the voters list gives this node.
     */
    private void validateQuorum() {
        List<String> roles = listValue(PROCESS_ROLES);
        List<String> voterList = listValue(CONTROLLER_QUORUM_VOTERS);
        List<String> bootstrap = listValue(CONTROLLER_QUORUM_BOOTSTRAP_SERVERS);
        if (roles != null && !roles.isEmpty()) {
            for (String role : roles) {
                if (!role.equals("broker") && !role.equals("controller")) {
                    throw new ConfigException(PROCESS_ROLES, valueString(PROCESS_ROLES),
                            "unknown role '" + role + "' (known: broker, controller)");
                }
            }
            if (!roles.contains("broker")) {
                throw new ConfigException(PROCESS_ROLES, valueString(PROCESS_ROLES), "controller-only nodes are not "
                        + "supported yet; use process.roles=broker,controller (a voter that also holds partitions) or "
                        + "process.roles=broker (a node that holds partitions without voting)");
            }
        }
        boolean noVoters = voterList == null || voterList.isEmpty();
        boolean noBootstrap = bootstrap == null || bootstrap.isEmpty();
        if (brokerOnly()) {
            validateBrokerOnly(noVoters, noBootstrap);
            return;
        }
        if (noVoters && !noBootstrap) {
            // A voter to be: it observes the quorum on its CONTROLLER listener until AddRaftVoter makes it a voter.
            if (roles == null || roles.isEmpty()) {
                throw new ConfigException(CONTROLLER_QUORUM_BOOTSTRAP_SERVERS, valueString(CONTROLLER_QUORUM_BOOTSTRAP_SERVERS),
                        "set process.roles=broker,controller (or process.roles=broker) as well");
            }
            bootstrapServers();
            controllerListener().orElseThrow(() -> new ConfigException(CONTROLLER_LISTENER_NAMES,
                    valueString(CONTROLLER_LISTENER_NAMES), "must name one of the listeners on a broker,controller node "
                            + "(e.g. CONTROLLER, with CONTROLLER://host:port in listeners)"));
            if (brokerListeners().isEmpty()) {
                throw new ConfigException(LISTENERS, valueString(LISTENERS), "no listener is left for Kafka clients "
                        + "besides the controller listener");
            }
            return;
        }
        if (noVoters) {
            return;
        }
        if (roles == null || roles.isEmpty()) {
            throw new ConfigException(CONTROLLER_QUORUM_VOTERS, valueString(CONTROLLER_QUORUM_VOTERS),
                    "set process.roles=broker,controller (or process.roles=broker for a node that does not vote) as well");
        }
        List<QuorumVoter> parsed = voters();
        QuorumVoter self = parsed.stream().filter(v -> v.nodeId() == nodeId()).findFirst().orElseThrow(() ->
                new ConfigException(CONTROLLER_QUORUM_VOTERS, valueString(CONTROLLER_QUORUM_VOTERS),
                        "node.id " + nodeId() + " is not one of the voters"));
        if (parsed.stream().map(QuorumVoter::nodeId).distinct().count() != parsed.size()) {
            throw new ConfigException(CONTROLLER_QUORUM_VOTERS, valueString(CONTROLLER_QUORUM_VOTERS),
                    "a node id appears twice");
        }
        Endpoint controller = controllerListener().orElseThrow(() -> new ConfigException(CONTROLLER_LISTENER_NAMES,
                valueString(CONTROLLER_LISTENER_NAMES), "must name one of the listeners when "
                        + CONTROLLER_QUORUM_VOTERS + " is set (e.g. CONTROLLER, with CONTROLLER://host:port in listeners)"));
        if (controller.port() != self.port()) {
            throw new ConfigException(LISTENERS, valueString(LISTENERS), "the controller listener " + controller
                    + " must listen on port " + self.port() + ", the port " + CONTROLLER_QUORUM_VOTERS
                    + " gives node " + nodeId());
        }
        if (brokerListeners().isEmpty()) {
            throw new ConfigException(LISTENERS, valueString(LISTENERS), "no listener is left for Kafka clients "
                    + "besides the controller listener");
        }
        String inter = (String) values.get(INTER_BROKER_LISTENER_NAME);
        if (inter != null && brokerListeners().stream().noneMatch(e -> e.listenerName().equalsIgnoreCase(inter))) {
            throw new ConfigException(INTER_BROKER_LISTENER_NAME, inter, "is not one of the (non-controller) listeners");
        }
    }

    /** process.roles=broker: a node that holds partitions and observes the metadata quorum without voting. */
    private void validateBrokerOnly(boolean noVoters, boolean noBootstrap) {
        if (noVoters && noBootstrap) {
            throw new ConfigException(PROCESS_ROLES, valueString(PROCESS_ROLES), "a broker-only node needs "
                    + CONTROLLER_QUORUM_VOTERS + " or " + CONTROLLER_QUORUM_BOOTSTRAP_SERVERS + " to find the metadata quorum");
        }
        if (!noVoters) {
            List<QuorumVoter> parsed = voters();
            if (parsed.stream().anyMatch(v -> v.nodeId() == nodeId())) {
                throw new ConfigException(CONTROLLER_QUORUM_VOTERS, valueString(CONTROLLER_QUORUM_VOTERS), "node.id "
                        + nodeId() + " is one of the voters, but process.roles=broker does not vote: use "
                        + "process.roles=broker,controller, or another node.id");
            }
        }
        bootstrapServers();
        List<String> names = listValue(CONTROLLER_LISTENER_NAMES);
        if (names != null) {
            for (String name : names) {
                if (listeners().stream().anyMatch(e -> e.listenerName().equalsIgnoreCase(name))) {
                    throw new ConfigException(LISTENERS, valueString(LISTENERS), "the controller listener " + name
                            + " must not be in listeners on a broker-only node (process.roles=broker), as in Kafka");
                }
            }
        }
        String inter = (String) values.get(INTER_BROKER_LISTENER_NAME);
        if (inter != null && listeners().stream().noneMatch(e -> e.listenerName().equalsIgnoreCase(inter))) {
            throw new ConfigException(INTER_BROKER_LISTENER_NAME, inter, "is not one of the listeners");
        }
    }

    /** True for process.roles=broker: the node holds partitions and receives the metadata log without voting. */
    public boolean brokerOnly() {
        List<String> roles = listValue(PROCESS_ROLES);
        return roles != null && roles.contains("broker") && !roles.contains("controller");
    }

    /** controller.quorum.bootstrap.servers as host:port strings (IPv6 hosts in brackets). */
    public List<String> bootstrapServers() {
        List<String> list = listValue(CONTROLLER_QUORUM_BOOTSTRAP_SERVERS);
        if (list == null) {
            return List.of();
        }
        List<String> result = new ArrayList<>();
        for (String entry : list) {
            String trimmed = entry.trim();
            int colon = trimmed.lastIndexOf(':');
            int port;
            try {
                port = colon <= 0 ? -1 : Integer.parseInt(trimmed.substring(colon + 1));
            } catch (NumberFormatException e) {
                port = -1;
            }
            if (port < 1 || port > 65535 || trimmed.contains("@")) {
                throw new ConfigException(CONTROLLER_QUORUM_BOOTSTRAP_SERVERS, valueString(CONTROLLER_QUORUM_BOOTSTRAP_SERVERS),
                        "expected host:port with a port in 1-65535, not '" + entry + "'");
            }
            result.add(trimmed);
        }
        return result;
    }

    /** One entry of controller.quorum.voters. */
    public record QuorumVoter(int nodeId, String host, int port) {
    }

    /** The voters of the metadata quorum; empty for a single node. */
    public List<QuorumVoter> voters() {
        List<String> list = listValue(CONTROLLER_QUORUM_VOTERS);
        if (list == null) {
            return List.of();
        }
        List<QuorumVoter> result = new ArrayList<>();
        for (String entry : list) {
            int at = entry.indexOf('@');
            int colon = entry.lastIndexOf(':');
            if (at <= 0 || colon <= at + 1) {
                throw new ConfigException(CONTROLLER_QUORUM_VOTERS, valueString(CONTROLLER_QUORUM_VOTERS),
                        "expected id@host:port, not '" + entry + "'");
            }
            try {
                String host = entry.substring(at + 1, colon);
                if (host.startsWith("[") && host.endsWith("]")) {
                    host = host.substring(1, host.length() - 1);
                }
                int id = Integer.parseInt(entry.substring(0, at).trim());
                int port = Integer.parseInt(entry.substring(colon + 1).trim());
                if (id < 0 || port < 1 || port > 65535) {
                    throw new NumberFormatException();
                }
                result.add(new QuorumVoter(id, host.trim(), port));
            } catch (NumberFormatException e) {
                throw new ConfigException(CONTROLLER_QUORUM_VOTERS, valueString(CONTROLLER_QUORUM_VOTERS),
                        "expected id@host:port with a node id >= 0 and a port in 1-65535, not '" + entry + "'");
            }
        }
        return result;
    }

    /**
     * True when this node is one member of a cluster: a voter of a quorum of several, a broker-only node, or a node that
     * joins through controller.quorum.bootstrap.servers.
     */
    public boolean clustered() {
        return brokerOnly() || voters().size() > 1 || !bootstrapServers().isEmpty();
    }

    /** The listener that carries the metadata quorum (Ratis), if controller.listener.names names one. */
    public java.util.Optional<Endpoint> controllerListener() {
        List<String> names = listValue(CONTROLLER_LISTENER_NAMES);
        if (names == null || names.isEmpty()) {
            return java.util.Optional.empty();
        }
        String name = names.get(0).toUpperCase(java.util.Locale.ROOT);
        return listeners().stream().filter(e -> e.listenerName().equals(name)).findFirst();
    }

    /** The listeners served to Kafka clients: every listener except the controller listeners. */
    public List<Endpoint> brokerListeners() {
        List<String> names = listValue(CONTROLLER_LISTENER_NAMES);
        if (names == null || names.isEmpty()) {
            return listeners();
        }
        java.util.Set<String> controller = new java.util.HashSet<>();
        names.forEach(n -> controller.add(n.toUpperCase(java.util.Locale.ROOT)));
        return listeners().stream().filter(e -> !controller.contains(e.listenerName())).toList();
    }

    /** The listener other nodes reach this one on. */
    public String interBrokerListenerName() {
        String inter = (String) values.get(INTER_BROKER_LISTENER_NAME);
        return inter != null ? inter.toUpperCase(java.util.Locale.ROOT) : brokerListeners().get(0).listenerName();
    }

    public int controllerQuorumElectionTimeoutMs() {
        return intValue(CONTROLLER_QUORUM_ELECTION_TIMEOUT_MS);
    }

    /** The security protocol of each listener name, upper case. */
    public Map<String, String> securityProtocolMap() {
        Map<String, String> map = new LinkedHashMap<>();
        for (String entry : listValue(LISTENER_SECURITY_PROTOCOL_MAP)) {
            int colon = entry.indexOf(':');
            String name = colon > 0 ? entry.substring(0, colon).trim().toUpperCase(java.util.Locale.ROOT) : "";
            String protocol = colon > 0 ? entry.substring(colon + 1).trim().toUpperCase(java.util.Locale.ROOT) : "";
            if (name.isEmpty() || !java.util.Set.of("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL").contains(protocol)) {
                throw new ConfigException(LISTENER_SECURITY_PROTOCOL_MAP, valueString(LISTENER_SECURITY_PROTOCOL_MAP),
                        "expected NAME:PROTOCOL pairs with PROTOCOL one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL, not '"
                                + entry + "'");
            }
            map.put(name, protocol);
        }
        return map;
    }

    /** What to warn about at start: one line per property the broker does not know, so it is not applied. */
    public List<String> warnings() {
        return unknownNames().stream()
                .map(name -> "Configuration property '" + name + "' is not known to Gregor and is ignored")
                .toList();
    }

    public Map<String, String> originals() {
        return originals;
    }

    public List<String> unknownNames() {
        return originals.keySet().stream().filter(n -> BrokerConfigs.key(n) == null).toList();
    }

    /** The effective value as a string, or null when unset and without default. */
    public String valueString(String name) {
        ConfigKey key = BrokerConfigs.key(name);
        if (key == null) {
            return originals.get(name);
        }
        return originals.getOrDefault(name, key.defaultValue());
    }

    public boolean isSet(String name) {
        return originals.containsKey(name);
    }

    private int intValue(String name) {
        return (Integer) values.get(name);
    }

    private long longValue(String name) {
        return (Long) values.get(name);
    }

    @SuppressWarnings("unchecked")
    private List<String> listValue(String name) {
        Object v = values.get(name);
        return v == null ? null : (List<String>) v;
    }

    public int nodeId() {
        return intValue(NODE_ID);
    }

    public List<Path> logDirs() {
        List<String> dirs = listValue(LOG_DIRS);
        if (dirs == null || dirs.isEmpty()) {
            return List.of(Path.of((String) values.get(LOG_DIR)));
        }
        return dirs.stream().map(Path::of).toList();
    }

    public List<Endpoint> listeners() {
        List<Endpoint> result = new ArrayList<>();
        for (String uri : listValue(LISTENERS)) {
            result.add(Endpoint.parse(LISTENERS, uri));
        }
        return result;
    }

    public List<Endpoint> advertisedListeners() {
        List<String> adv = listValue(ADVERTISED_LISTENERS);
        if (adv == null || adv.isEmpty()) {
            return brokerListeners();
        }
        return adv.stream().map(uri -> Endpoint.parse(ADVERTISED_LISTENERS, uri)).toList();
    }

    public int numPartitions() {
        return intValue(NUM_PARTITIONS);
    }

    public int defaultReplicationFactor() {
        return intValue(DEFAULT_REPLICATION_FACTOR);
    }

    public boolean autoCreateTopicsEnable() {
        return (Boolean) values.get(AUTO_CREATE_TOPICS_ENABLE);
    }

    /** The finalized transaction.version feature level (0-2). */
    public int transactionVersion() {
        return ((Number) values.get(TRANSACTION_VERSION)).intValue();
    }

    public boolean transactionPartitionVerificationEnable() {
        return (Boolean) values.get(TRANSACTION_PARTITION_VERIFICATION_ENABLE);
    }

    public boolean legacyProtocolEnable() {
        return (Boolean) values.get(LEGACY_PROTOCOL_ENABLE);
    }

    public boolean deleteTopicEnable() {
        return (Boolean) values.get(DELETE_TOPIC_ENABLE);
    }

    public int messageMaxBytes() {
        return intValue(MESSAGE_MAX_BYTES);
    }

    public int socketRequestMaxBytes() {
        return intValue(SOCKET_REQUEST_MAX_BYTES);
    }

    /** SO_SNDBUF of accepted connections, -1 for the system's default. */
    public int socketSendBufferBytes() {
        return intValue(SOCKET_SEND_BUFFER_BYTES);
    }

    /** SO_RCVBUF of accepted connections, -1 for the system's default. */
    public int socketReceiveBufferBytes() {
        return intValue(SOCKET_RECEIVE_BUFFER_BYTES);
    }

    public int maxConnections() {
        return intValue(MAX_CONNECTIONS);
    }

    public int queuedMaxRequests() {
        return intValue(QUEUED_MAX_REQUESTS);
    }

    public int numNetworkThreads() {
        return intValue(NUM_NETWORK_THREADS);
    }

    public int numIoThreads() {
        return intValue(NUM_IO_THREADS);
    }

    public int logSegmentBytes() {
        return intValue(LOG_SEGMENT_BYTES);
    }

    public long logRollMs() {
        Object ms = values.get(LOG_ROLL_MS);
        return ms != null ? (Long) ms : intValue(LOG_ROLL_HOURS) * 3_600_000L;
    }

    public long logRetentionMs() {
        Object ms = values.get(LOG_RETENTION_MS);
        if (ms != null) {
            return (Long) ms;
        }
        Object minutes = values.get(LOG_RETENTION_MINUTES);
        if (minutes != null) {
            return (Integer) minutes * 60_000L;
        }
        return intValue(LOG_RETENTION_HOURS) * 3_600_000L;
    }

    public long logRetentionBytes() {
        return longValue(LOG_RETENTION_BYTES);
    }

    public long logRetentionCheckIntervalMs() {
        return longValue(LOG_RETENTION_CHECK_INTERVAL_MS);
    }

    public long producerIdExpirationMs() {
        return intValue(PRODUCER_ID_EXPIRATION_MS);
    }

    public long logFlushIntervalMessages() {
        return longValue(LOG_FLUSH_INTERVAL_MESSAGES);
    }

    public long logFlushIntervalMs() {
        Object ms = values.get(LOG_FLUSH_INTERVAL_MS);
        return ms == null ? Long.MAX_VALUE : (Long) ms;
    }

    public int logIndexIntervalBytes() {
        return intValue(LOG_INDEX_INTERVAL_BYTES);
    }

    public int logIndexSizeMaxBytes() {
        return intValue(LOG_INDEX_SIZE_MAX_BYTES);
    }

    public boolean logAppendTime() {
        return "LogAppendTime".equals(values.get(LOG_MESSAGE_TIMESTAMP_TYPE));
    }

    public long logSegmentDeleteDelayMs() {
        return longValue(LOG_SEGMENT_DELETE_DELAY_MS);
    }

    public int minInsyncReplicas() {
        return intValue(MIN_INSYNC_REPLICAS);
    }

    public int fetchMaxBytes() {
        return intValue(FETCH_MAX_BYTES);
    }

    public int maxIncrementalFetchSessionCacheSlots() {
        return intValue(MAX_INCREMENTAL_FETCH_SESSION_CACHE_SLOTS);
    }

    public long connectionsMaxIdleMs() {
        return longValue(CONNECTIONS_MAX_IDLE_MS);
    }

    public String clusterId() {
        return (String) values.get(CLUSTER_ID);
    }

    public int groupInitialRebalanceDelayMs() {
        return intValue(GROUP_INITIAL_REBALANCE_DELAY_MS);
    }

    public int groupMinSessionTimeoutMs() {
        return intValue(GROUP_MIN_SESSION_TIMEOUT_MS);
    }

    public int groupMaxSessionTimeoutMs() {
        return intValue(GROUP_MAX_SESSION_TIMEOUT_MS);
    }

    public int groupMaxSize() {
        return intValue(GROUP_MAX_SIZE);
    }

    public int groupConsumerHeartbeatIntervalMs() {
        return intValue(GROUP_CONSUMER_HEARTBEAT_INTERVAL_MS);
    }

    public int groupConsumerSessionTimeoutMs() {
        return intValue(GROUP_CONSUMER_SESSION_TIMEOUT_MS);
    }

    public int groupConsumerMaxSize() {
        return intValue(GROUP_CONSUMER_MAX_SIZE);
    }

    public List<String> groupConsumerAssignors() {
        return listValue(GROUP_CONSUMER_ASSIGNORS);
    }

    public String groupConsumerMigrationPolicy() {
        return ((String) values.get(GROUP_CONSUMER_MIGRATION_POLICY)).toLowerCase(java.util.Locale.ROOT);
    }

    public int offsetsRetentionMinutes() {
        return intValue(OFFSETS_RETENTION_MINUTES);
    }

    public int offsetsTopicNumPartitions() {
        return intValue(OFFSETS_TOPIC_NUM_PARTITIONS);
    }

    public short offsetsTopicReplicationFactor() {
        return (short) Math.min(Short.MAX_VALUE, intValue(OFFSETS_TOPIC_REPLICATION_FACTOR));
    }

    public int offsetsTopicSegmentBytes() {
        return intValue(OFFSETS_TOPIC_SEGMENT_BYTES);
    }

    public int transactionStateLogNumPartitions() {
        return intValue(TRANSACTION_STATE_LOG_NUM_PARTITIONS);
    }

    public short transactionStateLogReplicationFactor() {
        return (short) Math.min(Short.MAX_VALUE, intValue(TRANSACTION_STATE_LOG_REPLICATION_FACTOR));
    }

    public int transactionStateLogMinIsr() {
        return intValue(TRANSACTION_STATE_LOG_MIN_ISR);
    }

    public int transactionStateLogSegmentBytes() {
        return intValue(TRANSACTION_STATE_LOG_SEGMENT_BYTES);
    }

    public int transactionMaxTimeoutMs() {
        return intValue(TRANSACTION_MAX_TIMEOUT_MS);
    }

    public long transactionalIdExpirationMs() {
        return intValue(TRANSACTIONAL_ID_EXPIRATION_MS);
    }

    public long transactionRemoveExpiredCleanupIntervalMs() {
        return intValue(TRANSACTION_REMOVE_EXPIRED_CLEANUP_INTERVAL_MS);
    }

    public int offsetMetadataMaxBytes() {
        return intValue(OFFSET_METADATA_MAX_BYTES);
    }

    public long offsetsRetentionCheckIntervalMs() {
        return longValue(OFFSETS_RETENTION_CHECK_INTERVAL_MS);
    }
}
