package io.gregor.broker.handlers;

import io.gregor.metadata.MetadataCache;
import io.gregor.coordinator.group.GroupCoordinatorService;
import io.gregor.coordinator.group.OffsetAndMetadata;
import io.gregor.metadata.MetadataImage;
import io.gregor.metadata.TopicImage;
import io.gregor.broker.network.RequestContext;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.message.OffsetCommitRequestData;
import org.apache.kafka.common.message.OffsetCommitResponseData;
import org.apache.kafka.common.message.OffsetCommitResponseData.OffsetCommitResponsePartition;
import org.apache.kafka.common.message.OffsetCommitResponseData.OffsetCommitResponseTopic;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * OffsetCommit v2-10 (topic ids from v10): answered once the offsets are durable in {@code __consumer_offsets}.
 *
 * <p>Errors per partition: COORDINATOR_LOAD_IN_PROGRESS, INVALID_GROUP_ID, UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION,
 * REBALANCE_IN_PROGRESS, FENCED_INSTANCE_ID, OFFSET_METADATA_TOO_LARGE, UNKNOWN_TOPIC_OR_PARTITION (a topic or
 * partition that does not exist), UNKNOWN_TOPIC_ID (v10), COORDINATOR_NOT_AVAILABLE.
 */
public final class OffsetCommitHandler extends BrokerHandler<OffsetCommitRequestData> {

    private final MetadataCache metadata;
    private final GroupCoordinatorService groups;

    public OffsetCommitHandler(MetadataCache metadata, GroupCoordinatorService groups) {
        super(ApiKeys.OFFSET_COMMIT, 2, 10);
        this.metadata = metadata;
        this.groups = groups;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, OffsetCommitRequestData request) {
        short version = context.apiVersion();
        MetadataImage image = metadata.image();
        Map<TopicPartition, OffsetAndMetadata> offsets = new LinkedHashMap<>();
        OffsetCommitResponseData response = new OffsetCommitResponseData();
        Map<TopicPartition, OffsetCommitResponseTopic> topicOf = new LinkedHashMap<>();
        for (var topic : request.topics()) {
            OffsetCommitResponseTopic out = new OffsetCommitResponseTopic();
            String name = topic.name();
            if (version >= 10) {
                out.setTopicId(topic.topicId());
                TopicImage image0 = image.topic(topic.topicId());
                name = image0 == null ? null : image0.name();
            } else {
                out.setName(name);
            }
            response.topics().add(out);
            TopicImage known = name == null ? null : image.topic(name);
            for (var p : topic.partitions()) {
                if (name == null) {
                    out.partitions().add(new OffsetCommitResponsePartition().setPartitionIndex(p.partitionIndex())
                            .setErrorCode(Errors.UNKNOWN_TOPIC_ID.code()));
                    continue;
                }
                if (known == null || p.partitionIndex() < 0 || p.partitionIndex() >= known.partitions()) {
                    // As Kafka: offsets are kept only for partitions that exist.
                    out.partitions().add(new OffsetCommitResponsePartition().setPartitionIndex(p.partitionIndex())
                            .setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code()));
                    continue;
                }
                TopicPartition tp = new TopicPartition(name, p.partitionIndex());
                offsets.put(tp, new OffsetAndMetadata(p.committedOffset(), version >= 6 ? p.committedLeaderEpoch() : -1,
                        p.committedMetadata(), -1));
                topicOf.put(tp, out);
            }
        }
        return groups.commitOffsets(request.groupId(), request.generationIdOrMemberEpoch(), request.memberId(),
                version >= 7 ? request.groupInstanceId() : null, offsets).thenApply(results -> {
                    results.forEach((tp, error) -> topicOf.get(tp).partitions().add(new OffsetCommitResponsePartition()
                            .setPartitionIndex(tp.partition()).setErrorCode(error.code())));
                    return response;
                });
    }
}
