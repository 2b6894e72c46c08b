package io.gregor.broker.handlers;

import io.gregor.broker.network.RequestContext;
import io.gregor.coordinator.group.GroupCoordinatorService;
import io.gregor.coordinator.group.OffsetAndMetadata;
import io.gregor.metadata.MetadataCache;
import io.gregor.metadata.TopicImage;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.message.TxnOffsetCommitRequestData;
import org.apache.kafka.common.message.TxnOffsetCommitResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * TxnOffsetCommit v0-5 (sendOffsetsToTransaction), to the group's coordinator: the offsets are written in the
 * producer's transaction and become the group's committed offsets when its commit marker reaches the group's
 * partition of {@code __consumer_offsets} (dropped on abort). From v3 the consumer's generation and member are checked
 * as for OffsetCommit (KIP-447); without them (generation -1) the group is not checked. Per partition:
 * UNKNOWN_TOPIC_OR_PARTITION, OFFSET_METADATA_TOO_LARGE, the member errors and the coordinator errors.
 */
public final class TxnOffsetCommitHandler extends BrokerHandler<TxnOffsetCommitRequestData> {
    private final MetadataCache metadata;
    private final GroupCoordinatorService groups;

    public TxnOffsetCommitHandler(MetadataCache metadata, GroupCoordinatorService groups) {
        super(ApiKeys.TXN_OFFSET_COMMIT, 0, 5);
        this.metadata = metadata;
        this.groups = groups;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, TxnOffsetCommitRequestData request) {
        short version = context.apiVersion();
        Map<TopicPartition, OffsetAndMetadata> offsets = new LinkedHashMap<>();
        Map<TopicPartition, Errors> results = new LinkedHashMap<>();
        for (TxnOffsetCommitRequestData.TxnOffsetCommitRequestTopic topic : request.topics()) {
            TopicImage image = metadata.image().topic(topic.name());
            for (TxnOffsetCommitRequestData.TxnOffsetCommitRequestPartition p : topic.partitions()) {
                TopicPartition tp = new TopicPartition(topic.name(), p.partitionIndex());
                if (image == null || p.partitionIndex() < 0 || p.partitionIndex() >= image.partitions()) {
                    results.put(tp, Errors.UNKNOWN_TOPIC_OR_PARTITION);
                } else {
                    results.put(tp, Errors.NONE);
                    offsets.put(tp, new OffsetAndMetadata(p.committedOffset(), version >= 2 ? p.committedLeaderEpoch() : -1,
                            p.committedMetadata(), -1));
                }
            }
        }
        int generation = version >= 3 ? request.generationId() : -1;
        String memberId = version >= 3 ? request.memberId() : "";
        String instanceId = version >= 3 ? request.groupInstanceId() : null;
        CompletableFuture<Map<TopicPartition, Errors>> committed = offsets.isEmpty()
                ? CompletableFuture.completedFuture(Map.of())
                : groups.commitTransactionalOffsets(request.groupId(), request.producerId(), request.producerEpoch(),
                        generation, memberId, instanceId, offsets);
        return committed.thenApply(errors -> {
            errors.forEach(results::put);
            TxnOffsetCommitResponseData response = new TxnOffsetCommitResponseData();
            Map<String, TxnOffsetCommitResponseData.TxnOffsetCommitResponseTopic> byTopic = new LinkedHashMap<>();
            results.forEach((tp, error) -> byTopic.computeIfAbsent(tp.topic(), t -> {
                TxnOffsetCommitResponseData.TxnOffsetCommitResponseTopic created =
                        new TxnOffsetCommitResponseData.TxnOffsetCommitResponseTopic().setName(t);
                response.topics().add(created);
                return created;
            }).partitions().add(new TxnOffsetCommitResponseData.TxnOffsetCommitResponsePartition()
                    .setPartitionIndex(tp.partition()).setErrorCode(TransactionHandlers.forVersion(error, version).code())));
            return response;
        });
    }
}
