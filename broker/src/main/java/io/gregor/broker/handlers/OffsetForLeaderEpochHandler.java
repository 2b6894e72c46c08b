package io.gregor.broker.handlers;

import io.gregor.broker.network.RequestContext;
import io.gregor.replication.Partition;
import io.gregor.replication.ReplicaManager;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.OffsetForLeaderEpochRequestData;
import org.apache.kafka.common.message.OffsetForLeaderEpochRequestData.OffsetForLeaderPartition;
import org.apache.kafka.common.message.OffsetForLeaderEpochRequestData.OffsetForLeaderTopic;
import org.apache.kafka.common.message.OffsetForLeaderEpochResponseData;
import org.apache.kafka.common.message.OffsetForLeaderEpochResponseData.OffsetForLeaderTopicResult;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * OffsetForLeaderEpoch v2-4, as consumers use it (replica id -1, or -2 for debugging tools) to detect log
 * truncation: for each partition, the largest epoch at or below the requested one and the offset where it ends (the
 * log end offset for the current epoch); -1/-1 for an epoch older than the log. Replicas of other nodes will ask
 * the same question once replication exists.
 *
 * <p>Errors per partition: UNKNOWN_TOPIC_OR_PARTITION, FENCED_LEADER_EPOCH and UNKNOWN_LEADER_EPOCH (the request's
 * current leader epoch is older or newer than ours).
 */
public final class OffsetForLeaderEpochHandler extends BrokerHandler<OffsetForLeaderEpochRequestData> {

    private final ReplicaManager replicas;

    public OffsetForLeaderEpochHandler(ReplicaManager replicas) {
        super(ApiKeys.OFFSET_FOR_LEADER_EPOCH, 2, 4);
        this.replicas = replicas;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, OffsetForLeaderEpochRequestData request) {
        OffsetForLeaderEpochResponseData response = new OffsetForLeaderEpochResponseData();
        for (OffsetForLeaderTopic topic : request.topics()) {
            OffsetForLeaderTopicResult topicResult = new OffsetForLeaderTopicResult().setTopic(topic.topic());
            response.topics().add(topicResult);
            for (OffsetForLeaderPartition p : topic.partitions()) {
                var result = new OffsetForLeaderEpochResponseData.EpochEndOffset().setPartition(p.partition())
                        .setLeaderEpoch(-1).setEndOffset(-1);
                topicResult.partitions().add(result);
                Partition partition = replicas.partition(topic.topic(), p.partition());
                Errors error = partition == null ? Errors.UNKNOWN_TOPIC_OR_PARTITION
                        : partition.checkLeaderEpoch(p.currentLeaderEpoch());
                if (error != Errors.NONE) {
                    result.setErrorCode(error.code());
                    continue;
                }
                ReplicaManager.EpochEnd found = replicas.endOffsetForEpoch(partition, p.leaderEpoch());
                result.setLeaderEpoch(found.epoch()).setEndOffset(found.endOffset());
            }
        }
        return CompletableFuture.completedFuture(response);
    }
}
