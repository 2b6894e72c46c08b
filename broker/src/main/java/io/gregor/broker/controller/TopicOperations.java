package io.gregor.broker.controller;

import io.gregor.broker.config.BrokerConfig;
import io.gregor.broker.config.ConfigException;
import io.gregor.broker.config.ConfigKey;
import io.gregor.broker.config.TopicConfigs;
import io.gregor.metadata.ApiError;
import io.gregor.metadata.ControllerResult;
import io.gregor.metadata.MetadataImage;
import io.gregor.metadata.MetadataManager;
import io.gregor.metadata.MetadataRecord.PartitionsAdded;
import io.gregor.metadata.MetadataRecord.TopicConfigsSet;
import io.gregor.metadata.MetadataRecord.TopicCreated;
import io.gregor.metadata.MetadataRecord.TopicDeleted;
import io.gregor.metadata.MetadataRecord;
import io.gregor.metadata.PartitionRegistration;
import io.gregor.metadata.TopicImage;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.protocol.Errors;

/**
 * Topic life-cycle decisions (create, delete, add partitions, change configs): validation against the current image,
 * then the records that carry them out. Each call is one metadata write, so a batch of topics is atomic per call.
 */
public final class TopicOperations {
    public static final int MAX_NAME_LENGTH = 249;
    private static final int MAX_PARTITIONS = 100_000;

    private final MetadataManager metadata;
    private final Supplier<BrokerConfig> config;
    private final java.util.Random random = new java.util.Random();

    public TopicOperations(MetadataManager metadata, Supplier<BrokerConfig> config) {
        this.metadata = metadata;
        this.config = config;
    }

    /**
     * A topic to create; -1 partitions or replication factor means the broker default; {@code assignments}, when not
     * null, gives the replicas of each partition (and then the count).
     */
    public record NewTopic(String name, int partitions, short replicationFactor, Map<String, String> configs,
                           List<List<Integer>> assignments) {
        public NewTopic(String name, int partitions, short replicationFactor, Map<String, String> configs) {
            this(name, partitions, replicationFactor, configs, null);
        }
    }

    /** The outcome for one topic. */
    public record CreateResult(String name, ApiError error, TopicImage topic) {
    }

