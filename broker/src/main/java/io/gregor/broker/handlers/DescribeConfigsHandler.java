package io.gregor.broker.handlers;

import java.util.function.Supplier;
import io.gregor.metadata.MetadataCache;
import io.gregor.broker.config.BrokerConfig;
import io.gregor.metadata.ApiError;
import io.gregor.metadata.MetadataImage;
import io.gregor.metadata.TopicImage;
import io.gregor.broker.network.RequestContext;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.DescribeConfigsRequestData;
import org.apache.kafka.common.message.DescribeConfigsRequestData.DescribeConfigsResource;
import org.apache.kafka.common.message.DescribeConfigsResponseData;
import org.apache.kafka.common.message.DescribeConfigsResponseData.DescribeConfigsResourceResult;
import org.apache.kafka.common.message.DescribeConfigsResponseData.DescribeConfigsResult;
import org.apache.kafka.common.message.DescribeConfigsResponseData.DescribeConfigsSynonym;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * DescribeConfigs v1-4 for TOPIC (effective values with their sources), BROKER ("" or this node's id: static and
 * dynamic broker properties) and BROKER_LOGGER (always an empty list). {@code ConfigurationKeys} filters by name;
 * synonyms (v1+), documentation and config types (v3+) are included on request.
 *
 * <p>Errors per resource: UNKNOWN_TOPIC_OR_PARTITION, INVALID_REQUEST (another broker's id, an unsupported
 * resource type).
 */
public final class DescribeConfigsHandler extends BrokerHandler<DescribeConfigsRequestData> {

    private final Supplier<BrokerConfig> config;
    private final LocalNode node;
    private final MetadataCache metadata;

    public DescribeConfigsHandler(Supplier<BrokerConfig> config, LocalNode node, MetadataCache metadata) {
        super(ApiKeys.DESCRIBE_CONFIGS, 1, 4);
        this.config = config;
        this.node = node;
        this.metadata = metadata;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, DescribeConfigsRequestData request) {
        short version = context.apiVersion();
        boolean documentation = version >= 3 && request.includeDocumentation();
        MetadataImage image = metadata.image();
        BrokerConfig broker = config.get();
        DescribeConfigsResponseData response = new DescribeConfigsResponseData();
        for (DescribeConfigsResource resource : request.resources()) {
            DescribeConfigsResult result = new DescribeConfigsResult().setResourceType(resource.resourceType())
                    .setResourceName(resource.resourceName());
            response.results().add(result);
            List<ConfigDescriber.Entry> entries;
            ApiError error = ApiError.NONE;
            switch (resource.resourceType()) {
                case ConfigResources.TOPIC -> {
                    TopicImage topic = image.topic(resource.resourceName());
                    entries = topic == null ? List.of() : ConfigDescriber.topic(topic.configs(), broker, image.brokerConfigs());
                    if (topic == null) {
                        error = ApiError.of(Errors.UNKNOWN_TOPIC_OR_PARTITION,
                                "The topic '" + resource.resourceName() + "' does not exist.");
                    }
                }
                case ConfigResources.BROKER -> {
                    error = ConfigResources.checkBrokerName(resource.resourceName(), node.nodeId());
                    entries = !error.isSuccess() ? List.of() : ConfigDescriber.broker(broker, image.brokerConfigs(),
                            resource.resourceName().isEmpty() ? Map.of() : image.nodeConfigs(node.nodeId()));
                }
                case ConfigResources.BROKER_LOGGER -> {
                    error = ConfigResources.checkBrokerName(resource.resourceName(), node.nodeId());
                    entries = List.of();
                }
                default -> {
                    error = ConfigResources.unsupportedType(resource.resourceType());
                    entries = List.of();
                }
            }
            result.setErrorCode(error.code()).setErrorMessage(error.message());
            for (ConfigDescriber.Entry entry : entries) {
                if (resource.configurationKeys() == null || resource.configurationKeys().contains(entry.name())) {
                    result.configs().add(describe(entry, request.includeSynonyms(), documentation, version));
                }
            }
        }
        return CompletableFuture.completedFuture(response);
    }

    private static DescribeConfigsResourceResult describe(ConfigDescriber.Entry entry, boolean synonyms,
                                                          boolean documentation, short version) {
        DescribeConfigsResourceResult config = new DescribeConfigsResourceResult().setName(entry.name())
                .setValue(entry.sensitive() ? null : entry.value()).setReadOnly(entry.readOnly())
                .setConfigSource(entry.source()).setIsSensitive(entry.sensitive());
        if (synonyms) {
            for (ConfigDescriber.Entry synonym : entry.synonyms()) {
                config.synonyms().add(new DescribeConfigsSynonym().setName(synonym.name())
                        .setValue(synonym.sensitive() ? null : synonym.value()).setSource(synonym.source()));
            }
        }
        if (version >= 3) {
            config.setConfigType(entry.key().type().kafkaTypeCode())
                    .setDocumentation(documentation ? entry.key().doc() : null);
        }
        return config;
    }
}
