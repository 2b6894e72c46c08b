package io.gregor.broker.handlers;

import io.gregor.broker.controller.TopicOperations;
import io.gregor.metadata.ApiError;
import io.gregor.broker.controller.TopicOperations.PartitionsChange;
import io.gregor.broker.network.RequestContext;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.CreatePartitionsRequestData;
import org.apache.kafka.common.message.CreatePartitionsRequestData.CreatePartitionsTopic;
import org.apache.kafka.common.message.CreatePartitionsResponseData;
import org.apache.kafka.common.message.CreatePartitionsResponseData.CreatePartitionsTopicResult;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * CreatePartitions v0-3, validate-only included: raises a topic's partition count. Explicit assignments must
 * name registered brokers, one assignment per new partition; otherwise the controller places the new partitions.
 *
 * <p>Errors per topic: UNKNOWN_TOPIC_OR_PARTITION, INVALID_PARTITIONS (not an increase, too many),
 * INVALID_REPLICA_ASSIGNMENT, INVALID_REQUEST (a topic named twice).
 */
public final class CreatePartitionsHandler extends BrokerHandler<CreatePartitionsRequestData> {

    private final TopicOperations topics;

    public CreatePartitionsHandler(TopicOperations topics) {
        super(ApiKeys.CREATE_PARTITIONS, 0, 3);
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
                    : ApiError.NONE;
            if (invalid.isSuccess()) {
                changes.add(new PartitionsChange(topic.name(), topic.count(), topic.assignments() == null ? null
                        : topic.assignments().stream().map(a -> List.copyOf(a.brokerIds())).toList()));
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

    private static CreatePartitionsTopicResult result(String name, ApiError error) {
        return new CreatePartitionsTopicResult().setName(name).setErrorCode(error.code()).setErrorMessage(error.message());
    }
}
