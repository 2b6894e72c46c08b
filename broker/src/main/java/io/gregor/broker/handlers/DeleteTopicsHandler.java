package io.gregor.broker.handlers;

import io.gregor.broker.controller.TopicOperations;
import io.gregor.broker.controller.TopicOperations.DeleteResult;
import io.gregor.broker.controller.TopicOperations.DeleteTarget;
import io.gregor.broker.network.RequestContext;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.DeleteTopicsRequestData;
import org.apache.kafka.common.message.DeleteTopicsRequestData.DeleteTopicState;
import org.apache.kafka.common.message.DeleteTopicsResponseData;
import org.apache.kafka.common.message.DeleteTopicsResponseData.DeletableTopicResult;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * DeleteTopics v1-6: by name (v1-5 {@code TopicNames}; v6 {@code Topics}) or, from v6, by topic id. The response
 * is sent once the deletion is committed to the metadata log; the partitions' files go as the image is applied.
 *
 * <p>Errors per topic: UNKNOWN_TOPIC_OR_PARTITION, UNKNOWN_TOPIC_ID (v6), TOPIC_DELETION_DISABLED
 * ({@code delete.topic.enable=false}), INVALID_REQUEST (v6 entry with neither name nor id).
 */
public final class DeleteTopicsHandler extends BrokerHandler<DeleteTopicsRequestData> {

    private final TopicOperations topics;

    public DeleteTopicsHandler(TopicOperations topics) {
        super(ApiKeys.DELETE_TOPICS, 1, 6);
        this.topics = topics;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, DeleteTopicsRequestData request) {
        short version = context.apiVersion();
        DeleteTopicsResponseData response = new DeleteTopicsResponseData();
        List<DeleteTarget> targets = new ArrayList<>();
        if (version >= 6) {
            for (DeleteTopicState topic : request.topics()) {
                boolean hasId = topic.topicId() != null && !Uuid.ZERO_UUID.equals(topic.topicId());
                if (topic.name() == null && !hasId) {
                    response.responses().add(new DeletableTopicResult().setName(null).setTopicId(Uuid.ZERO_UUID)
                            .setErrorCode(Errors.INVALID_REQUEST.code())
                            .setErrorMessage("Neither topic name nor topic id was given."));
                    continue;
                }
                targets.add(new DeleteTarget(topic.name(), hasId ? topic.topicId() : null));
            }
        } else {
            request.topicNames().forEach(name -> targets.add(new DeleteTarget(name, null)));
        }
        return topics.delete(targets).thenApply(results -> {
            for (DeleteResult deleted : results) {
                DeletableTopicResult r = new DeletableTopicResult().setName(deleted.name())
                        .setErrorCode(deleted.error().code());
                if (version >= 5) {
                    r.setErrorMessage(deleted.error().message());
                }
                if (version >= 6) {
                    r.setTopicId(deleted.id() == null ? Uuid.ZERO_UUID : deleted.id());
                }
                response.responses().add(r);
            }
            return response;
        });
    }
}