    /** Kafka's topic name rules; returns null when valid. */
    public static String invalidNameReason(String name) {
        if (name == null || name.isEmpty()) {
            return "Topic name is illegal, it can't be empty";
        }
        if (name.equals(".") || name.equals("..")) {
            return "Topic name cannot be \".\" or \"..\"";
        }
        if (name.length() > MAX_NAME_LENGTH) {
            return "Topic name is illegal, it can't be longer than " + MAX_NAME_LENGTH + " characters, topic name: " + name;
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (!(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-')) {
                return "Topic name \"" + name + "\" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'";
            }
        }
        return null;
    }

    public CompletableFuture<List<CreateResult>> create(List<NewTopic> topics, boolean validateOnly) {
        return metadata.write(image -> {
            List<MetadataRecord> records = new ArrayList<>();
            List<CreateResult> results = new ArrayList<>();
            Set<String> inBatch = new HashSet<>();
            for (NewTopic topic : topics) {
                ApiError error = validateNew(image, topic, inBatch);
                if (!error.isSuccess()) {
                    results.add(new CreateResult(topic.name(), error, null));
                    continue;
                }
                inBatch.add(topic.name());
                int partitions = topic.assignments() != null ? topic.assignments().size()
                        : topic.partitions() < 0 ? config.get().numPartitions() : topic.partitions();
                int rf = topic.replicationFactor() < 0 ? config.get().defaultReplicationFactor() : topic.replicationFactor();
                List<List<Integer>> placement = topic.assignments() != null ? topic.assignments()
                        : ReplicaPlacement.place(liveBrokers(image), racks(image), 0, partitions, rf,
                                random.nextInt(1 << 16));
                Map<Integer, PartitionRegistration> registrations = new java.util.HashMap<>();
                for (int p = 0; p < partitions; p++) {
                    registrations.put(p, PartitionRegistration.of(placement.get(p)));
                }
                TopicImage created = new TopicImage(topic.name(), Uuid.randomUuid(), partitions, topic.configs(),
                        registrations);
                if (!validateOnly) {
                    records.add(new TopicCreated(created.name(), created.id(), partitions, created.configs()));
                    for (int p = 0; p < partitions; p++) {
                        records.add(new MetadataRecord.PartitionState(created.id(), p, created.registration(p)));
                    }
                }
                results.add(new CreateResult(topic.name(), ApiError.NONE, created));
            }
            return ControllerResult.of(records, results);
        });
    }

    private ApiError validateNew(MetadataImage image, NewTopic topic, Set<String> inBatch) {
        String invalid = invalidNameReason(topic.name());
        if (invalid != null) {
            return ApiError.of(Errors.INVALID_TOPIC_EXCEPTION, invalid);
        }
        if (image.topic(topic.name()) != null || inBatch.contains(topic.name())) {
            return ApiError.of(Errors.TOPIC_ALREADY_EXISTS, "Topic '" + topic.name() + "' already exists.");
        }
        String collides = collision(image, topic.name());
        if (collides != null) {
            return ApiError.of(Errors.INVALID_TOPIC_EXCEPTION, "Topic '" + topic.name()
                    + "' collides with existing topic: " + collides);
        }
        if (topic.partitions() == 0 || topic.partitions() < -1 || topic.partitions() > MAX_PARTITIONS) {
            return ApiError.of(Errors.INVALID_PARTITIONS, "Number of partitions was set to an invalid non-positive value.");
        }
        int rf = topic.replicationFactor() < 0 ? config.get().defaultReplicationFactor() : topic.replicationFactor();
        if (topic.replicationFactor() == 0 || topic.replicationFactor() < -1) {
            return ApiError.of(Errors.INVALID_REPLICATION_FACTOR, "Replication factor must be larger than 0, or -1 to use the default value.");
        }
        List<Integer> live = liveBrokers(image);
        if (topic.assignments() != null) {
            ApiError badAssignment = checkAssignments(topic.assignments(), image);
            if (badAssignment != null) {
                return badAssignment;
            }
            rf = topic.assignments().get(0).size();
        }
        if (rf > live.size()) {
            return ApiError.of(Errors.INVALID_REPLICATION_FACTOR, "Unable to replicate the partition " + rf
                    + " time(s): The target replication factor of " + rf + " cannot be reached because only "
                    + live.size() + " broker(s) are registered.");
        }

        try {
            TopicConfigs.validate(topic.configs());
        } catch (ConfigException e) {
            return ApiError.of(Errors.INVALID_CONFIG, e.getMessage());
        }
        return ApiError.NONE;
    }

    /** The broker.rack of every registered broker that has one. */
    static Map<Integer, String> racks(MetadataImage image) {
        Map<Integer, String> racks = new java.util.HashMap<>();
        image.brokers().values().forEach(b -> {
            if (b.rack() != null) {
                racks.put(b.id(), b.rack());
            }
        });
        return racks;
    }

    /** The unfenced registered brokers, by id. */
    static List<Integer> liveBrokers(MetadataImage image) {
        return image.brokers().values().stream().filter(b -> !b.fenced()).map(b -> b.id()).sorted().toList();
    }

    /** Replica assignments must name registered brokers, each once per partition, the same count for every partition. */
    private static ApiError checkAssignments(List<List<Integer>> assignments, MetadataImage image) {
        for (int p = 0; p < assignments.size(); p++) {
            List<Integer> replicas = assignments.get(p);
            if (replicas.isEmpty() || replicas.size() != assignments.get(0).size()) {
                return ApiError.of(Errors.INVALID_REPLICA_ASSIGNMENT, "All partitions should have the same number of "
                        + "replicas, and at least one.");
            }
            if (new HashSet<>(replicas).size() != replicas.size()) {
                return ApiError.of(Errors.INVALID_REPLICA_ASSIGNMENT, "Duplicate brokers not allowed in replica "
                        + "assignment: " + replicas + " for partition id " + p + ".");
            }
            for (int broker : replicas) {
                if (image.broker(broker) == null) {
                    return ApiError.of(Errors.INVALID_REPLICA_ASSIGNMENT, "Replica assignment for partition " + p
                            + " names broker " + broker + ", which is not registered.");
                }
            }
        }
        return null;
    }

    /** Kafka refuses names that differ only by '.' versus '_' (they collide in metric names). */
    private static String collision(MetadataImage image, String name) {
        if (!name.contains(".") && !name.contains("_")) {
            return null;
        }
        String normal = name.replace('.', '_');
        for (TopicImage t : image.topics()) {
            if (!t.name().equals(name) && t.name().replace('.', '_').equals(normal)) {
                return t.name();
            }
        }
        return null;
    }

    /** Deletes topics given by name or id (one of the two per entry). */
    public record DeleteTarget(String name, Uuid id) {
    }

    public record DeleteResult(String name, Uuid id, ApiError error) {
    }

    public CompletableFuture<List<DeleteResult>> delete(List<DeleteTarget> targets) {
        boolean enabled = config.get().deleteTopicEnable();
        return metadata.write(image -> {
            List<MetadataRecord> records = new ArrayList<>();
            List<DeleteResult> results = new ArrayList<>();
            Set<Uuid> seen = new HashSet<>();
            for (DeleteTarget target : targets) {
                TopicImage topic = target.id() != null && !Uuid.ZERO_UUID.equals(target.id())
                        ? image.topic(target.id()) : image.topic(target.name());
                if (topic == null) {
                    boolean byId = target.id() != null && !Uuid.ZERO_UUID.equals(target.id());
                    results.add(new DeleteResult(target.name(), target.id(), byId
                            ? ApiError.of(Errors.UNKNOWN_TOPIC_ID, null)
                            : ApiError.of(Errors.UNKNOWN_TOPIC_OR_PARTITION, "This server does not host this topic-partition.")));
                } else if (!enabled) {
                    results.add(new DeleteResult(topic.name(), topic.id(), ApiError.of(Errors.TOPIC_DELETION_DISABLED,
                            "Topic deletion is disabled.")));
                } else {
                    if (seen.add(topic.id())) {
                        records.add(new TopicDeleted(topic.id()));
                    }
                    results.add(new DeleteResult(topic.name(), topic.id(), ApiError.NONE));
                }
            }
            return ControllerResult.of(records, results);
        });
    }

    /** A topic's new partition count, with the replicas of each new partition when the client gave them. */
    public record PartitionsChange(String name, int count, List<List<Integer>> assignments) {
        public PartitionsChange(String name, int count) {
            this(name, count, null);
        }
    }

    public CompletableFuture<List<ApiError>> createPartitions(List<PartitionsChange> changes, boolean validateOnly) {
        return metadata.write(image -> {
            List<MetadataRecord> records = new ArrayList<>();
            List<ApiError> results = new ArrayList<>();
            for (PartitionsChange change : changes) {
                TopicImage topic = image.topic(change.name());
                if (topic == null) {
                    results.add(ApiError.of(Errors.UNKNOWN_TOPIC_OR_PARTITION, "The topic '" + change.name() + "' does not exist."));
                } else if (change.count() < topic.partitions()) {
                    results.add(ApiError.of(Errors.INVALID_PARTITIONS, "The topic " + change.name() + " currently has "
                            + topic.partitions() + " partition(s); " + change.count() + " would not be an increase."));
                } else if (change.count() == topic.partitions()) {
                    results.add(ApiError.of(Errors.INVALID_PARTITIONS, "Topic already has " + topic.partitions() + " partition(s)."));
                } else if (change.count() > MAX_PARTITIONS) {
                    results.add(ApiError.of(Errors.INVALID_PARTITIONS, "At most " + MAX_PARTITIONS + " partitions per topic."));
                } else {
                    List<Integer> live = liveBrokers(image);
                    int rf = topic.registration(0) != null ? topic.registration(0).replicas().size() : 1;
                    List<List<Integer>> placement = change.assignments() != null ? change.assignments()
                            : ReplicaPlacement.place(live, racks(image), topic.partitions(),
                                    change.count() - topic.partitions(), rf, random.nextInt(1 << 16));
                    ApiError invalid = change.assignments() == null ? null : checkAssignments(change.assignments(), image);
                    if (invalid == null && change.assignments() != null
                            && change.assignments().size() != change.count() - topic.partitions()) {
                        invalid = ApiError.of(Errors.INVALID_REPLICA_ASSIGNMENT, "Increasing the number of partitions by "
                                + (change.count() - topic.partitions()) + " but " + change.assignments().size()
                                + " assignments provided.");
                    }
                    if (invalid == null && rf > live.size()) {
                        invalid = ApiError.of(Errors.INVALID_REPLICATION_FACTOR, "Only " + live.size()
                                + " broker(s) are registered, fewer than the replication factor " + rf + ".");
                    }
                    if (invalid != null) {
                        results.add(invalid);
                        continue;
                    }
                    if (!validateOnly) {
                        records.add(new PartitionsAdded(topic.id(), change.count()));
                        for (int i = 0; i < placement.size(); i++) {
                            records.add(new MetadataRecord.PartitionState(topic.id(), topic.partitions() + i,
                                    PartitionRegistration.of(placement.get(i))));
                        }
                    }
                    results.add(ApiError.NONE);
                }
            }
            return ControllerResult.of(records, results);
        });
    }

    /** Replaces (incremental=false) or edits the overrides of topics; null values delete a key. */
    public record ConfigChange(String topic, Map<String, String> changes, boolean replaceAll) {
    }

    public CompletableFuture<List<ApiError>> alterConfigs(List<ConfigChange> changes, boolean validateOnly) {
        return metadata.write(image -> {
            List<MetadataRecord> records = new ArrayList<>();
            List<ApiError> results = new ArrayList<>();
            for (ConfigChange change : changes) {
                TopicImage topic = image.topic(change.topic());
                if (topic == null) {
                    results.add(unknownTopic(change.topic()));
                    continue;
                }
                Map<String, String> next = change.replaceAll() ? new LinkedHashMap<>() : new LinkedHashMap<>(topic.configs());
                change.changes().forEach((k, v) -> {
                    if (v == null) {
                        next.remove(k);
                    } else {
                        next.put(k, v);
                    }
                });
                results.add(replaceConfigs(topic, next, validateOnly, records));
            }
            return ControllerResult.of(records, results);
        });
    }

    /** IncrementalAlterConfigs on one topic: operations applied in order to its current overrides. */
    public record IncrementalConfigChange(String topic, List<ConfigOp> ops) {
    }

    /**
     * Applies SET/DELETE/APPEND/SUBTRACT operations to topic overrides, reading the current overrides inside the
     * metadata write so that concurrent APPENDs do not lose each other.
     */
    public CompletableFuture<List<ApiError>> incrementalAlterConfigs(List<IncrementalConfigChange> changes, boolean validateOnly) {
        BrokerConfig broker = config.get();
        return metadata.write(image -> {
            List<MetadataRecord> records = new ArrayList<>();
            List<ApiError> results = new ArrayList<>();
            for (IncrementalConfigChange change : changes) {
                TopicImage topic = image.topic(change.topic());
                if (topic == null) {
                    results.add(unknownTopic(change.topic()));
                    continue;
                }
                Map<String, String> next;
                try {
                    next = ConfigOp.applyAll("topic", topic.configs(), change.ops(), TopicOperations::topicKey,
                            name -> TopicConfigs.effective(name, topic.configs(), broker));
                } catch (ConfigException e) {
                    results.add(ApiError.of(Errors.INVALID_CONFIG, e.getMessage()));
                    continue;
                } catch (IllegalArgumentException e) {
                    results.add(ApiError.of(Errors.INVALID_REQUEST, e.getMessage()));
                    continue;
                }
                results.add(replaceConfigs(topic, next, validateOnly, records));
            }
            return ControllerResult.of(records, results);
        });
    }

    private static ConfigKey topicKey(String name) {
        TopicConfigs.TopicKey key = TopicConfigs.keys().get(name);
        return key == null ? null : key.key();
    }

    private static ApiError unknownTopic(String name) {
        return ApiError.of(Errors.UNKNOWN_TOPIC_OR_PARTITION, "The topic '" + name + "' does not exist.");
    }

    private static ApiError replaceConfigs(TopicImage topic, Map<String, String> next, boolean validateOnly,
                                           List<MetadataRecord> records) {
        try {
            TopicConfigs.validate(next);
        } catch (ConfigException e) {
            return ApiError.of(Errors.INVALID_CONFIG, e.getMessage());
        }
        if (!validateOnly) {
            records.add(new TopicConfigsSet(topic.id(), next));
        }
        return ApiError.NONE;
    }
}
