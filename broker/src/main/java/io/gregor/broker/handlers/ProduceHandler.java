package io.gregor.broker.handlers;

import io.gregor.replication.ReplicaManager;
import io.gregor.metadata.MetadataCache;
import io.gregor.metadata.TopicImage;
import io.gregor.broker.network.RequestContext;
import io.gregor.protocol.legacy.LegacyRecords;
import io.gregor.replication.Partition;
import io.gregor.replication.Recompression;
import io.gregor.replication.ReplicaManager.AppendResult;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.message.ProduceResponseData.PartitionProduceResponse;
import org.apache.kafka.common.message.ProduceResponseData.TopicProduceResponse;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.MemoryRecords;

/**
 * Produce v3-13, and v0-2 when legacy versions are on. Batches are stored as sent (validated, offsets stamped, never
 * decompressed) unless the topic's {@code compression.type} names another codec. Message sets of format v0/v1 (sent
 * with Produce v0-2) are converted once to a v2 batch here; the rest is the replica manager's: acks=-1 is answered
 * once the batches are committed (fsynced), acks=1 after the write, acks=0 gets no response at all.
 *
 * <p>Errors per partition: UNKNOWN_TOPIC_OR_PARTITION, UNKNOWN_TOPIC_ID (v13), CORRUPT_MESSAGE, INVALID_RECORD
 * (v0/v1 with nested compression or ZStandard, a record without a key in a compacted topic), MESSAGE_TOO_LARGE,
 * NOT_ENOUGH_REPLICAS, KAFKA_STORAGE_ERROR, REQUEST_TIMED_OUT, INVALID_REQUIRED_ACKS (acks other than -1, 0, 1).
 *
 * <p>A transactional batch (with the request's transactional id) that would open a transaction in a partition is first
 * verified with the id's coordinator (KIP-890 part 1): INVALID_TXN_STATE when the partition is not in the producer's
 * open transaction, INVALID_PRODUCER_EPOCH when the producer was fenced, NOT_ENOUGH_REPLICAS (retriable) when the
 * coordinator cannot be asked.
 */
public final class ProduceHandler extends BrokerHandler<ProduceRequestData> {

    private final MetadataCache metadata;
    private final ReplicaManager replicas;
    private final io.gregor.broker.txn.TransactionVerifier verifier;
    /** The last verified append of each partition and producer still in progress. */
    private final java.util.concurrent.ConcurrentHashMap<String, CompletableFuture<Void>> verifying =
            new java.util.concurrent.ConcurrentHashMap<>();

    private final java.util.function.BooleanSupplier verificationEnabled;
    private final java.util.function.IntSupplier transactionVersion;

    /**
     * @param verifier            asks transaction coordinators (null: transactional batches are never checked)
     * @param verificationEnabled transaction.partition.verification.enable
     * @param transactionVersion  the finalized transaction.version: at 2, a transactional batch of Produce v12 or later
     *                            adds its partition to the transaction (KIP-890 part 2) instead of being verified
     */
    public ProduceHandler(MetadataCache metadata, ReplicaManager replicas, io.gregor.broker.txn.TransactionVerifier verifier,
                          java.util.function.BooleanSupplier verificationEnabled,
                          java.util.function.IntSupplier transactionVersion) {
        super(ApiKeys.PRODUCE, 3, 13);
        this.metadata = metadata;
        this.replicas = replicas;
        this.verifier = verifier;
        this.verificationEnabled = verificationEnabled;
        this.transactionVersion = transactionVersion;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, ProduceRequestData request) {
        if (awaitsLocalPartition(context, request)) {
            // A partition the metadata has but whose log this node is still creating (the topic was just created):
            // wait for that (briefly) rather than answer NOT_LEADER_OR_FOLLOWER to a client that may not retry.
            return metadata.published().completeOnTimeout(null, 5, java.util.concurrent.TimeUnit.SECONDS)
                    .thenCompose(v -> produce(context, request));
        }
        return produce(context, request);
    }

