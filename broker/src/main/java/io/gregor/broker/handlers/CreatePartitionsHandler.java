package io.gregor.broker.handlers;

import io.gregor.metadata.MetadataCache;
import io.gregor.broker.controller.TopicOperations;
import io.gregor.metadata.ApiError;
import io.gregor.metadata.TopicImage;
import io.gregor.broker.controller.TopicOperations.PartitionsChange;
import io.gregor.broker.network.RequestContext;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.CreatePartitionsRequestData;
import org.apache.kafka.common.message.CreatePartitionsRequestData.CreatePartitionsAssignment;
import org.apache.kafka.common.message.CreatePartitionsRequestData.CreatePartitionsTopic;
import org.apache.kafka.common.message.CreatePartitionsResponseData;
import org.apache.kafka.common.message.CreatePartitionsResponseData.CreatePartitionsTopicResult;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * CreatePartitions v0-3, validate-only included: raises a topic's partition count. Explicit assignments may only
 * name this node, one assignment per new partition.
 *
 * <p>Errors per topic: UNKNOWN_TOPIC_OR_PARTITION, INVALID_PARTITIONS (not an increase, too many),
 * INVALID_REPLICA_ASSIGNMENT, INVALID_REQUEST (a topic named twice).
 */
public final class CreatePartitionsHandler extends BrokerHandler<CreatePartitionsRequestData> {

    private final LocalNode node;
    private final MetadataCache metadata;
    private final TopicOperations topics;

    public CreatePartitionsHandler(LocalNode node, MetadataCache metadata, TopicOperations topics) {
        super(ApiKeys.CREATE_PARTITIONS, 0, 3);
        this.node = node;
        this.metadata = metadata;
        this.topics = topics;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, CreatePartitionsRequestData request) {
        CreatePartitionsResponseData response = new CreatePartitionsResponseData();
        Map<String, Integer> occurrences = new HashMap<>();
        request.topics().forEach(t -> occurrences.merge(t.name(), 1, Integer::sum));
        List<PartitionsChange> changes = new ArrayList<>();
        for (CreatePartitionsTopic topic : request.topics()) {
            ApiError invalid = occurrences.get(topic.name()) > 1
                    ? ApiError.of(Errors.INVALID_REQUEST, "Duplicate topic in request: " + topic.name())
                    : checkAssignments(topic);
            if (invalid.isSuccess()) {
                changes.add(new PartitionsChange(topic.name(), topic.count()));
            } else {
                response.results().add(result(topic.name(), invalid));
            }
        }
        return topics.createPartitions(changes, request.validateOnly()).thenApply(errors -> {
            for (int i = 0; i < changes.size(); i++) {
                response.results().add(result(changes.get(i).name(), errors.get(i)));
            }
            return response;
        });
    }

    private ApiError checkAssignments(CreatePartitionsTopic topic) {
        if (topic.assignments() == null) {
            return ApiError.NONE;
        }
        int self = node.nodeId();
        for (CreatePartitionsAssignment assignment : topic.assignments()) {
            if (assignment.brokerIds().isEmpty() || assignment.brokerIds().stream().anyMatch(id -> id != self)) {
                return ApiError.of(Errors.INVALID_REPLICA_ASSIGNMENT, "Replica assignment " + assignment.brokerIds()
                        + " names brokers other than the only registered broker " + self + ".");
            }
        }
        TopicImage current = metadata.image().topic(topic.name());
        if (current != null && topic.count() > current.partitions()
                && topic.assignments().size() != topic.count() - current.partitions()) {
            return ApiError.of(Errors.INVALID_REPLICA_ASSIGNMENT, "Increasing the number of partitions by "
                    + (topic.count() - current.partitions()) + " but " + topic.assignments().size()
                    + " assignments provided.");
        }
        return ApiError.NONE;
    }

    private static CreatePartitionsTopicResult result(String name, ApiError error) {
        return new CreatePartitionsTopicResult().setName(name).setErrorCode(error.code()).setErrorMessage(error.message());
    }
}
