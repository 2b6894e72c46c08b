package io.gregor.broker.handlers;

import io.gregor.coordinator.group.GroupCoordinatorService;
import io.gregor.broker.network.RequestContext;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.message.OffsetDeleteRequestData;
import org.apache.kafka.common.message.OffsetDeleteResponseData;
import org.apache.kafka.common.message.OffsetDeleteResponseData.OffsetDeleteResponsePartition;
import org.apache.kafka.common.message.OffsetDeleteResponseData.OffsetDeleteResponseTopic;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;

/**
 * OffsetDelete v0: removes committed offsets of partitions the group no longer subscribes to, answered once the
 * tombstones are durable. Group errors: COORDINATOR_LOAD_IN_PROGRESS, GROUP_ID_NOT_FOUND, NON_EMPTY_GROUP,
 * COORDINATOR_NOT_AVAILABLE; per partition: GROUP_SUBSCRIBED_TO_TOPIC.
 */
public final class OffsetDeleteHandler extends BrokerHandler<OffsetDeleteRequestData> {

    private final GroupCoordinatorService groups;

    public OffsetDeleteHandler(GroupCoordinatorService groups) {
        super(ApiKeys.OFFSET_DELETE, 0, 0);
        this.groups = groups;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, OffsetDeleteRequestData request) {
        List<TopicPartition> partitions = new ArrayList<>();
        request.topics().forEach(t -> t.partitions().forEach(p -> partitions.add(new TopicPartition(t.name(), p.partitionIndex()))));
        return groups.deleteOffsets(request.groupId(), partitions).thenApply(result -> {
            OffsetDeleteResponseData response = new OffsetDeleteResponseData().setErrorCode(result.error().code());
            result.partitions().forEach((tp, error) -> {
                OffsetDeleteResponseTopic topic = response.topics().find(tp.topic());
                if (topic == null) {
                    topic = new OffsetDeleteResponseTopic().setName(tp.topic());
                    response.topics().add(topic);
                }
                topic.partitions().add(new OffsetDeleteResponsePartition().setPartitionIndex(tp.partition())
                        .setErrorCode(error.code()));
            });
            return response;
        });
    }
}