    private boolean awaitsLocalPartition(RequestContext context, ProduceRequestData request) {
        boolean byId = context.apiVersion() >= 13;
        for (ProduceRequestData.TopicProduceData topicData : request.topicData()) {
            TopicImage topic = byId ? metadata.image().topic(topicData.topicId())
                    : metadata.image().topic(topicData.name());
            if (topic == null) {
                continue;
            }
            for (ProduceRequestData.PartitionProduceData data : topicData.partitionData()) {
                if (data.index() >= 0 && data.index() < topic.partitions()
                        && replicas.partition(topic.name(), data.index()) == null) {
                    return true;
                }
            }
        }
        return false;
    }

    private CompletableFuture<ApiMessage> produce(RequestContext context, ProduceRequestData request) {
        short acks = request.acks();
        boolean byId = context.apiVersion() >= 13;
        boolean addToTransaction = context.apiVersion() >= 12 && transactionVersion.getAsInt() >= 2;
        List<CompletableFuture<?>> pending = new ArrayList<>();
        ProduceResponseData response = new ProduceResponseData();
        for (ProduceRequestData.TopicProduceData topicData : request.topicData()) {
            TopicImage topic = byId ? metadata.image().topic(topicData.topicId())
                    : metadata.image().topic(topicData.name());
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
                Partition partition = topic == null ? null : replicas.partition(topic.name(), data.index());
                if (partition == null) {
                    result.setErrorCode((byId && topic == null ? Errors.UNKNOWN_TOPIC_ID
                            : NotHere.error(topic, data.index())).code());
                    continue;
                }
                pending.add(append(partition, (MemoryRecords) data.records(), acks, request.timeoutMs(),
                        context.wireVersion() < 3, request.transactionalId(), addToTransaction, result));
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

    private CompletableFuture<Void> append(Partition partition, MemoryRecords records, short acks, int timeoutMs,
                                           boolean legacy, String transactionalId, boolean addToTransaction,
                                           PartitionProduceResponse result) {
        ByteBuffer buffer = records == null ? ByteBuffer.allocate(0) : records.buffer();
        if (!legacy && transactionalId != null && verifier != null && (addToTransaction || verificationEnabled.getAsBoolean())
                && isTransactional(buffer)) {
            long producerId = buffer.getLong(buffer.position() + 43);
            short epoch = buffer.getShort(buffer.position() + 51);
            long token = replicas.transactionVerificationToken(partition, producerId, epoch);
            // Requests of one producer to one partition are appended in the order they came, verified or not
            // (max.in.flight > 1): while one waits for its verification, those after it wait for its append.
            String key = partition + "/" + producerId;
            CompletableFuture<Void> mine = new CompletableFuture<>();
            java.util.concurrent.atomic.AtomicReference<CompletableFuture<Void>> before =
                    new java.util.concurrent.atomic.AtomicReference<>();
            boolean queued = verifying.compute(key, (k, previous) -> {
                if (previous == null && token == ReplicaManager.NO_VERIFICATION) {
                    return null;
                }
                before.set(previous);
                return mine;
            }) == mine;
            if (queued) {
                ByteBuffer batches = buffer;
                CompletableFuture<Void> previous = before.get();
                CompletableFuture<Void> done = (previous == null ? CompletableFuture.<Void>completedFuture(null) : previous)
                        .thenCompose(v -> appendVerified(partition, batches, acks, timeoutMs, transactionalId,
                                producerId, epoch, addToTransaction, result, mine));
                done.whenComplete((v, e) -> {
                    mine.complete(null);
                    verifying.remove(key, mine);
                });
                return done;
            }
            return replicas.appendRecords(partition, buffer, acks, timeoutMs, producerId, ReplicaManager.EXPECT_OPEN)
                    .thenAccept(appended -> answer(result, appended));
        }
        if (legacy && LegacyRecords.magic(buffer) >= 0 && LegacyRecords.magic(buffer) < 2) {
            try {
                // Straight to the topic's codec, if it has one: recompression then finds nothing to do.
                buffer = LegacyRecords.toCurrentFormat(buffer, Recompression.target(partition.compressionType()));
            } catch (LegacyRecords.InvalidRecordsException e) {
                fail(result, e.error(), e.getMessage());
                return CompletableFuture.completedFuture(null);
            }
        }
        return replicas.appendRecords(partition, buffer, acks, timeoutMs).thenAccept(appended -> answer(result, appended));
    }

    /**
     * Appends a transactional batch once the requests before it are appended: at once when its transaction is open in
     * the partition by then, else after its coordinator verified that the partition is in the transaction. {@code
     * appended} completes as soon as the batch is in the log (or refused), before replication: the next request of
     * the producer may go then.
     */
    private CompletableFuture<Void> appendVerified(Partition partition, ByteBuffer buffer, short acks, int timeoutMs,
                                                   String transactionalId, long producerId, short epoch, boolean add,
                                                   PartitionProduceResponse result, CompletableFuture<Void> appended) {
        long token = replicas.transactionVerificationToken(partition, producerId, epoch);
        CompletableFuture<Errors> verified = token == ReplicaManager.NO_VERIFICATION
                ? CompletableFuture.completedFuture(Errors.NONE)
                : verifier.verify(transactionalId, producerId, epoch,
                        new org.apache.kafka.common.TopicPartition(partition.topic(), partition.index()), add);
        return verified.thenCompose(error -> {
            if (error != Errors.NONE) {
                appended.complete(null);
                fail(result, forProducer(error), "Partition " + partition + " is not in the open transaction of "
                        + transactionalId + " (" + error.name() + ")");
                return CompletableFuture.completedFuture(null);
            }
            // Checked against the token taken before asking: a marker of this producer appended since fails it.
            CompletableFuture<AppendResult> append = replicas.appendRecords(partition, buffer, acks, timeoutMs,
                    producerId, token == ReplicaManager.NO_VERIFICATION ? ReplicaManager.EXPECT_OPEN : token, add);
            appended.complete(null);
            return append.thenAccept(done -> answer(result, done));
        });
    }

    private static void answer(PartitionProduceResponse result, AppendResult appended) {
        if (appended.error() == Errors.NONE) {
            result.setBaseOffset(appended.baseOffset()).setLogAppendTimeMs(appended.logAppendTimeMs())
                    .setLogStartOffset(appended.logStartOffset());
        } else {
            fail(result, appended.error(), appended.message());
        }
    }

    /** Whether the first batch is a transactional data batch (magic 2, bit 4 set, bit 5 clear). */
    private static boolean isTransactional(ByteBuffer buffer) {
        int at = buffer.position();
        if (buffer.limit() - at < 61 || buffer.get(at + 16) < 2) {
            return false;
        }
        short attributes = buffer.getShort(at + 21);
        return (attributes & (1 << 4)) != 0 && (attributes & (1 << 5)) == 0;
    }

    /** A verification's answer as producers expect it in a Produce response. */
    private static Errors forProducer(Errors error) {
        return switch (error) {
            case INVALID_TXN_STATE, INVALID_PRODUCER_ID_MAPPING -> Errors.INVALID_TXN_STATE;
            case PRODUCER_FENCED, INVALID_PRODUCER_EPOCH -> Errors.INVALID_PRODUCER_EPOCH;
            // Retriable for producers of transaction version 2: the previous transaction is still completing.
            case CONCURRENT_TRANSACTIONS -> Errors.CONCURRENT_TRANSACTIONS;
            default -> Errors.NOT_ENOUGH_REPLICAS;
        };
    }

    private static void fail(PartitionProduceResponse result, Errors error, String message) {
        result.setErrorCode(error.code()).setErrorMessage(message);
    }
}
