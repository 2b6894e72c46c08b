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
    private final io.gregor.broker.txn.TransactionVerifier transactions;
    private final java.util.function.IntSupplier transactionVersion;

    /**
     * @param transactions       reaches the transaction coordinators; at transaction.version 2 a v5 request adds the
     *                           group's partition of __consumer_offsets to the transaction first (the producer sent no
     *                           AddOffsetsToTxn, KIP-890 part 2)
     * @param transactionVersion the finalized transaction.version
     */
    public TxnOffsetCommitHandler(MetadataCache metadata, GroupCoordinatorService groups,
                                  io.gregor.broker.txn.TransactionVerifier transactions,
                                  java.util.function.IntSupplier transactionVersion) {
        super(ApiKeys.TXN_OFFSET_COMMIT, 0, 5);
        this.metadata = metadata;
        this.groups = groups;
        this.transactions = transactions;
        this.transactionVersion = transactionVersion;
    }

    /** The error of a v5 request whose partition of __consumer_offsets could not join the transaction. */
    private static Errors forClient(Errors added) {
        return switch (added) {
            case NONE -> Errors.NONE;
            case PRODUCER_FENCED, INVALID_PRODUCER_EPOCH -> Errors.INVALID_PRODUCER_EPOCH;
            case CONCURRENT_TRANSACTIONS -> Errors.CONCURRENT_TRANSACTIONS;
            case INVALID_PRODUCER_ID_MAPPING, INVALID_TXN_STATE -> Errors.TRANSACTION_ABORTABLE;
            // The transaction coordinator is moving or unreachable: retriable, with this group coordinator.
            default -> Errors.NOT_ENOUGH_REPLICAS;
        };
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
        CompletableFuture<Errors> added = CompletableFuture.completedFuture(Errors.NONE);
        if (version >= 5 && transactionVersion.getAsInt() >= 2 && !offsets.isEmpty()) {
            TopicPartition offsetsPartition = new TopicPartition(io.gregor.coordinator.group.GroupCoordinatorService.TOPIC,
                    groups.partitionFor(request.groupId()));
            added = transactions.verify(request.transactionalId(), request.producerId(), request.producerEpoch(),
                    offsetsPartition, true).thenApply(TxnOffsetCommitHandler::forClient);
        }
        CompletableFuture<Map<TopicPartition, Errors>> committed = added.thenCompose(error -> {
            if (error != Errors.NONE) {
                Map<TopicPartition, Errors> failed = new LinkedHashMap<>();
                offsets.keySet().forEach(tp -> failed.put(tp, error));
                return CompletableFuture.completedFuture(failed);
            }
            return offsets.isEmpty() ? CompletableFuture.completedFuture(Map.of())
                    : groups.commitTransactionalOffsets(request.groupId(), request.producerId(), request.producerEpoch(),
                            generation, memberId, instanceId, offsets);
        });
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
