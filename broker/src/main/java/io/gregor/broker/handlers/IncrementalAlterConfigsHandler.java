package io.gregor.broker.handlers;

import io.gregor.broker.controller.TopicOperations;
import io.gregor.metadata.ApiError;
import io.gregor.broker.controller.BrokerConfigOperations;
import io.gregor.broker.controller.ConfigOp;
import io.gregor.broker.controller.TopicOperations.IncrementalConfigChange;
import io.gregor.broker.network.RequestContext;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.IncrementalAlterConfigsRequestData;
import org.apache.kafka.common.message.IncrementalAlterConfigsRequestData.AlterConfigsResource;
import org.apache.kafka.common.message.IncrementalAlterConfigsRequestData.AlterableConfig;
import org.apache.kafka.common.message.IncrementalAlterConfigsResponseData;
import org.apache.kafka.common.message.IncrementalAlterConfigsResponseData.AlterConfigsResourceResponse;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * IncrementalAlterConfigs v0-1, validate-only included: SET, DELETE, APPEND and SUBTRACT (list-typed keys only) on
 * topic overrides (TOPIC) and on the cluster-wide dynamic broker defaults (BROKER "" or this node's id; only the
 * broker defaults of topic configs, such as {@code log.retention.ms}, may change). All topic resources of a request
 * go in one metadata write.
 *
 * <p>Errors per resource: UNKNOWN_TOPIC_OR_PARTITION, INVALID_CONFIG (unknown or static key, bad value, APPEND or
 * SUBTRACT on a non-list key), INVALID_REQUEST (unknown operation, duplicate key, missing value, another broker's
 * id, BROKER_LOGGER or another unsupported resource type).
 */
public final class IncrementalAlterConfigsHandler extends BrokerHandler<IncrementalAlterConfigsRequestData> {
    private final LocalNode node;
    private final TopicOperations topics;
    private final BrokerConfigOperations brokerConfigs;

    public IncrementalAlterConfigsHandler(LocalNode node, TopicOperations topics, BrokerConfigOperations brokerConfigs) {
        super(ApiKeys.INCREMENTAL_ALTER_CONFIGS, 0, 1);
        this.node = node;
        this.topics = topics;
        this.brokerConfigs = brokerConfigs;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, IncrementalAlterConfigsRequestData request) {
        List<CompletableFuture<ApiError>> results = new ArrayList<>();
        List<IncrementalConfigChange> topicChanges = new ArrayList<>();
        List<CompletableFuture<ApiError>> topicResults = new ArrayList<>();
        for (AlterConfigsResource resource : request.resources()) {
            List<ConfigOp> ops = new ArrayList<>();
            ApiError error = toOps(resource, ops);
            if (!error.isSuccess()) {
                results.add(CompletableFuture.completedFuture(error));
            } else if (resource.resourceType() == ConfigResources.TOPIC) {
                CompletableFuture<ApiError> pending = new CompletableFuture<>();
                topicChanges.add(new IncrementalConfigChange(resource.resourceName(), ops));
                topicResults.add(pending);
                results.add(pending);
            } else {
                results.add(ConfigResources.alterNonTopic(resource.resourceType(), resource.resourceName(),
                        nodeId -> brokerConfigs.alter(nodeId, ops, false, request.validateOnly())));
            }
        }
        if (!topicChanges.isEmpty()) {
            ConfigResources.completeEach(topics.incrementalAlterConfigs(topicChanges, request.validateOnly()), topicResults);
        }
        return CompletableFuture.allOf(results.toArray(CompletableFuture[]::new)).thenApply(v -> {
            IncrementalAlterConfigsResponseData response = new IncrementalAlterConfigsResponseData();
            int i = 0;
            for (AlterConfigsResource resource : request.resources()) {
                ApiError error = results.get(i++).join();
                response.responses().add(new AlterConfigsResourceResponse().setResourceType(resource.resourceType())
                        .setResourceName(resource.resourceName()).setErrorCode(error.code()).setErrorMessage(error.message()));
            }
            return response;
        });
    }

    private static ApiError toOps(AlterConfigsResource resource, List<ConfigOp> ops) {
        for (AlterableConfig config : resource.configs()) {
            ConfigOp.Type type = ConfigOp.Type.of(config.configOperation());
            if (type == null) {
                return ApiError.of(Errors.INVALID_REQUEST, "Unknown config operation " + config.configOperation()
                        + " for " + config.name());
            }
            ops.add(new ConfigOp(config.name(), type, config.value()));
        }
        return ApiError.NONE;
    }
}
