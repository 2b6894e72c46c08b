package io.gregor.broker.handlers;

import java.util.function.Supplier;
import io.gregor.replication.ReplicaManager;
import io.gregor.metadata.MetadataCache;
import io.gregor.broker.config.BrokerConfig;
import io.gregor.broker.config.Endpoint;
import io.gregor.metadata.MetadataImage;
import io.gregor.metadata.TopicImage;
import io.gregor.broker.controller.TopicOperations;
import io.gregor.broker.controller.TopicOperations.NewTopic;
import io.gregor.broker.network.RequestContext;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.message.MetadataResponseData.MetadataResponsePartition;
import org.apache.kafka.common.message.MetadataResponseData.MetadataResponseTopic;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * Metadata v0-13: brokers, controller, cluster id and topics. Unknown topics are created when auto-creation is on
 * and the client allows it, and appear with their leader in this same response (pykafka and kafka-python give up
 * otherwise).
 *
 * <p>Errors per topic: UNKNOWN_TOPIC_OR_PARTITION, UNKNOWN_TOPIC_ID, INVALID_TOPIC_EXCEPTION,
 * LEADER_NOT_AVAILABLE (auto-creation failed), INVALID_REPLICATION_FACTOR.
 */
public final class MetadataHandler extends BrokerHandler<MetadataRequestData> {

    private final Supplier<BrokerConfig> config;
    private final LocalNode node;
    private final MetadataCache metadata;
    private final TopicOperations topics;
    private final ReplicaManager replicas;

    public MetadataHandler(Supplier<BrokerConfig> config, LocalNode node, MetadataCache metadata, TopicOperations topics, ReplicaManager replicas) {
        super(ApiKeys.METADATA, 0, 13);
        this.config = config;
        this.node = node;
        this.metadata = metadata;
        this.topics = topics;
        this.replicas = replicas;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, MetadataRequestData request) {
        short version = context.apiVersion();
        MetadataImage image = metadata.image();
        boolean allTopics = request.topics() == null || version == 0 && request.topics().isEmpty();
        if (allTopics) {
            List<MetadataResponseTopic> topics = new ArrayList<>();
            for (TopicImage topic : image.topics()) {
                topics.add(describe(topic, version));
            }
            return CompletableFuture.completedFuture(response(context, topics));
        }
        boolean allowAutoCreate = version < 4 || request.allowAutoTopicCreation();
        Map<String, MetadataResponseTopic> byName = new LinkedHashMap<>();
        List<MetadataResponseTopic> byId = new ArrayList<>();
        List<NewTopic> toCreate = new ArrayList<>();
        for (MetadataRequestData.MetadataRequestTopic wanted : request.topics()) {
            boolean byTopicId = wanted.name() == null
                    || wanted.name().isEmpty() && wanted.topicId() != null && !Uuid.ZERO_UUID.equals(wanted.topicId());
            if (byTopicId) {
                TopicImage topic = image.topic(wanted.topicId());
                byId.add(topic != null ? describe(topic, version) : new MetadataResponseTopic()
                        .setTopicId(wanted.topicId()).setErrorCode(Errors.UNKNOWN_TOPIC_ID.code()));
                continue;
            }
            TopicImage topic = image.topic(wanted.name());
            if (topic != null) {
                byName.put(wanted.name(), describe(topic, version));
            } else if (TopicOperations.invalidNameReason(wanted.name()) != null) {
                byName.put(wanted.name(), error(wanted.name(), Errors.INVALID_TOPIC_EXCEPTION));
            } else if (allowAutoCreate && config.get().autoCreateTopicsEnable()) {
                byName.put(wanted.name(), null);
                toCreate.add(new NewTopic(wanted.name(), -1, (short) -1, Map.of()));
            } else {
                byName.put(wanted.name(), error(wanted.name(), Errors.UNKNOWN_TOPIC_OR_PARTITION));
            }
        }
        if (toCreate.isEmpty()) {
            return CompletableFuture.completedFuture(response(context, concat(byName, byId)));
        }
        return topics.create(toCreate, false).handle((results, failure) -> {
            MetadataImage now = metadata.image();
            for (NewTopic created : toCreate) {
                TopicImage topic = now.topic(created.name());
                byName.put(created.name(), topic != null ? describe(topic, version)
                        : error(created.name(), failure == null ? errorOf(results, created.name()) : Errors.LEADER_NOT_AVAILABLE));
            }
            return response(context, concat(byName, byId));
        });
    }

    private static Errors errorOf(List<TopicOperations.CreateResult> results, String name) {
        return results.stream().filter(r -> r.name().equals(name)).map(r -> r.error().error())
                .filter(e -> e != Errors.NONE && e != Errors.TOPIC_ALREADY_EXISTS).findFirst().orElse(Errors.LEADER_NOT_AVAILABLE);
    }

    private static List<MetadataResponseTopic> concat(Map<String, MetadataResponseTopic> byName, List<MetadataResponseTopic> byId) {
        List<MetadataResponseTopic> all = new ArrayList<>(byName.values());
        all.addAll(byId);
        return all;
    }

    private static MetadataResponseTopic error(String name, Errors error) {
        return new MetadataResponseTopic().setName(name).setErrorCode(error.code()).setIsInternal(false);
    }

    private MetadataResponseTopic describe(TopicImage topic, short version) {
        int self = node.nodeId();
        MetadataResponseTopic result = new MetadataResponseTopic()
                .setName(topic.name())
                .setTopicId(version >= 10 ? topic.id() : Uuid.ZERO_UUID)
                .setIsInternal(topic.isInternal())
                .setErrorCode(Errors.NONE.code());
        for (int p = 0; p < topic.partitions(); p++) {
            var partition = replicas.partition(topic.name(), p);
            var state = partition == null ? null : partition.state();
            result.partitions().add(new MetadataResponsePartition()
                    .setPartitionIndex(p)
                    .setErrorCode(partition == null ? Errors.LEADER_NOT_AVAILABLE.code() : Errors.NONE.code())
                    .setLeaderId(state == null ? -1 : state.leaderId())
                    .setLeaderEpoch(state == null ? 0 : state.leaderEpoch())
                    .setReplicaNodes(state == null ? List.of(self) : new java.util.ArrayList<>(state.replicas()))
                    .setIsrNodes(state == null ? List.of(self) : new java.util.ArrayList<>(state.isr()))
                    .setOfflineReplicas(List.of()));
        }
        return result;
    }

    private MetadataResponseData response(RequestContext context, List<MetadataResponseTopic> topics) {
        Endpoint endpoint = node.advertisedFor(context.listenerName());
        MetadataResponseData response = new MetadataResponseData()
                .setControllerId(node.nodeId())
                .setClusterId(node.clusterId());
        response.brokers().add(new MetadataResponseData.MetadataResponseBroker()
                .setNodeId(node.nodeId()).setHost(endpoint.host()).setPort(endpoint.port()).setRack(null));
        response.topics().addAll(topics);
        return response;
    }
}
