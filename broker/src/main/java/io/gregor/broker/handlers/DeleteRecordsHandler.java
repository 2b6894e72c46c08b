package io.gregor.broker.handlers;

import io.gregor.broker.network.RequestContext;
import io.gregor.replication.Partition;
import io.gregor.replication.ReplicaManager;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.DeleteRecordsRequestData;
import org.apache.kafka.common.message.DeleteRecordsRequestData.DeleteRecordsPartition;
import org.apache.kafka.common.message.DeleteRecordsRequestData.DeleteRecordsTopic;
import org.apache.kafka.common.message.DeleteRecordsResponseData;
import org.apache.kafka.common.message.DeleteRecordsResponseData.DeleteRecordsPartitionResult;
import org.apache.kafka.common.message.DeleteRecordsResponseData.DeleteRecordsTopicResult;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * DeleteRecords v0-2: advances each partition's log start offset (the low watermark) to the given offset, -1
 * meaning the high watermark, and drops the segments wholly below it. The new low watermark is returned.
 *
 * <p>Errors per partition: UNKNOWN_TOPIC_OR_PARTITION, OFFSET_OUT_OF_RANGE (beyond the high watermark, or
 * negative other than -1), KAFKA_STORAGE_ERROR.
 */
public final class DeleteRecordsHandler extends BrokerHandler<DeleteRecordsRequestData> {
    private final ReplicaManager replicas;

    public DeleteRecordsHandler(ReplicaManager replicas) {
        super(ApiKeys.DELETE_RECORDS, 0, 2);
        this.replicas = replicas;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, DeleteRecordsRequestData request) {
        DeleteRecordsResponseData response = new DeleteRecordsResponseData();
        for (DeleteRecordsTopic topic : request.topics()) {
            DeleteRecordsTopicResult topicResult = new DeleteRecordsTopicResult().setName(topic.name());
            response.topics().add(topicResult);
            for (DeleteRecordsPartition p : topic.partitions()) {
                DeleteRecordsPartitionResult result = new DeleteRecordsPartitionResult()
                        .setPartitionIndex(p.partitionIndex()).setLowWatermark(-1);
                topicResult.partitions().add(result);
                Partition partition = replicas.partition(topic.name(), p.partitionIndex());
                if (partition == null) {
                    result.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
                } else {
                    ReplicaManager.DeleteRecordsResult deleted = replicas.deleteRecords(partition, p.offset());
                    result.setErrorCode(deleted.error().code()).setLowWatermark(deleted.lowWatermark());
                }
            }
        }
        return CompletableFuture.completedFuture(response);
    }
}
