package io.gregor.broker.handlers;

import io.gregor.broker.metadata.TopicImage;
import io.gregor.broker.network.RequestContext;
import io.gregor.broker.replica.Partition;
import io.gregor.storage.Log;
import io.gregor.storage.TimestampOffset;
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
    static final long LATEST = -1;
    static final long EARLIEST = -2;
    static final long MAX_TIMESTAMP = -3;
    static final long EARLIEST_LOCAL = -4;
    static final long LATEST_TIERED = -5;
    static final long EARLIEST_PENDING_UPLOAD = -6;

    public ListOffsetsHandler(BrokerServices services) {
        super(services, ApiKeys.LIST_OFFSETS, 1, 11);
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, ListOffsetsRequestData request) {
        ListOffsetsResponseData response = new ListOffsetsResponseData();
        boolean readCommitted = request.isolationLevel() == 1;
        for (ListOffsetsRequestData.ListOffsetsTopic wanted : request.topics()) {
            TopicImage topic = services.metadata().image().topic(wanted.name());
            ListOffsetsTopicResponse topicResponse = new ListOffsetsTopicResponse().setName(wanted.name());
            response.topics().add(topicResponse);
            for (ListOffsetsRequestData.ListOffsetsPartition p : wanted.partitions()) {
                ListOffsetsPartitionResponse result = new ListOffsetsPartitionResponse()
                        .setPartitionIndex(p.partitionIndex()).setTimestamp(-1).setOffset(-1);
                topicResponse.partitions().add(result);
                Partition partition = topic == null ? null : services.partitions().partition(topic.name(), p.partitionIndex());
                if (partition == null) {
                    result.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
                    continue;
                }
                int epoch = p.currentLeaderEpoch();
                if (epoch >= 0 && epoch != partition.leaderEpoch()) {
                    result.setErrorCode((epoch < partition.leaderEpoch() ? Errors.FENCED_LEADER_EPOCH : Errors.UNKNOWN_LEADER_EPOCH).code());
                    continue;
                }
                lookup(partition, p.timestamp(), readCommitted, result, context.apiVersion());
            }
        }
        return CompletableFuture.completedFuture(response);
    }

    private static void lookup(Partition partition, long timestamp, boolean readCommitted,
                               ListOffsetsPartitionResponse result, short version) {
        Log log = partition.log();
        long hw = log.highWatermark();
        result.setLeaderEpoch(version >= 4 ? partition.leaderEpoch() : -1);
        if (timestamp == LATEST || timestamp == LATEST_TIERED) {
            result.setOffset(hw);
        } else if (timestamp == EARLIEST || timestamp == EARLIEST_LOCAL) {
            result.setOffset(log.logStartOffset());
        } else if (timestamp == EARLIEST_PENDING_UPLOAD) {
            result.setOffset(-1);
        } else if (timestamp == MAX_TIMESTAMP) {
            TimestampOffset max = TimestampLookup.maxTimestamp(log, hw);
            if (max != null) {
                result.setTimestamp(max.timestamp()).setOffset(max.offset());
            }
        } else if (timestamp >= 0) {
            TimestampOffset found = TimestampLookup.firstAtOrAfter(log, timestamp, hw);
            if (found != null) {
                result.setTimestamp(found.timestamp()).setOffset(found.offset());
            }
        } else {
            result.setErrorCode(Errors.INVALID_REQUEST.code());
        }
        if (version < 4) {
            result.setLeaderEpoch(-1);
        }
    }
}
