package io.gregor.broker.config;

import static io.gregor.broker.config.ConfigType.BOOLEAN;
import static io.gregor.broker.config.ConfigType.DOUBLE;
import static io.gregor.broker.config.ConfigType.INT;
import static io.gregor.broker.config.ConfigType.LIST;
import static io.gregor.broker.config.ConfigType.LONG;
import static io.gregor.broker.config.ConfigType.STRING;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The broker's configuration properties: Kafka's names and defaults wherever Kafka has the same setting.
 * This table is the single definition; {@code docs/configuration.md} is generated from it.
 */
public final class BrokerConfigs {
    public static final String NODE_ID = "node.id";
    public static final String LOG_DIRS = "log.dirs";
    public static final String LOG_DIR = "log.dir";
    public static final String LISTENERS = "listeners";
    public static final String ADVERTISED_LISTENERS = "advertised.listeners";
    public static final String LISTENER_SECURITY_PROTOCOL_MAP = "listener.security.protocol.map";
    public static final String NUM_PARTITIONS = "num.partitions";
    public static final String DEFAULT_REPLICATION_FACTOR = "default.replication.factor";
    public static final String AUTO_CREATE_TOPICS_ENABLE = "auto.create.topics.enable";
    public static final String DELETE_TOPIC_ENABLE = "delete.topic.enable";
    public static final String MESSAGE_MAX_BYTES = "message.max.bytes";
    public static final String SOCKET_REQUEST_MAX_BYTES = "socket.request.max.bytes";
    public static final String SOCKET_SEND_BUFFER_BYTES = "socket.send.buffer.bytes";
    public static final String SOCKET_RECEIVE_BUFFER_BYTES = "socket.receive.buffer.bytes";
    public static final String MAX_CONNECTIONS = "max.connections";
    public static final String QUEUED_MAX_REQUESTS = "queued.max.requests";
    public static final String NUM_NETWORK_THREADS = "num.network.threads";
    public static final String NUM_IO_THREADS = "num.io.threads";
    public static final String LOG_SEGMENT_BYTES = "log.segment.bytes";
    public static final String LOG_ROLL_MS = "log.roll.ms";
    public static final String LOG_ROLL_HOURS = "log.roll.hours";
    public static final String LOG_RETENTION_MS = "log.retention.ms";
    public static final String LOG_RETENTION_MINUTES = "log.retention.minutes";
    public static final String LOG_RETENTION_HOURS = "log.retention.hours";
    public static final String LOG_RETENTION_BYTES = "log.retention.bytes";
    public static final String LOG_RETENTION_CHECK_INTERVAL_MS = "log.retention.check.interval.ms";
    public static final String PRODUCER_ID_EXPIRATION_MS = "producer.id.expiration.ms";
    public static final String LOG_FLUSH_INTERVAL_MESSAGES = "log.flush.interval.messages";
    public static final String LOG_FLUSH_INTERVAL_MS = "log.flush.interval.ms";
    public static final String LOG_INDEX_INTERVAL_BYTES = "log.index.interval.bytes";
    public static final String LOG_INDEX_SIZE_MAX_BYTES = "log.index.size.max.bytes";
    public static final String LOG_MESSAGE_TIMESTAMP_TYPE = "log.message.timestamp.type";
    public static final String LOG_SEGMENT_DELETE_DELAY_MS = "log.segment.delete.delay.ms";
    public static final String LOG_CLEANUP_POLICY = "log.cleanup.policy";
    public static final String LOG_CLEANER_ENABLE = "log.cleaner.enable";
    public static final String LOG_CLEANER_BACKOFF_MS = "log.cleaner.backoff.ms";
    public static final String LOG_CLEANER_DEDUPE_BUFFER_SIZE = "log.cleaner.dedupe.buffer.size";
    public static final String LOG_CLEANER_IO_MAX_BYTES_PER_SECOND = "log.cleaner.io.max.bytes.per.second";
    public static final String LOG_CLEANER_MIN_CLEANABLE_RATIO = "log.cleaner.min.cleanable.ratio";
    public static final String LOG_CLEANER_MIN_COMPACTION_LAG_MS = "log.cleaner.min.compaction.lag.ms";
    public static final String LOG_CLEANER_MAX_COMPACTION_LAG_MS = "log.cleaner.max.compaction.lag.ms";
    public static final String LOG_CLEANER_DELETE_RETENTION_MS = "log.cleaner.delete.retention.ms";
    public static final String MIN_INSYNC_REPLICAS = "min.insync.replicas";
    public static final String COMPRESSION_TYPE = "compression.type";
    public static final String FETCH_MAX_BYTES = "fetch.max.bytes";
    public static final String MAX_INCREMENTAL_FETCH_SESSION_CACHE_SLOTS = "max.incremental.fetch.session.cache.slots";
    public static final String CONNECTIONS_MAX_IDLE_MS = "connections.max.idle.ms";
    public static final String CLUSTER_ID = "cluster.id";
    public static final String GROUP_INITIAL_REBALANCE_DELAY_MS = "group.initial.rebalance.delay.ms";
    public static final String GROUP_MIN_SESSION_TIMEOUT_MS = "group.min.session.timeout.ms";
    public static final String GROUP_MAX_SESSION_TIMEOUT_MS = "group.max.session.timeout.ms";
    public static final String GROUP_MAX_SIZE = "group.max.size";
    public static final String GROUP_CONSUMER_HEARTBEAT_INTERVAL_MS = "group.consumer.heartbeat.interval.ms";
    public static final String GROUP_CONSUMER_SESSION_TIMEOUT_MS = "group.consumer.session.timeout.ms";
    public static final String GROUP_CONSUMER_MAX_SIZE = "group.consumer.max.size";
    public static final String GROUP_CONSUMER_ASSIGNORS = "group.consumer.assignors";
    public static final String GROUP_CONSUMER_MIGRATION_POLICY = "group.consumer.migration.policy";
    public static final String OFFSETS_RETENTION_MINUTES = "offsets.retention.minutes";
    public static final String OFFSETS_TOPIC_SEGMENT_BYTES = "offsets.topic.segment.bytes";
    public static final String TRANSACTION_STATE_LOG_NUM_PARTITIONS = "transaction.state.log.num.partitions";
    public static final String TRANSACTION_STATE_LOG_REPLICATION_FACTOR = "transaction.state.log.replication.factor";
    public static final String TRANSACTION_STATE_LOG_MIN_ISR = "transaction.state.log.min.isr";
    public static final String TRANSACTION_STATE_LOG_SEGMENT_BYTES = "transaction.state.log.segment.bytes";
    public static final String TRANSACTION_MAX_TIMEOUT_MS = "transaction.max.timeout.ms";
    public static final String TRANSACTIONAL_ID_EXPIRATION_MS = "transactional.id.expiration.ms";
    public static final String TRANSACTION_VERSION = "transaction.version";
    public static final String TRANSACTION_PARTITION_VERIFICATION_ENABLE = "transaction.partition.verification.enable";
    public static final String TRANSACTION_REMOVE_EXPIRED_CLEANUP_INTERVAL_MS =
            "transaction.remove.expired.transaction.cleanup.interval.ms";
    public static final String OFFSETS_TOPIC_NUM_PARTITIONS = "offsets.topic.num.partitions";
    public static final String OFFSETS_TOPIC_REPLICATION_FACTOR = "offsets.topic.replication.factor";
    public static final String OFFSET_METADATA_MAX_BYTES = "offset.metadata.max.bytes";
    public static final String OFFSETS_RETENTION_CHECK_INTERVAL_MS = "offsets.retention.check.interval.ms";
    public static final String LEGACY_PROTOCOL_ENABLE = "legacy.protocol.enable";
    public static final String PROCESS_ROLES = "process.roles";
    public static final String CONTROLLER_QUORUM_VOTERS = "controller.quorum.voters";
    public static final String CONTROLLER_QUORUM_BOOTSTRAP_SERVERS = "controller.quorum.bootstrap.servers";
    public static final String CONTROLLER_LISTENER_NAMES = "controller.listener.names";
    public static final String CONTROLLER_QUORUM_ELECTION_TIMEOUT_MS = "controller.quorum.election.timeout.ms";
    public static final String INTER_BROKER_LISTENER_NAME = "inter.broker.listener.name";
    public static final String BROKER_RACK = "broker.rack";
    public static final String REPLICA_LAG_TIME_MAX_MS = "replica.lag.time.max.ms";
    public static final String AUTO_LEADER_REBALANCE_ENABLE = "auto.leader.rebalance.enable";
    public static final String LEADER_REPLICATION_THROTTLED_RATE = "leader.replication.throttled.rate";
    public static final String FOLLOWER_REPLICATION_THROTTLED_RATE = "follower.replication.throttled.rate";
    public static final String REPLICA_ALTER_LOG_DIRS_IO_MAX_BYTES_PER_SECOND = "replica.alter.log.dirs.io.max.bytes.per.second";
    /** The broker properties that kafka-reassign-partitions.sh --throttle sets on each node, at run time. */
    public static final java.util.Set<String> REPLICATION_THROTTLE_KEYS = java.util.Set.of(
            LEADER_REPLICATION_THROTTLED_RATE, FOLLOWER_REPLICATION_THROTTLED_RATE,
            REPLICA_ALTER_LOG_DIRS_IO_MAX_BYTES_PER_SECOND);
    public static final String LEADER_IMBALANCE_CHECK_INTERVAL_SECONDS = "leader.imbalance.check.interval.seconds";
    public static final String REPLICA_FETCH_MAX_BYTES = "replica.fetch.max.bytes";
    public static final String REPLICA_FETCH_WAIT_MAX_MS = "replica.fetch.wait.max.ms";
    public static final String REPLICA_FETCH_RESPONSE_MAX_BYTES = "replica.fetch.response.max.bytes";
    public static final String REPLICA_FETCH_BACKOFF_MS = "replica.fetch.backoff.ms";
    public static final String UNCLEAN_LEADER_ELECTION_ENABLE = "unclean.leader.election.enable";
    public static final String BROKER_HEARTBEAT_INTERVAL_MS = "broker.heartbeat.interval.ms";
    public static final String BROKER_SESSION_TIMEOUT_MS = "broker.session.timeout.ms";

