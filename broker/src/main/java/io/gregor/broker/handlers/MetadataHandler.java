package io.gregor.broker.handlers;

import java.util.function.Supplier;
import io.gregor.replication.ReplicaManager;
import io.gregor.metadata.MetadataCache;
import io.gregor.broker.config.BrokerConfig;
import io.gregor.broker.controller.ControllerChannel;
import io.gregor.metadata.MetadataImage;
import io.gregor.metadata.PartitionRegistration;
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
    private final ControllerChannel controller;

    public MetadataHandler(Supplier<BrokerConfig> config, LocalNode node, MetadataCache metadata, TopicOperations topics,
                           ReplicaManager replicas, ControllerChannel controller) {
        super(ApiKeys.METADATA, 0, 13);
        this.controller = controller;
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
        java.util.Set<Integer> live = new java.util.HashSet<>();
        node.liveBrokers(context.listenerName()).forEach(b -> live.add(b.id()));
        boolean allTopics = request.topics() == null || version == 0 && request.topics().isEmpty();
        if (allTopics) {
            List<MetadataResponseTopic> topics = new ArrayList<>();
            for (TopicImage topic : image.topics()) {
                topics.add(describe(topic, version, live));
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
                byId.add(topic != null ? describe(topic, version, live) : new MetadataResponseTopic()
                        .setTopicId(wanted.topicId()).setErrorCode(Errors.UNKNOWN_TOPIC_ID.code()));
                continue;
            }
            TopicImage topic = image.topic(wanted.name());
            if (topic != null) {
                byName.put(wanted.name(), describe(topic, version, live));
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
        if (!controller.isActive()) {
            return forwardCreate(toCreate).handle((ignored, failure) -> {
                MetadataImage now = metadata.image();
                for (NewTopic created : toCreate) {
                    TopicImage topic = now.topic(created.name());
                    // Not applied here yet: the client asks again (LEADER_NOT_AVAILABLE is retriable for every client).
                    byName.put(created.name(), topic != null ? describe(topic, version, live)
                            : error(created.name(), Errors.LEADER_NOT_AVAILABLE));
                }
                return response(context, concat(byName, byId));
            });
        }
        return topics.create(toCreate, false).handle((results, failure) -> {
            MetadataImage now = metadata.image();
            for (NewTopic created : toCreate) {
                TopicImage topic = now.topic(created.name());
                byName.put(created.name(), topic != null ? describe(topic, version, live)
                        : error(created.name(), failure == null ? errorOf(results, created.name()) : Errors.LEADER_NOT_AVAILABLE));
            }
            return response(context, concat(byName, byId));
        });
    }

    /** Auto-creation on a node that is not the active controller: a CreateTopics request to the controller. */
    private CompletableFuture<?> forwardCreate(List<NewTopic> toCreate) {
        return controller.createTopics(toCreate, java.time.Duration.ofSeconds(10));
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

    private MetadataResponseTopic describe(TopicImage topic, short version, java.util.Set<Integer> live) {
        int self = node.nodeId();
        MetadataResponseTopic result = new MetadataResponseTopic()
                .setName(topic.name())
                .setTopicId(version >= 10 ? topic.id() : Uuid.ZERO_UUID)
                .setIsInternal(topic.isInternal())
                .setErrorCode(Errors.NONE.code());
        for (int p = 0; p < topic.partitions(); p++) {
            var partition = replicas.partition(topic.name(), p);
            var state = partition == null ? null : partition.state();
            PartitionRegistration registration = topic.registration(p);
            MetadataResponsePartition out = new MetadataResponsePartition().setPartitionIndex(p).setOfflineReplicas(List.of());
            if (registration != null && registration.leader() >= 0
                    && (registration.leader() == self || live.contains(registration.leader()))) {
                // The registration is the newest word on the partition, as in Kafka: this node may still be creating
                // its log (a produce meanwhile waits for it; other requests get NOT_LEADER_OR_FOLLOWER and retry).
                out.setErrorCode(Errors.NONE.code()).setLeaderId(registration.leader())
                        .setLeaderEpoch(registration.leaderEpoch()).setReplicaNodes(new ArrayList<>(registration.replicas()))
                        .setIsrNodes(new ArrayList<>(registration.isr()))
                        .setOfflineReplicas(registration.replicas().stream().filter(r -> r != self && !live.contains(r))
                                .toList());
            } else if (state != null && registration == null) {
                boolean led = state.leaderId() >= 0 && (state.leaderId() == self || live.contains(state.leaderId()));
                out.setErrorCode(led ? Errors.NONE.code() : Errors.LEADER_NOT_AVAILABLE.code())
                        .setLeaderId(led ? state.leaderId() : -1).setLeaderEpoch(state.leaderEpoch())
                        .setReplicaNodes(new ArrayList<>(state.replicas())).setIsrNodes(new ArrayList<>(state.isr()))
                        .setOfflineReplicas(state.replicas().stream().filter(r -> r != self && !live.contains(r)).toList());
            } else {
                List<Integer> replicasOf = registration == null ? List.of(self) : registration.replicas();
                out.setErrorCode(Errors.LEADER_NOT_AVAILABLE.code()).setLeaderId(-1)
                        .setLeaderEpoch(registration == null ? 0 : registration.leaderEpoch())
                        .setReplicaNodes(new ArrayList<>(replicasOf))
                        .setIsrNodes(new ArrayList<>(registration == null ? replicasOf : registration.isr()))
                        .setOfflineReplicas(replicasOf.stream().filter(r -> !live.contains(r)).toList());
            }
            result.partitions().add(out);
        }
        return result;
    }

    private MetadataResponseData response(RequestContext context, List<MetadataResponseTopic> topics) {
        MetadataResponseData response = new MetadataResponseData()
                .setControllerId(node.controllerId())
                .setClusterId(node.clusterId());
        for (LocalNode.BrokerAddress b : node.liveBrokers(context.listenerName())) {
            response.brokers().add(new MetadataResponseData.MetadataResponseBroker()
                    .setNodeId(b.id()).setHost(b.host()).setPort(b.port()).setRack(b.rack()));
        }
        response.topics().addAll(topics);
        return response;
    }
}
