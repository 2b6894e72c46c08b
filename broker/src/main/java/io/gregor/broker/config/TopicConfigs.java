package io.gregor.broker.config;

import static io.gregor.broker.config.ConfigType.BOOLEAN;
import static io.gregor.broker.config.ConfigType.DOUBLE;
import static io.gregor.broker.config.ConfigType.INT;
import static io.gregor.broker.config.ConfigType.LIST;
import static io.gregor.broker.config.ConfigType.LONG;

import io.gregor.storage.LogConfig;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * Topic-level configuration properties (Kafka's names), each with the broker property it defaults to. Settings
 * that Gregor stores but does not act on yet are marked so in their documentation.
 */
public final class TopicConfigs {
    public static final String CLEANUP_POLICY = "cleanup.policy";
    public static final String RETENTION_MS = "retention.ms";
    public static final String RETENTION_BYTES = "retention.bytes";
    public static final String SEGMENT_BYTES = "segment.bytes";
    public static final String SEGMENT_MS = "segment.ms";
    public static final String SEGMENT_INDEX_BYTES = "segment.index.bytes";
    public static final String INDEX_INTERVAL_BYTES = "index.interval.bytes";
    public static final String MAX_MESSAGE_BYTES = "max.message.bytes";
    public static final String MESSAGE_TIMESTAMP_TYPE = "message.timestamp.type";
    public static final String MIN_INSYNC_REPLICAS = "min.insync.replicas";
    public static final String UNCLEAN_LEADER_ELECTION_ENABLE = "unclean.leader.election.enable";
    public static final String FLUSH_MESSAGES = "flush.messages";
    public static final String FLUSH_MS = "flush.ms";
    public static final String FILE_DELETE_DELAY_MS = "file.delete.delay.ms";
    public static final String COMPRESSION_TYPE = "compression.type";
    public static final String DELETE_RETENTION_MS = "delete.retention.ms";
    public static final String MIN_COMPACTION_LAG_MS = "min.compaction.lag.ms";
    public static final String MAX_COMPACTION_LAG_MS = "max.compaction.lag.ms";
    public static final String MIN_CLEANABLE_DIRTY_RATIO = "min.cleanable.dirty.ratio";

    /** A topic property: its definition and how to read its broker-level default. */
    public record TopicKey(ConfigKey key, String brokerSynonym, Function<BrokerConfig, String> brokerDefault) {
    }

    private static final Map<String, TopicKey> KEYS = new LinkedHashMap<>();

    static {
        add(ConfigKey.listOf(CLEANUP_POLICY, null, "delete (retention by time and size) and/or compact (the log "
                        + "cleaner keeps the latest record of each key; records without a key are refused).", "delete", "compact"),
                BrokerConfigs.LOG_CLEANUP_POLICY, c -> c.valueString(BrokerConfigs.LOG_CLEANUP_POLICY));
        add(ConfigKey.atLeast(RETENTION_MS, LONG, null, -1, "Time a record is kept; -1 = forever."),
                BrokerConfigs.LOG_RETENTION_MS, c -> String.valueOf(c.logRetentionMs()));
        add(ConfigKey.atLeast(RETENTION_BYTES, LONG, null, -1, "Size a partition may reach before old segments go; -1 = unlimited."),
                BrokerConfigs.LOG_RETENTION_BYTES, c -> String.valueOf(c.logRetentionBytes()));
        add(ConfigKey.atLeast(SEGMENT_BYTES, INT, null, 14, "Segment file size."),
                BrokerConfigs.LOG_SEGMENT_BYTES, c -> String.valueOf(c.logSegmentBytes()));
        add(ConfigKey.atLeast(SEGMENT_MS, LONG, null, 1, "Segment age at which it is rolled."),
                BrokerConfigs.LOG_ROLL_MS, c -> String.valueOf(c.logRollMs()));
        add(ConfigKey.atLeast(SEGMENT_INDEX_BYTES, INT, null, 4, "Offset index size limit."),
                BrokerConfigs.LOG_INDEX_SIZE_MAX_BYTES, c -> String.valueOf(c.logIndexSizeMaxBytes()));
        add(ConfigKey.atLeast(INDEX_INTERVAL_BYTES, INT, null, 0, "Bytes between index entries."),
                BrokerConfigs.LOG_INDEX_INTERVAL_BYTES, c -> String.valueOf(c.logIndexIntervalBytes()));
        add(ConfigKey.atLeast(MAX_MESSAGE_BYTES, INT, null, 0, "Largest record batch accepted."),
                BrokerConfigs.MESSAGE_MAX_BYTES, c -> String.valueOf(c.messageMaxBytes()));
        add(ConfigKey.oneOf(MESSAGE_TIMESTAMP_TYPE, null, "CreateTime or LogAppendTime.", "CreateTime", "LogAppendTime"),
                BrokerConfigs.LOG_MESSAGE_TIMESTAMP_TYPE, c -> c.valueString(BrokerConfigs.LOG_MESSAGE_TIMESTAMP_TYPE));
        add(ConfigKey.atLeast(MIN_INSYNC_REPLICAS, INT, null, 1, "Replicas that must hold an acks=all write."),
                BrokerConfigs.MIN_INSYNC_REPLICAS, c -> String.valueOf(c.minInsyncReplicas()));
        add(ConfigKey.atLeast(FLUSH_MESSAGES, LONG, null, 1, "Messages between forced fsyncs."),
                BrokerConfigs.LOG_FLUSH_INTERVAL_MESSAGES, c -> String.valueOf(c.logFlushIntervalMessages()));
        add(ConfigKey.atLeast(FLUSH_MS, LONG, null, 0, "Time between forced fsyncs."),
                BrokerConfigs.LOG_FLUSH_INTERVAL_MS, c -> String.valueOf(c.logFlushIntervalMs()));
        add(ConfigKey.atLeast(FILE_DELETE_DELAY_MS, LONG, null, 0, "Delay before a deleted segment leaves the disk."),
                BrokerConfigs.LOG_SEGMENT_DELETE_DELAY_MS, c -> String.valueOf(c.logSegmentDeleteDelayMs()));
        add(ConfigKey.oneOf(COMPRESSION_TYPE, null,
                "Codec batches are stored with: producer keeps each batch as sent; any other value recompresses batches that differ.",
                "producer", "uncompressed", "gzip", "snappy", "lz4", "zstd"),
                BrokerConfigs.COMPRESSION_TYPE, c -> c.valueString(BrokerConfigs.COMPRESSION_TYPE));
        add(ConfigKey.atLeast(DELETE_RETENTION_MS, LONG, null, 0, "How long a tombstone stays after the cleaning that first saw it."),
                BrokerConfigs.LOG_CLEANER_DELETE_RETENTION_MS, c -> c.valueString(BrokerConfigs.LOG_CLEANER_DELETE_RETENTION_MS));
        add(ConfigKey.atLeast(MIN_COMPACTION_LAG_MS, LONG, null, 0, "Records younger than this are not compacted."),
                BrokerConfigs.LOG_CLEANER_MIN_COMPACTION_LAG_MS, c -> c.valueString(BrokerConfigs.LOG_CLEANER_MIN_COMPACTION_LAG_MS));
        add(ConfigKey.atLeast(MAX_COMPACTION_LAG_MS, LONG, null, 1, "A log whose oldest dirty records are older than this is cleaned whatever its ratio."),
                BrokerConfigs.LOG_CLEANER_MAX_COMPACTION_LAG_MS, c -> c.valueString(BrokerConfigs.LOG_CLEANER_MAX_COMPACTION_LAG_MS));
        add(ConfigKey.of(MIN_CLEANABLE_DIRTY_RATIO, DOUBLE, null, "Share of the log that must be dirty before it is cleaned."),
                BrokerConfigs.LOG_CLEANER_MIN_CLEANABLE_RATIO, c -> c.valueString(BrokerConfigs.LOG_CLEANER_MIN_CLEANABLE_RATIO));
        add(ConfigKey.of(UNCLEAN_LEADER_ELECTION_ENABLE, BOOLEAN, null, "Whether a replica outside the ISR may become "
                        + "leader when no ISR member is alive (losing the records it does not have)."),
                BrokerConfigs.UNCLEAN_LEADER_ELECTION_ENABLE, c -> c.valueString(BrokerConfigs.UNCLEAN_LEADER_ELECTION_ENABLE));
        // Accepted and stored so that tools and frameworks that set them work; not acted on yet.
        stored(ConfigKey.atLeast("segment.jitter.ms", LONG, "0", 0, "Stored; not applied."));
        stored(ConfigKey.of("preallocate", BOOLEAN, "false", "Stored; not applied."));
        stored(ConfigKey.atLeast("message.timestamp.before.max.ms", LONG, String.valueOf(Long.MAX_VALUE), 0, "Stored; not applied."));
        stored(ConfigKey.atLeast("message.timestamp.after.max.ms", LONG, "3600000", 0, "Stored; not applied."));
        stored(ConfigKey.of("remote.storage.enable", BOOLEAN, "false", "Tiered storage is not supported; stored only."));
        stored(ConfigKey.of("local.retention.ms", LONG, "-2", "Tiered storage is not supported; stored only."));
        stored(ConfigKey.of("local.retention.bytes", LONG, "-2", "Tiered storage is not supported; stored only."));
        stored(ConfigKey.of("follower.replication.throttled.replicas", LIST, "",
                "Replicas throttled on the follower side, as partition:node pairs or *: while such a replica is not in "
                        + "the ISR, its node copies it within follower.replication.throttled.rate."));
        stored(ConfigKey.of("leader.replication.throttled.replicas", LIST, "",
                "Replicas throttled on the leader side, as partition:node pairs or *: when that node leads the "
                        + "partition, it sends to followers not in the ISR within leader.replication.throttled.rate."));
        stored(ConfigKey.of("message.format.version", ConfigType.STRING, "3.0-IV1", "Deprecated; stored only."));
        stored(ConfigKey.of("message.downconversion.enable", BOOLEAN, "true", "Deprecated; stored only."));
    }

    private TopicConfigs() {
    }

    private static void add(ConfigKey key, String synonym, Function<BrokerConfig, String> brokerDefault) {
        KEYS.put(key.name(), new TopicKey(key, synonym, brokerDefault));
    }

    private static void stored(ConfigKey key) {
        KEYS.put(key.name(), new TopicKey(key, null, c -> key.defaultValue()));
    }

    public static Map<String, TopicKey> keys() {
        return java.util.Collections.unmodifiableMap(KEYS);
    }

    /** Validates topic overrides; throws {@link ConfigException} for an unknown name or a bad value. */
    public static void validate(Map<String, String> overrides) {
        for (Map.Entry<String, String> e : overrides.entrySet()) {
            TopicKey key = KEYS.get(e.getKey());
            if (key == null) {
                throw new ConfigException("Unknown topic config name: " + e.getKey());
            }
            key.key().parse(e.getValue());
        }
    }

    /** The effective value of a topic property: the override, else the broker default. */
    public static String effective(String name, Map<String, String> overrides, BrokerConfig broker) {
        String override = overrides.get(name);
        return override != null ? override : KEYS.get(name).brokerDefault().apply(broker);
    }

    /** The storage settings of a topic's logs. */
    public static LogConfig logConfig(Map<String, String> overrides, BrokerConfig broker) {
        Function<String, String> v = name -> effective(name, overrides, broker);
        long flushMs = Long.parseLong(v.apply(FLUSH_MS));
        return new LogConfig(
                Integer.parseInt(v.apply(SEGMENT_BYTES)),
                Long.parseLong(v.apply(SEGMENT_MS)),
                Integer.parseInt(v.apply(INDEX_INTERVAL_BYTES)),
                Integer.parseInt(v.apply(SEGMENT_INDEX_BYTES)),
                Long.parseLong(v.apply(RETENTION_MS)),
                Long.parseLong(v.apply(RETENTION_BYTES)),
                Long.parseLong(v.apply(FLUSH_MESSAGES)),
                flushMs,
                "LogAppendTime".equals(v.apply(MESSAGE_TIMESTAMP_TYPE)),
                Integer.parseInt(v.apply(MAX_MESSAGE_BYTES)),
                Long.parseLong(v.apply(FILE_DELETE_DELAY_MS)),
                compaction(v));
    }

    private static LogConfig.Compaction compaction(Function<String, String> v) {
        java.util.List<String> policy = java.util.Arrays.stream(v.apply(CLEANUP_POLICY).split(","))
                .map(String::trim).map(s -> s.toLowerCase(java.util.Locale.ROOT)).toList();
        return new LogConfig.Compaction(policy.contains("compact"), policy.contains("delete") || !policy.contains("compact"),
                Double.parseDouble(v.apply(MIN_CLEANABLE_DIRTY_RATIO)), Long.parseLong(v.apply(MIN_COMPACTION_LAG_MS)),
                Long.parseLong(v.apply(MAX_COMPACTION_LAG_MS)), Long.parseLong(v.apply(DELETE_RETENTION_MS)));
    }

    public static int minInsyncReplicas(Map<String, String> overrides, BrokerConfig broker) {
        return Integer.parseInt(effective(MIN_INSYNC_REPLICAS, overrides, broker));
    }
}
