package io.gregor.broker.handlers;

import io.gregor.metadata.MetadataCache;
import io.gregor.metadata.TopicImage;
import io.gregor.broker.network.RequestContext;
import io.gregor.replication.Partition;
import io.gregor.replication.ReplicaManager;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.ListOffsetsRequestData;
import org.apache.kafka.common.message.ListOffsetsResponseData;
import org.apache.kafka.common.message.ListOffsetsResponseData.ListOffsetsPartitionResponse;
import org.apache.kafka.common.message.ListOffsetsResponseData.ListOffsetsTopicResponse;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * ListOffsets v1-11: latest (-1), earliest (-2), max timestamp (-3), earliest local (-4), latest tiered (-5, same as
 * latest: no tiered storage), earliest pending upload (-6, none) and the first offset at or after a timestamp.
 *
 * <p>Errors per partition: UNKNOWN_TOPIC_OR_PARTITION, FENCED_LEADER_EPOCH, UNKNOWN_LEADER_EPOCH, INVALID_REQUEST
 * (a negative timestamp Kafka does not define).
 */
public final class ListOffsetsHandler extends BrokerHandler<ListOffsetsRequestData> {
    private final MetadataCache metadata;
    private final ReplicaManager replicas;

    public ListOffsetsHandler(MetadataCache metadata, ReplicaManager replicas) {
        super(ApiKeys.LIST_OFFSETS, 1, 11);
        this.metadata = metadata;
        this.replicas = replicas;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, ListOffsetsRequestData request) {
        ListOffsetsResponseData response = new ListOffsetsResponseData();
        for (ListOffsetsRequestData.ListOffsetsTopic wanted : request.topics()) {
            TopicImage topic = metadata.image().topic(wanted.name());
            ListOffsetsTopicResponse topicResponse = new ListOffsetsTopicResponse().setName(wanted.name());
            response.topics().add(topicResponse);
            for (ListOffsetsRequestData.ListOffsetsPartition p : wanted.partitions()) {
                ListOffsetsPartitionResponse result = new ListOffsetsPartitionResponse()
                        .setPartitionIndex(p.partitionIndex()).setTimestamp(-1).setOffset(-1);
                topicResponse.partitions().add(result);
                Partition partition = topic == null ? null : replicas.partition(topic.name(), p.partitionIndex());
                if (partition == null) {
                    result.setErrorCode(NotHere.error(topic, p.partitionIndex()).code());
                    continue;
                }
                Errors epochError = partition.checkLeaderEpoch(p.currentLeaderEpoch());
                if (epochError != Errors.NONE) {
                    result.setErrorCode(epochError.code());
                    continue;
                }
                lookup(partition, p.timestamp(), request.isolationLevel() == 1, result, context.apiVersion());
            }
        }
        return CompletableFuture.completedFuture(response);
    }

    private void lookup(Partition partition, long timestamp, boolean readCommitted, ListOffsetsPartitionResponse result,
                        short version) {
        ReplicaManager.OffsetResult found = replicas.fetchOffsetForTimestamp(partition, timestamp, readCommitted);
        result.setErrorCode(found.error().code()).setTimestamp(found.timestamp()).setOffset(found.offset())
                .setLeaderEpoch(version >= 4 ? partition.leaderEpoch() : -1);
    }
}
