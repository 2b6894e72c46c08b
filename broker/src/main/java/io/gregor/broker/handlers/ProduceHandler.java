package io.gregor.broker.handlers;

import io.gregor.broker.metadata.TopicImage;
import io.gregor.broker.network.RequestContext;
import io.gregor.broker.replica.Partition;
import io.gregor.broker.replica.Recompression;
import io.gregor.protocol.legacy.LegacyRecords;
import io.gregor.storage.CorruptRecordException;
import io.gregor.storage.KafkaStorageException;
import io.gregor.storage.LogAppendInfo;
import io.gregor.storage.RecordTooLargeException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.message.ProduceResponseData.PartitionProduceResponse;
import org.apache.kafka.common.message.ProduceResponseData.TopicProduceResponse;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.MemoryRecords;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Produce v3-13, and v0-2 when legacy versions are on. Batches are stored as sent (validated, offsets stamped, never
 * decompressed) unless the topic's {@code compression.type} names another codec. Message sets of format v0/v1 (sent
 * with Produce v0-2) are converted once to a v2 batch. acks=-1 is answered after an fsync that covers the batches;
 * acks=1 after the write; acks=0 gets no response at all.
 *
 * <p>Errors per partition: UNKNOWN_TOPIC_OR_PARTITION, UNKNOWN_TOPIC_ID (v13), CORRUPT_MESSAGE, INVALID_RECORD
 * (v0/v1 with nested compression or ZStandard), MESSAGE_TOO_LARGE, NOT_ENOUGH_REPLICAS, KAFKA_STORAGE_ERROR,
 * INVALID_REQUIRED_ACKS (acks other than -1, 0, 1).
 */
public final class ProduceHandler extends BrokerHandler<ProduceRequestData> {
    private static final Logger log = LoggerFactory.getLogger(ProduceHandler.class);

