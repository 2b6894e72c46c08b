package io.gregor.broker.handlers;

import io.gregor.broker.network.RequestContext;
import io.gregor.metadata.MetadataCache;
import io.gregor.metadata.TopicImage;
import io.gregor.replication.Partition;
import io.gregor.replication.ReplicaManager;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.errors.NotLeaderOrFollowerException;
import org.apache.kafka.common.message.DescribeProducersRequestData;
import org.apache.kafka.common.message.DescribeProducersResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * DescribeProducers v0 ({@code kafka-transactions.sh describe-producers}): the producers a partition's leader keeps
 * state for, with their epoch, last sequence and timestamp and the start of their open transaction. Errors per
 * partition: UNKNOWN_TOPIC_OR_PARTITION, NOT_LEADER_OR_FOLLOWER. The coordinator epoch is not kept (-1).
 */
public final class DescribeProducersHandler extends BrokerHandler<DescribeProducersRequestData> {
    private final MetadataCache metadata;
    private final ReplicaManager replicas;

    public DescribeProducersHandler(MetadataCache metadata, ReplicaManager replicas) {
        super(ApiKeys.DESCRIBE_PRODUCERS, 0, 0);
        this.metadata = metadata;
        this.replicas = replicas;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, DescribeProducersRequestData request) {
        DescribeProducersResponseData response = new DescribeProducersResponseData();
        for (DescribeProducersRequestData.TopicRequest topic : request.topics()) {
            TopicImage image = metadata.image().topic(topic.name());
            List<DescribeProducersResponseData.PartitionResponse> partitions = new ArrayList<>();
            for (int index : topic.partitionIndexes()) {
                DescribeProducersResponseData.PartitionResponse out =
                        new DescribeProducersResponseData.PartitionResponse().setPartitionIndex(index);
                partitions.add(out);
                Partition partition = image == null ? null : replicas.partition(topic.name(), index);
                if (partition == null) {
                    out.setErrorCode(NotHere.error(image, index).code());
                    continue;
                }
                try {
                    for (ReplicaManager.ProducerView p : replicas.activeProducers(partition)) {
                        out.activeProducers().add(new DescribeProducersResponseData.ProducerState()
                                .setProducerId(p.producerId()).setProducerEpoch(p.producerEpoch())
                                .setLastSequence(p.lastSequence()).setLastTimestamp(p.lastTimestamp())
                                .setCoordinatorEpoch(p.coordinatorEpoch()).setCurrentTxnStartOffset(p.currentTxnStartOffset()));
                    }
                } catch (NotLeaderOrFollowerException e) {
                    out.setErrorCode(Errors.NOT_LEADER_OR_FOLLOWER.code());
                }
            }
            response.topics().add(new DescribeProducersResponseData.TopicResponse().setName(topic.name())
                    .setPartitions(partitions));
        }
        return done(response);
    }
}