    private static final Map<String, ConfigKey> KEYS = new LinkedHashMap<>();

    static {
        add(ConfigKey.atLeast(NODE_ID, INT, "1", 0, "The id of this node in the cluster."));
        add(ConfigKey.of(LOG_DIRS, LIST, null, "Directories holding the log data. Overrides log.dir."));
        add(ConfigKey.of(LOG_DIR, STRING, "./data", "Directory holding the log data (used when log.dirs is not set)."));
        add(ConfigKey.of(LISTENERS, LIST, "PLAINTEXT://127.0.0.1:9092",
                "Comma-separated listener URIs the broker binds, e.g. PLAINTEXT://0.0.0.0:9092. Port 0 picks a free port."));
        add(ConfigKey.of(ADVERTISED_LISTENERS, LIST, null,
                "Listeners published to clients in Metadata responses, when different from listeners."));
        add(ConfigKey.of(LISTENER_SECURITY_PROTOCOL_MAP, LIST,
                "PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL",
                "Security protocol of each listener name, as NAME:PROTOCOL pairs. This version serves PLAINTEXT only: "
                        + "a listener whose protocol is SSL, SASL_PLAINTEXT or SASL_SSL is refused at start, never "
                        + "served without its security."));
        add(ConfigKey.atLeast(NUM_PARTITIONS, INT, "1", 1, "Default number of partitions of auto-created topics."));
        add(ConfigKey.atLeast(DEFAULT_REPLICATION_FACTOR, INT, "1", 1, "Default replication factor of auto-created topics."));
        add(ConfigKey.of(AUTO_CREATE_TOPICS_ENABLE, BOOLEAN, "true", "Create a topic when a client asks for metadata of an unknown one."));
        add(ConfigKey.of(DELETE_TOPIC_ENABLE, BOOLEAN, "true", "Allow DeleteTopics."));
        add(ConfigKey.atLeast(MESSAGE_MAX_BYTES, INT, "1048588", 0, "Largest record batch size the broker accepts (topic: max.message.bytes)."));
        add(ConfigKey.atLeast(SOCKET_REQUEST_MAX_BYTES, INT, "104857600", 1, "Largest request frame the broker reads; larger frames close the connection."));
        add(ConfigKey.atLeast(SOCKET_SEND_BUFFER_BYTES, INT, "102400", -1, "SO_SNDBUF of client and inter-node connections the broker"
                + " accepts (-1: the operating system's default and auto-tuning), as in Kafka."));
        add(ConfigKey.atLeast(SOCKET_RECEIVE_BUFFER_BYTES, INT, "102400", -1, "SO_RCVBUF of the connections the broker accepts (-1: the"
                + " operating system's default and auto-tuning), as in Kafka."));
        add(ConfigKey.atLeast(MAX_CONNECTIONS, INT, String.valueOf(Integer.MAX_VALUE), 0, "Maximum number of open client connections."));
        add(ConfigKey.atLeast(QUEUED_MAX_REQUESTS, INT, "500", 1, "Requests in progress per connection before the broker stops reading from it."));
        add(ConfigKey.atLeast(NUM_NETWORK_THREADS, INT, "0", 0, "Network event-loop threads (0 = one per core)."));
        add(ConfigKey.atLeast(NUM_IO_THREADS, INT, "8", 1, "Threads that run request handlers which touch the disk."));
        add(ConfigKey.atLeast(LOG_SEGMENT_BYTES, INT, "1073741824", 14, "Size at which a segment file is rolled."));
        add(ConfigKey.atLeast(LOG_ROLL_MS, LONG, null, 1, "Age at which a segment is rolled (overrides log.roll.hours)."));
        add(ConfigKey.atLeast(LOG_ROLL_HOURS, INT, "168", 1, "Age in hours at which a segment is rolled."));
        add(ConfigKey.of(LOG_RETENTION_MS, LONG, null, "Retention time in ms; -1 keeps forever (overrides minutes and hours)."));
        add(ConfigKey.of(LOG_RETENTION_MINUTES, INT, null, "Retention time in minutes (overrides hours)."));
        add(ConfigKey.of(LOG_RETENTION_HOURS, INT, "168", "Retention time in hours."));
        add(ConfigKey.of(LOG_RETENTION_BYTES, LONG, "-1", "Maximum size of a partition's log before old segments are deleted; -1 = unlimited."));
        add(ConfigKey.atLeast(LOG_RETENTION_CHECK_INTERVAL_MS, LONG, "300000", 1, "How often retention is checked."));
        add(ConfigKey.atLeast(PRODUCER_ID_EXPIRATION_MS, INT, "86400000", 1, "How long a partition keeps the state of an "
                + "idempotent producer (its epoch and last sequence numbers) after its last batch; checked with retention."));
        add(ConfigKey.atLeast(LOG_FLUSH_INTERVAL_MESSAGES, LONG, String.valueOf(Long.MAX_VALUE), 1,
                "Messages accumulated before a forced fsync. Gregor fsyncs acks=all writes before answering regardless."));
        add(ConfigKey.of(LOG_FLUSH_INTERVAL_MS, LONG, null, "Maximum time data stays unsynced (Gregor syncs continuously in group commits)."));
        add(ConfigKey.atLeast(LOG_INDEX_INTERVAL_BYTES, INT, "4096", 0, "Bytes between offset index entries."));
        add(ConfigKey.atLeast(LOG_INDEX_SIZE_MAX_BYTES, INT, "10485760", 4, "Maximum size of an offset index file."));
        add(ConfigKey.oneOf(LOG_MESSAGE_TIMESTAMP_TYPE, "CreateTime", "Timestamp kept in records: CreateTime or LogAppendTime.",
                "CreateTime", "LogAppendTime"));
        add(ConfigKey.atLeast(LOG_SEGMENT_DELETE_DELAY_MS, LONG, "60000", 0, "Delay before a deleted segment file is removed from disk."));
        add(ConfigKey.listOf(LOG_CLEANUP_POLICY, "delete",
                "Default cleanup policy of topics: delete (retention by time and size), compact (the log cleaner keeps "
                        + "the latest record of each key), or both.", "delete", "compact"));
        add(ConfigKey.of(LOG_CLEANER_ENABLE, BOOLEAN, "true", "Run the log cleaner, which compacts topics whose cleanup.policy has compact."));
        add(ConfigKey.atLeast(LOG_CLEANER_BACKOFF_MS, LONG, "15000", 0, "Time the cleaner waits when no log needs cleaning."));
        add(ConfigKey.atLeast(LOG_CLEANER_DEDUPE_BUFFER_SIZE, LONG, "134217728", 16 * 24,
                "Memory of the cleaner's key map (24 bytes per key); a log with more dirty keys is cleaned in several passes."));
        add(ConfigKey.of(LOG_CLEANER_IO_MAX_BYTES_PER_SECOND, DOUBLE, String.valueOf(Double.MAX_VALUE),
                "Bytes per second the cleaner may read (throttle)."));
        add(ConfigKey.of(LOG_CLEANER_MIN_CLEANABLE_RATIO, DOUBLE, "0.5",
                "Default min.cleanable.dirty.ratio: the share of a log that must be dirty before it is cleaned."));
        add(ConfigKey.atLeast(LOG_CLEANER_MIN_COMPACTION_LAG_MS, LONG, "0", 0,
                "Default min.compaction.lag.ms: records younger than this are not compacted."));
        add(ConfigKey.atLeast(LOG_CLEANER_MAX_COMPACTION_LAG_MS, LONG, String.valueOf(Long.MAX_VALUE), 1,
                "Default max.compaction.lag.ms: a log whose oldest dirty records are older than this is cleaned whatever its ratio."));
        add(ConfigKey.atLeast(LOG_CLEANER_DELETE_RETENTION_MS, LONG, "86400000", 0,
                "Default delete.retention.ms: how long a tombstone stays after the cleaning that first saw it."));
        add(ConfigKey.atLeast(MIN_INSYNC_REPLICAS, INT, "1", 1, "Replicas that must hold an acks=all write before it is acknowledged."));
        add(ConfigKey.oneOf(COMPRESSION_TYPE, "producer",
                "Final compression of a topic's batches: producer keeps them as sent; uncompressed, gzip, snappy, lz4 or zstd "
                        + "recompresses produced batches whose codec differs (at each codec's default level).",
                "producer", "uncompressed", "gzip", "snappy", "lz4", "zstd"));
        add(ConfigKey.atLeast(FETCH_MAX_BYTES, INT, "57671680", 1024, "Largest fetch response the broker builds."));
        add(ConfigKey.atLeast(MAX_INCREMENTAL_FETCH_SESSION_CACHE_SLOTS, INT, "1000", 0, "Incremental fetch sessions "
                + "(KIP-227) the broker keeps; a client that finds none free fetches without one (0 turns them off)."));
        add(ConfigKey.of(CONNECTIONS_MAX_IDLE_MS, LONG, "600000", "Idle connections are closed after this many ms."));
        add(ConfigKey.of(CLUSTER_ID, STRING, null, "Cluster id; generated on first start and kept in meta.properties."));
        add(ConfigKey.atLeast(GROUP_INITIAL_REBALANCE_DELAY_MS, INT, "3000", 0,
                "Time the first rebalance of an empty group waits for more members to join."));
        add(ConfigKey.atLeast(GROUP_MIN_SESSION_TIMEOUT_MS, INT, "6000", 0, "Smallest session timeout a group member may ask for."));
        add(ConfigKey.atLeast(GROUP_MAX_SESSION_TIMEOUT_MS, INT, "1800000", 0, "Largest session timeout a group member may ask for."));
        add(ConfigKey.atLeast(GROUP_MAX_SIZE, INT, String.valueOf(Integer.MAX_VALUE), 1, "Maximum number of members of one group."));
        add(ConfigKey.atLeast(GROUP_CONSUMER_HEARTBEAT_INTERVAL_MS, INT, "5000", 1,
                "Heartbeat interval the coordinator gives members of consumer-protocol groups (KIP-848)."));
        add(ConfigKey.atLeast(GROUP_CONSUMER_SESSION_TIMEOUT_MS, INT, "45000", 1,
                "A consumer-protocol member that sends no heartbeat for this long is removed from its group."));
        add(ConfigKey.atLeast(GROUP_CONSUMER_MAX_SIZE, INT, String.valueOf(Integer.MAX_VALUE), 1,
                "Maximum number of members of one consumer-protocol group."));
        add(ConfigKey.of(GROUP_CONSUMER_ASSIGNORS, LIST, "uniform,range",
                "Server-side assignors of consumer-protocol groups; the first is the default. Known: uniform, range."));
        add(ConfigKey.oneOf(GROUP_CONSUMER_MIGRATION_POLICY, "bidirectional",
                "Whether live groups move between the classic and consumer protocols: bidirectional, upgrade (classic to "
                        + "consumer only), downgrade (consumer to classic only) or disabled. Empty groups always can.",
                "bidirectional", "upgrade", "downgrade", "disabled"));
        add(ConfigKey.atLeast(OFFSETS_TOPIC_NUM_PARTITIONS, INT, "50", 1,
                "Partitions of __consumer_offsets when it is created; each group lives in partition "
                        + "abs(hashCode(group.id)) % partitions. The count of an existing topic is kept."));
        add(ConfigKey.atLeast(OFFSETS_TOPIC_REPLICATION_FACTOR, INT, "3", 1,
                "Replicas of __consumer_offsets when it is created; a cluster with fewer live brokers creates it with as "
                        + "many as it has (Kafka refuses instead), so a single node needs no setting."));
        add(ConfigKey.atLeast(TRANSACTION_STATE_LOG_NUM_PARTITIONS, INT, "50", 1,
                "Partitions of __transaction_state when it is created (at the first FindCoordinator for a transactional "
                        + "id); each transactional id lives in partition abs(hashCode(transactional.id)) % partitions."));
        add(ConfigKey.atLeast(TRANSACTION_STATE_LOG_REPLICATION_FACTOR, INT, "3", 1,
                "Replicas of __transaction_state when it is created; a cluster with fewer live brokers creates it with "
                        + "as many as it has (Kafka refuses instead), so a single node needs no setting."));
        add(ConfigKey.atLeast(TRANSACTION_STATE_LOG_MIN_ISR, INT, "2", 1,
                "min.insync.replicas of __transaction_state when it is created, at most its replication factor."));
        add(ConfigKey.atLeast(TRANSACTION_STATE_LOG_SEGMENT_BYTES, INT, "104857600", 1024,
                "Segment size of __transaction_state when it is created."));
        add(ConfigKey.atLeast(TRANSACTION_MAX_TIMEOUT_MS, INT, "900000", 1,
                "Longest transaction.timeout.ms a producer may ask for; a longer one gets INVALID_TRANSACTION_TIMEOUT."));
        add(ConfigKey.of(TRANSACTION_PARTITION_VERIFICATION_ENABLE, BOOLEAN, "true",
                "Verify with the transaction coordinator that a transactional batch's partition is in the producer's "
                        + "open transaction before it may open one there (KIP-890 part 1): a late retry of a transaction "
                        + "that was aborted cannot open a transaction nobody ends. The first batch of each transaction "
                        + "in a partition costs one round trip to the coordinator."));
        add(new ConfigKey(TRANSACTION_VERSION, INT, "2",
                "The transaction.version feature level the cluster starts with (finalized in ApiVersions) until "
                        + "kafka-features.sh upgrade / downgrade --feature transaction.version=N sets it in the metadata "
                        + "log, for every node: 2 makes Kafka 4.x producers use transaction version 2 (KIP-890 part 2: the "
                        + "epoch is bumped at every commit and abort, partitions join the transaction through Produce and "
                        + "TxnOffsetCommit); 0 or 1 keep them on version 1. Older clients use version 1 whatever it is.",
                v -> ((Number) v).intValue() >= 0 && ((Number) v).intValue() <= 2, "Value must be 0, 1 or 2"));
        add(ConfigKey.atLeast(TRANSACTIONAL_ID_EXPIRATION_MS, INT, "604800000", 1,
                "A transactional id with no transaction open or completing that has not changed for this long is "
                        + "removed; its next producer starts with a new producer id."));
        add(ConfigKey.atLeast(TRANSACTION_REMOVE_EXPIRED_CLEANUP_INTERVAL_MS, INT, "3600000", 1,
                "How often expired transactional ids are looked for."));
        add(ConfigKey.atLeast(OFFSET_METADATA_MAX_BYTES, INT, "4096", 0,
                "Longest metadata string of a committed offset; a longer one gets OFFSET_METADATA_TOO_LARGE."));
        add(ConfigKey.atLeast(OFFSETS_TOPIC_SEGMENT_BYTES, INT, "104857600", 1024,
                "Segment size of __consumer_offsets when it is created (smaller segments are compacted sooner)."));
        add(ConfigKey.atLeast(OFFSETS_RETENTION_MINUTES, INT, "10080", 1,
                "Committed offsets of a group that has been empty this long (or, for partitions the group no longer "
                        + "subscribes to, committed this long ago) are deleted."));
        add(ConfigKey.atLeast(OFFSETS_RETENTION_CHECK_INTERVAL_MS, LONG, "600000", 1,
                "How often expired committed offsets are looked for."));
        add(ConfigKey.of(LEGACY_PROTOCOL_ENABLE, BOOLEAN, "true",
                "Serve the request versions and message formats v0/v1 that Kafka 4.0 removed (KIP-896): Produce v0-2, "
                        + "Fetch v0-3, ListOffsets v0, OffsetCommit v0-1, OffsetFetch v0 and others, used by pykafka "
                        + "and clients older than Kafka 2.1. false refuses them as Kafka 4.x does (the connection is closed)."));
    }

