package io.gregor.broker.handlers;

import io.gregor.broker.network.RequestContext;
import io.gregor.broker.replica.Partition;
import io.gregor.storage.KafkaStorageException;
import io.gregor.storage.Log;
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
    static final long HIGH_WATERMARK = -1;

    public DeleteRecordsHandler(BrokerServices services) {
        super(services, ApiKeys.DELETE_RECORDS, 0, 2);
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
                Partition partition = services.partitions().partition(topic.name(), p.partitionIndex());
                if (partition == null) {
                    result.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
                } else {
                    result.setErrorCode(delete(partition.log(), p.offset()).code()).setLowWatermark(partition.log().logStartOffset());
                }
            }
        }
        return CompletableFuture.completedFuture(response);
    }

    private static Errors delete(Log log, long offset) {
        long target = offset == HIGH_WATERMARK ? log.highWatermark() : offset;
        if (target < 0 || target > log.highWatermark()) {
            return Errors.OFFSET_OUT_OF_RANGE;
        }
        try {
            log.deleteRecordsBefore(target);
            return Errors.NONE;
        } catch (IllegalArgumentException e) {
            // The high watermark only grows, but a concurrent truncation may have lowered it since the check.
            return Errors.OFFSET_OUT_OF_RANGE;
        } catch (KafkaStorageException e) {
            return Errors.KAFKA_STORAGE_ERROR;
        }
    }
}
