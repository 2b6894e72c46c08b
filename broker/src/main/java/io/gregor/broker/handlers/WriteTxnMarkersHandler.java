package io.gregor.broker.handlers;

import io.gregor.broker.network.RequestContext;
import io.gregor.broker.txn.TransactionMarkers;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.message.WriteTxnMarkersRequestData;
import org.apache.kafka.common.message.WriteTxnMarkersResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;

/**
 * WriteTxnMarkers v1-2, sent by a transaction coordinator to the leaders of a transaction's partitions: each marker
 * is written to each named partition this node leads as a COMMIT or ABORT control batch, durable as acks=all, and
 * answered per partition (NOT_LEADER_OR_FOLLOWER, UNKNOWN_TOPIC_OR_PARTITION, INVALID_PRODUCER_EPOCH,
 * KAFKA_STORAGE_ERROR). Not restricted to nodes yet (that comes with authentication).
 */
public final class WriteTxnMarkersHandler extends BrokerHandler<WriteTxnMarkersRequestData> {
    private final TransactionMarkers markers;

    public WriteTxnMarkersHandler(TransactionMarkers markers) {
        super(ApiKeys.WRITE_TXN_MARKERS, 1, 2);
        this.markers = markers;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, WriteTxnMarkersRequestData request) {
        List<CompletableFuture<WriteTxnMarkersResponseData.WritableTxnMarkerResult>> results = new ArrayList<>();
        for (WriteTxnMarkersRequestData.WritableTxnMarker marker : request.markers()) {
            List<TopicPartition> partitions = new ArrayList<>();
            for (WriteTxnMarkersRequestData.WritableTxnMarkerTopic topic : marker.topics()) {
                for (int p : topic.partitionIndexes()) {
                    partitions.add(new TopicPartition(topic.name(), p));
                }
            }
            results.add(markers.writeHere(marker.producerId(), marker.producerEpoch(), marker.transactionResult(),
                    marker.coordinatorEpoch(), partitions).thenApply(errors -> result(marker, errors)));
        }
        return CompletableFuture.allOf(results.toArray(CompletableFuture[]::new)).thenApply(v ->
                new WriteTxnMarkersResponseData().setMarkers(results.stream().map(CompletableFuture::join).toList()));
    }

    private static WriteTxnMarkersResponseData.WritableTxnMarkerResult result(
            WriteTxnMarkersRequestData.WritableTxnMarker marker, Map<TopicPartition, org.apache.kafka.common.protocol.Errors> errors) {
        WriteTxnMarkersResponseData.WritableTxnMarkerResult result =
                new WriteTxnMarkersResponseData.WritableTxnMarkerResult().setProducerId(marker.producerId());
        for (WriteTxnMarkersRequestData.WritableTxnMarkerTopic topic : marker.topics()) {
            WriteTxnMarkersResponseData.WritableTxnMarkerTopicResult topicResult =
                    new WriteTxnMarkersResponseData.WritableTxnMarkerTopicResult().setName(topic.name());
            for (int p : topic.partitionIndexes()) {
                topicResult.partitions().add(new WriteTxnMarkersResponseData.WritableTxnMarkerPartitionResult()
                        .setPartitionIndex(p).setErrorCode(errors.get(new TopicPartition(topic.name(), p)).code()));
            }
            result.topics().add(topicResult);
        }
        return result;
    }
}