    static {
        add(ConfigKey.of(PROCESS_ROLES, LIST, null,
                "Roles of this node: broker,controller (both: the node votes in the metadata quorum and holds partitions) "
                        + "or broker (the node holds partitions and receives the metadata log without voting, as a Ratis "
                        + "listener; it finds the quorum through controller.quorum.voters or "
                        + "controller.quorum.bootstrap.servers and needs no CONTROLLER listener). Unset, the node is a "
                        + "single-node cluster. Controller-only nodes (process.roles=controller) are not supported yet and "
                        + "are refused at start."));
        add(ConfigKey.of(CONTROLLER_QUORUM_VOTERS, LIST, null,
                "The voters of the metadata quorum, as id@host:port of each node's CONTROLLER listener, e.g. "
                        + "1@10.0.0.1:9093,2@10.0.0.2:9093,3@10.0.0.3:9093. The same on every node; this node must be "
                        + "one of them. The metadata log is replicated on Apache Ratis over these addresses; a "
                        + "majority must be up for metadata to change. No storage-format step: the cluster id is "
                        + "agreed through the quorum on first start."));
        add(ConfigKey.of(CONTROLLER_QUORUM_BOOTSTRAP_SERVERS, LIST, null,
                "host:port of voters' CONTROLLER listeners, without node ids (KIP-853), e.g. "
                        + "10.0.0.1:9093,10.0.0.2:9093: where a node that is not listed in controller.quorum.voters "
                        + "learns the quorum's current voters. A broker-only node (process.roles=broker) then observes "
                        + "the quorum; a broker,controller node observes it on its CONTROLLER listener until it is made "
                        + "a voter (AddRaftVoter: gregor cluster add-voter)."));
        add(ConfigKey.of(CONTROLLER_LISTENER_NAMES, LIST, null,
                "Names of the listeners that carry the metadata quorum's traffic (the first one is used); they are "
                        + "not served to Kafka clients. Required with controller.quorum.voters on a broker,controller node; "
                        + "a broker-only node must not list them in listeners."));
        add(ConfigKey.atLeast(CONTROLLER_QUORUM_ELECTION_TIMEOUT_MS, INT, "1000", 10,
                "Time without a message from the metadata leader after which a voter starts an election (randomised "
                        + "between this and twice this); a leader that hears from no majority for twice this steps down."));
        add(ConfigKey.of(INTER_BROKER_LISTENER_NAME, STRING, null,
                "Listener that nodes use to reach each other; by default the first listener that is not a controller "
                        + "listener."));
        add(ConfigKey.atLeast(BROKER_HEARTBEAT_INTERVAL_MS, INT, "2000", 1,
                "How often a node of a cluster sends a heartbeat to the active controller."));
        add(ConfigKey.atLeast(BROKER_SESSION_TIMEOUT_MS, INT, "9000", 1,
                "A node of a cluster whose heartbeats stop for this long is fenced: it leaves Metadata responses and "
                        + "its partitions get other leaders (or none, until it is back, for those it alone holds). A node "
                        + "whose heartbeat connection to the active controller closed (its process died), or that a new "
                        + "active controller has not heard from yet, has a shorter grace: two heartbeat intervals and a "
                        + "second, at least 3 s, at most this."));
        add(ConfigKey.atLeast(REPLICA_LAG_TIME_MAX_MS, LONG, "30000", 1,
                "A follower that has not caught up with its leader for this long leaves the ISR (acks=all then waits "
                        + "only for the others, down to min.insync.replicas)."));
        add(ConfigKey.atLeast(REPLICA_FETCH_MAX_BYTES, INT, "1048576", 1024,
                "Bytes a follower asks for per partition in one fetch (at least one batch is sent)."));
        add(ConfigKey.atLeast(REPLICA_FETCH_WAIT_MAX_MS, INT, "500", 0,
                "How long a follower's fetch waits on the leader for new records."));
        add(ConfigKey.atLeast(REPLICA_FETCH_RESPONSE_MAX_BYTES, INT, "10485760", 1024,
                "Bytes a follower asks for in one fetch over all partitions."));
        add(ConfigKey.atLeast(REPLICA_FETCH_BACKOFF_MS, LONG, "1000", 0,
                "How long a follower waits after a failed fetch before it tries again."));
        add(ConfigKey.of(UNCLEAN_LEADER_ELECTION_ENABLE, BOOLEAN, "false",
                "Whether a partition none of whose ISR members is alive takes a live replica from outside the ISR as "
                        + "leader (an unclean election: records that replica does not have are lost, acknowledged ones "
                        + "included) instead of staying offline until an ISR member is back. The default for topics "
                        + "without their own unclean.leader.election.enable; dynamic (kafka-configs.sh --entity-default)."));
        add(ConfigKey.of(AUTO_LEADER_REBALANCE_ENABLE, BOOLEAN, "true",
                "Whether the active controller moves leadership back to each partition's preferred replica (the first "
                        + "of its replicas) when that replica is in sync and alive, every "
                        + "leader.imbalance.check.interval.seconds; kafka-leader-election.sh does it on demand."));
        add(ConfigKey.atLeast(LEADER_IMBALANCE_CHECK_INTERVAL_SECONDS, LONG, "300", 1,
                "How often the active controller looks for partitions not led by their preferred replica "
                        + "(auto.leader.rebalance.enable)."));
        add(ConfigKey.atLeast(LEADER_REPLICATION_THROTTLED_RATE, LONG, String.valueOf(Long.MAX_VALUE), 0,
                "Bytes per second this node sends, as a leader, to followers that are not in the ISR, for the "
                        + "partitions that the topic config leader.replication.throttled.replicas lists for this node. "
                        + "Set at run time per node (kafka-reassign-partitions.sh --throttle does)."));
        add(ConfigKey.atLeast(FOLLOWER_REPLICATION_THROTTLED_RATE, LONG, String.valueOf(Long.MAX_VALUE), 0,
                "Bytes per second this node copies, as a follower not in the ISR, for the partitions that the topic "
                        + "config follower.replication.throttled.replicas lists for this node."));
        add(ConfigKey.atLeast(REPLICA_ALTER_LOG_DIRS_IO_MAX_BYTES_PER_SECOND, LONG, String.valueOf(Long.MAX_VALUE), 0,
                "Kafka's throttle for moves between the log directories of one node (kafka-reassign-partitions.sh "
                        + "--replica-alter-log-dirs-throttle). Accepted; Gregor has one log directory per node, so "
                        + "there is nothing it limits."));
        add(ConfigKey.of(BROKER_RACK, STRING, null,
                "Rack of this node, registered with the controller and shown to clients in Metadata and DescribeCluster. "
                        + "New partitions' replicas are spread over as many racks as their replication factor allows "
                        + "(nodes without a rack count as one rack). Fetching from the closest replica (client.rack, "
                        + "KIP-392) is not supported yet: consumers fetch from the leader."));
    }

    private BrokerConfigs() {
    }

    private static void add(ConfigKey key) {
        KEYS.put(key.name(), key);
    }

    public static Map<String, ConfigKey> keys() {
        return java.util.Collections.unmodifiableMap(KEYS);
    }

    public static ConfigKey key(String name) {
        return KEYS.get(name);
    }
}
