package io.gregor.broker.handlers;

import io.gregor.broker.controller.TopicOperations;
import io.gregor.metadata.ApiError;
import io.gregor.broker.controller.BrokerConfigOperations;
import io.gregor.broker.controller.ConfigOp;
import io.gregor.broker.controller.TopicOperations.ConfigChange;
import io.gregor.broker.network.RequestContext;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.AlterConfigsRequestData;
import org.apache.kafka.common.message.AlterConfigsRequestData.AlterConfigsResource;
import org.apache.kafka.common.message.AlterConfigsResponseData;
import org.apache.kafka.common.message.AlterConfigsResponseData.AlterConfigsResourceResponse;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;

/**
 * AlterConfigs v0-2 (the legacy form), validate-only included: the configs given replace every override of the
 * resource; keys not listed go back to their defaults. TOPIC changes topic overrides (all topics of a request in one
 * metadata write); BROKER ("" or this node's id) replaces the cluster-wide dynamic broker defaults, which may only
 * hold the broker defaults of topic configs.
 *
 * <p>Errors per resource: UNKNOWN_TOPIC_OR_PARTITION, INVALID_CONFIG (unknown or static key, bad value),
 * INVALID_REQUEST (duplicate key, another broker's id, an unsupported resource type).
 */
public final class AlterConfigsHandler extends BrokerHandler<AlterConfigsRequestData> {
    private final LocalNode node;
    private final TopicOperations topics;
    private final BrokerConfigOperations brokerConfigs;

    public AlterConfigsHandler(LocalNode node, TopicOperations topics, BrokerConfigOperations brokerConfigs) {
        super(ApiKeys.ALTER_CONFIGS, 0, 2);
        this.node = node;
        this.topics = topics;
        this.brokerConfigs = brokerConfigs;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, AlterConfigsRequestData request) {
        List<CompletableFuture<ApiError>> results = new ArrayList<>();
        List<ConfigChange> topicChanges = new ArrayList<>();
        List<CompletableFuture<ApiError>> topicResults = new ArrayList<>();
        for (AlterConfigsResource resource : request.resources()) {
            if (resource.resourceType() == ConfigResources.TOPIC) {
                Map<String, String> configs = new LinkedHashMap<>();
                resource.configs().forEach(c -> configs.put(c.name(), c.value()));
                CompletableFuture<ApiError> pending = new CompletableFuture<>();
                topicChanges.add(new ConfigChange(resource.resourceName(), configs, true));
                topicResults.add(pending);
                results.add(pending);
            } else {
                results.add(ConfigResources.alterNonTopic(resource.resourceType(), resource.resourceName(),
                        nodeId -> brokerConfigs.alter(nodeId, setOps(resource), true, request.validateOnly())));
            }
        }
        if (!topicChanges.isEmpty()) {
            ConfigResources.completeEach(topics.alterConfigs(topicChanges, request.validateOnly()), topicResults);
        }
        return CompletableFuture.allOf(results.toArray(CompletableFuture[]::new)).thenApply(v -> {
            AlterConfigsResponseData response = new AlterConfigsResponseData();
            int i = 0;
            for (AlterConfigsResource resource : request.resources()) {
                ApiError error = results.get(i++).join();
                response.responses().add(new AlterConfigsResourceResponse().setResourceType(resource.resourceType())
                        .setResourceName(resource.resourceName()).setErrorCode(error.code()).setErrorMessage(error.message()));
            }
            return response;
        });
    }

    /** Legacy AlterConfigs lists the complete new set: every named key with a value is set. */
    private static List<ConfigOp> setOps(AlterConfigsResource resource) {
        List<ConfigOp> ops = new ArrayList<>();
        resource.configs().forEach(c -> {
            if (c.value() != null) {
                ops.add(ConfigOp.set(c.name(), c.value()));
            }
        });
        return ops;
    }
}