    public ProduceHandler(BrokerServices services) {
        super(services, ApiKeys.PRODUCE, 3, 13);
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, ProduceRequestData request) {
        short acks = request.acks();
        boolean byId = context.apiVersion() >= 13;
        List<CompletableFuture<?>> pending = new ArrayList<>();
        ProduceResponseData response = new ProduceResponseData();
        for (ProduceRequestData.TopicProduceData topicData : request.topicData()) {
            TopicImage topic = byId ? services.metadata().image().topic(topicData.topicId())
                    : services.metadata().image().topic(topicData.name());
            TopicProduceResponse topicResponse = new TopicProduceResponse().setName(byId ? "" : topicData.name())
                    .setTopicId(byId ? topicData.topicId() : Uuid.ZERO_UUID);
            response.responses().add(topicResponse);
            for (ProduceRequestData.PartitionProduceData data : topicData.partitionData()) {
                PartitionProduceResponse result = new PartitionProduceResponse().setIndex(data.index())
                        .setBaseOffset(-1).setLogAppendTimeMs(-1).setLogStartOffset(-1);
                topicResponse.partitionResponses().add(result);
                if (acks != -1 && acks != 0 && acks != 1) {
                    result.setErrorCode(Errors.INVALID_REQUIRED_ACKS.code());
                    continue;
                }
                Partition partition = topic == null ? null : services.partitions().partition(topic.name(), data.index());
                if (partition == null) {
                    result.setErrorCode((byId && topic == null ? Errors.UNKNOWN_TOPIC_ID : Errors.UNKNOWN_TOPIC_OR_PARTITION).code());
                    continue;
                }
                pending.add(append(partition, (MemoryRecords) data.records(), acks, context.wireVersion() < 3, result));
            }
        }
        CompletableFuture<Void> all = CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new));
        short version = context.apiVersion();
        return all.thenApply(v -> acks == 0 ? null : dropFieldsAbove(response, version));
    }

    /** Fields a version lacks must keep their defaults, or the codec refuses to write them. */
    private static ProduceResponseData dropFieldsAbove(ProduceResponseData response, short version) {
        for (TopicProduceResponse topic : response.responses()) {
            for (PartitionProduceResponse p : topic.partitionResponses()) {
                if (version < 5) {
                    p.setLogStartOffset(-1);
                }
                if (version < 8) {
                    p.setErrorMessage(null);
                }
            }
        }
        return response;
    }

    private CompletableFuture<Void> append(Partition partition, MemoryRecords records, short acks, boolean legacy,
                                           PartitionProduceResponse result) {
        if (acks == -1 && partition.isrSize() < partition.minInsyncReplicas()) {
            fail(result, Errors.NOT_ENOUGH_REPLICAS, "The size of the current ISR " + partition.isrSize()
                    + " is insufficient to satisfy the min.isr requirement of " + partition.minInsyncReplicas()
                    + " for partition " + partition);
            return CompletableFuture.completedFuture(null);
        }
        ByteBuffer buffer = records == null ? ByteBuffer.allocate(0) : records.buffer();
        if (legacy && LegacyRecords.magic(buffer) >= 0 && LegacyRecords.magic(buffer) < 2) {
            try {
                // Straight to the topic's codec, if it has one: Recompression then finds nothing to do.
                buffer = LegacyRecords.toCurrentFormat(buffer, Recompression.target(partition.compressionType()));
            } catch (LegacyRecords.InvalidRecordsException e) {
                fail(result, e.error(), e.getMessage());
                return CompletableFuture.completedFuture(null);
            }
        }
        if (partition.log().config().compaction().compact() && hasKeylessRecord(buffer)) {
            fail(result, Errors.INVALID_RECORD, "Compacted topic cannot accept message without key in topic partition "
                    + partition + ".");
            return CompletableFuture.completedFuture(null);
        }
        CompletableFuture<LogAppendInfo> appended;
        try {
            buffer = Recompression.apply(buffer, partition.compressionType());
            appended = services.partitions().append(partition, buffer, acks);
        } catch (RuntimeException e) {
            appended = CompletableFuture.failedFuture(e);
        }
        return appended.handle((info, error) -> {
            if (error == null) {
                result.setBaseOffset(info.firstOffset())
                        .setLogAppendTimeMs(info.logAppendTimeMs())
                        .setLogStartOffset(partition.log().logStartOffset());
            } else {
                Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
                onFailure(partition, result, cause);
            }
            return null;
        });
    }

    private static void onFailure(Partition partition, PartitionProduceResponse result, Throwable cause) {
        if (cause instanceof CorruptRecordException) {
            fail(result, Errors.CORRUPT_MESSAGE, cause.getMessage());
        } else if (cause instanceof RecordTooLargeException) {
            fail(result, Errors.MESSAGE_TOO_LARGE, cause.getMessage());
        } else if (cause instanceof KafkaStorageException) {
            log.error("Storage error appending to {}: {}", partition, cause.getMessage());
            fail(result, Errors.KAFKA_STORAGE_ERROR, cause.getMessage());
        } else {
            log.error("Unexpected error appending to {}", partition, cause);
            fail(result, Errors.UNKNOWN_SERVER_ERROR, String.valueOf(cause));
        }
    }

    /**
     * Whether a record of {@code buffer} has no key (a compacted topic refuses it, as Kafka does); compressed batches
     * are decompressed for the check. A malformed buffer answers false: the log's own validation refuses it.
     */
    private static boolean hasKeylessRecord(ByteBuffer buffer) {
        try {
            var supplier = org.apache.kafka.common.utils.BufferSupplier.create();
            for (var batch : MemoryRecords.readableRecords(buffer.duplicate()).batches()) {
                if (batch.isControlBatch()) {
                    continue;
                }
                try (var records = batch.streamingIterator(supplier)) {
                    while (records.hasNext()) {
                        if (!records.next().hasKey()) {
                            return true;
                        }
                    }
                }
            }
            return false;
        } catch (RuntimeException e) {
            return false;
        }
    }

    private static void fail(PartitionProduceResponse result, Errors error, String message) {
        result.setErrorCode(error.code()).setErrorMessage(message);
    }
}
