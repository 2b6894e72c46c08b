package io.gregor.broker.handlers;

import java.util.function.Supplier;
import io.gregor.metadata.MetadataCache;
import io.gregor.broker.controller.TopicOperations;
import io.gregor.broker.config.BrokerConfig;
import io.gregor.metadata.ApiError;
import io.gregor.broker.controller.TopicOperations.CreateResult;
import io.gregor.broker.controller.TopicOperations.NewTopic;
import io.gregor.broker.network.RequestContext;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.CreateTopicsRequestData;
import org.apache.kafka.common.message.CreateTopicsRequestData.CreatableTopic;
import org.apache.kafka.common.message.CreateTopicsResponseData;
import org.apache.kafka.common.message.CreateTopicsResponseData.CreatableTopicConfigs;
import org.apache.kafka.common.message.CreateTopicsResponseData.CreatableTopicResult;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * CreateTopics v2-7, validate-only included; per-topic configs are validated against Kafka's topic config names.
 * A replication factor above the number of live brokers is refused.
 *
 * <p>Errors per topic: TOPIC_ALREADY_EXISTS, INVALID_TOPIC_EXCEPTION, INVALID_PARTITIONS,
 * INVALID_REPLICATION_FACTOR, INVALID_REPLICA_ASSIGNMENT, INVALID_CONFIG, INVALID_REQUEST.
 */
public final class CreateTopicsHandler extends BrokerHandler<CreateTopicsRequestData> {

    private final Supplier<BrokerConfig> config;
    private final MetadataCache metadata;
    private final TopicOperations topics;

    public CreateTopicsHandler(Supplier<BrokerConfig> config, MetadataCache metadata, TopicOperations topics) {
        super(ApiKeys.CREATE_TOPICS, 2, 7);
        this.config = config;
        this.metadata = metadata;
        this.topics = topics;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, CreateTopicsRequestData request) {
        short version = context.apiVersion();
        CreateTopicsResponseData response = new CreateTopicsResponseData();
        List<NewTopic> toCreate = new ArrayList<>();
        for (CreatableTopic topic : request.topics()) {
            ApiError invalid = checkAssignments(topic);
            if (invalid != null) {
                response.topics().add(result(topic.name(), invalid, version));
                continue;
            }
            Map<String, String> configs = new LinkedHashMap<>();
            topic.configs().forEach(c -> configs.put(c.name(), c.value()));
            int partitions = topic.assignments().isEmpty() ? topic.numPartitions() : topic.assignments().size();
            short rf = topic.assignments().isEmpty() ? topic.replicationFactor()
                    : (short) topic.assignments().iterator().next().brokerIds().size();
            List<List<Integer>> assignments = topic.assignments().isEmpty() ? null : topic.assignments().stream()
                    .sorted(java.util.Comparator.comparingInt(a -> a.partitionIndex()))
                    .map(a -> List.copyOf(a.brokerIds())).toList();
            toCreate.add(new NewTopic(topic.name(), partitions, rf, configs, assignments));
        }
        // Answered once committed, as Kafka: this node may still be creating the new logs (a produce meanwhile waits
        // for them; other requests get NOT_LEADER_OR_FOLLOWER and retry).
        return topics.create(toCreate, request.validateOnly()).thenApply(results -> {
            for (CreateResult created : results) {
                CreatableTopicResult r = result(created.name(), created.error(), version);
                if (created.error().isSuccess()) {
                    fill(r, created, version);
                }
                response.topics().add(r);
            }
            return response;
        });
    }

    private ApiError checkAssignments(CreatableTopic topic) {
        if (topic.assignments().isEmpty()) {
            return null;
        }
        if (topic.numPartitions() != -1 || topic.replicationFactor() != -1) {
            return ApiError.of(Errors.INVALID_REQUEST,
                    "Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time.");
        }
        for (int p = 0; p < topic.assignments().size(); p++) {
            int index = p;
            if (topic.assignments().stream().noneMatch(a -> a.partitionIndex() == index)) {
                return ApiError.of(Errors.INVALID_REPLICA_ASSIGNMENT, "Partitions should be numbered 0 to "
                        + (topic.assignments().size() - 1) + "; partition " + p + " has no assignment.");
            }
        }
        return null;
    }

    private static CreatableTopicResult result(String name, ApiError error, short version) {
        CreatableTopicResult r = new CreatableTopicResult().setName(name).setErrorCode(error.code());
        if (version >= 1) {
            r.setErrorMessage(error.message());
        }
        if (version >= 5) {
            r.setNumPartitions(-1).setReplicationFactor((short) -1);
        }
        return r;
    }

    private void fill(CreatableTopicResult r, CreateResult created, short version) {
        if (version >= 7) {
            r.setTopicId(created.topic().id());
        }
        if (version >= 5) {
            var first = created.topic().registration(0);
            r.setNumPartitions(created.topic().partitions())
                    .setReplicationFactor((short) (first == null ? 1 : first.replicas().size()));
            List<CreatableTopicConfigs> configs = new ArrayList<>();
            for (ConfigDescriber.Entry e : ConfigDescriber.topic(created.topic().configs(), config.get(),
                    metadata.image().brokerConfigs())) {
                configs.add(new CreatableTopicConfigs().setName(e.name()).setValue(e.value()).setReadOnly(e.readOnly())
                        .setConfigSource(e.source()).setIsSensitive(e.sensitive()));
            }
            r.setConfigs(configs);
        }
    }
}
