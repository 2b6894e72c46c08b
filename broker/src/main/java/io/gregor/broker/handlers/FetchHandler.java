package io.gregor.broker.handlers;

import io.gregor.broker.metadata.MetadataImage;
import io.gregor.broker.metadata.TopicImage;
import io.gregor.broker.network.RequestContext;
import io.gregor.broker.replica.DelayedOperations;
import io.gregor.broker.replica.FileSliceRecords;
import io.gregor.broker.replica.Partition;
import io.gregor.protocol.legacy.DownConvertedRecords;
import io.gregor.storage.FetchSlice;
import io.gregor.storage.KafkaStorageException;
import io.gregor.storage.Log;
import io.gregor.storage.OffsetOutOfRangeException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.message.FetchResponseData.FetchableTopicResponse;
import org.apache.kafka.common.message.FetchResponseData.PartitionData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.MemoryRecords;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fetch v4-18 for consumers, and v0-3 when legacy versions are on (records down-converted to message format v0 for
 * v0-1 and v1 for v2-3, see {@link LegacyRecords}). Reads whole batches up to the high watermark (the last stable offset is the same until
 * transactions exist), at least one whole batch even above the size limits (KIP-74), and parks the request until
 * min bytes are there or max wait passes. Records leave through sendfile. Fetch sessions are not kept: every
 * response has session id 0, which clients treat as "send full requests".
 *
 * <p>Errors per partition: UNKNOWN_TOPIC_OR_PARTITION, UNKNOWN_TOPIC_ID (v13+), OFFSET_OUT_OF_RANGE,
 * FENCED_LEADER_EPOCH, UNKNOWN_LEADER_EPOCH, KAFKA_STORAGE_ERROR, UNSUPPORTED_COMPRESSION_TYPE (v0-3 reader at a
 * ZStandard batch).
 */
public final class FetchHandler extends BrokerHandler<FetchRequestData> {
    private static final Logger log = LoggerFactory.getLogger(FetchHandler.class);
    private static final long MAX_WAIT_CAP_MS = 60_000;

    public FetchHandler(BrokerServices services) {
        super(services, ApiKeys.FETCH, 4, 18);
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, FetchRequestData request) {
        short version = context.apiVersion();
        // Fetch v0-1 readers take message format v0, v2-3 readers v1; v4+ get the stored batches by sendfile.
        byte legacyMagic = context.wireVersion() >= 4 ? -1 : context.wireVersion() <= 1 ? (byte) 0 : (byte) 1;
        Read first = read(request, version, legacyMagic);
        if (first.hasError || first.bytes >= request.minBytes() || request.maxWaitMs() <= 0 || first.watched.isEmpty()) {
            return CompletableFuture.completedFuture(first.response);
        }
        CompletableFuture<ApiMessage> result = new CompletableFuture<>();
        DelayedOperations.Operation op = new DelayedOperations.Operation() {
            /** The read that satisfied the request, answered as is; a timeout reads afresh. */
            private volatile Read satisfied;

            @Override
            protected boolean tryComplete() {
                Read again = read(request, version, legacyMagic);
                if (again.bytes < request.minBytes() && !again.hasError) {
                    return false;
                }
                satisfied = again;
                return forceComplete();
            }

            @Override
            protected void onComplete() {
                try {
                    Read done = satisfied;
                    result.complete((done != null ? done : read(request, version, legacyMagic)).response);
                } catch (RuntimeException e) {
                    result.completeExceptionally(e);
                }
            }
        };
        services.delayed().park(op, first.watched, Math.min(request.maxWaitMs(), MAX_WAIT_CAP_MS));
        return result;
    }

    /** One pass over the requested partitions. */
    private record Read(FetchResponseData response, int bytes, boolean hasError, Set<Partition> watched) {
    }

    private Read read(FetchRequestData request, short version, byte legacyMagic) {
        MetadataImage image = services.metadata().image();
        boolean byId = version >= 13;
        int responseBudget = Math.min(request.maxBytes() <= 0 ? Integer.MAX_VALUE : request.maxBytes(),
                services.config().get().fetchMaxBytes());
        boolean readCommitted = request.isolationLevel() == 1;
        FetchResponseData response = new FetchResponseData().setSessionId(0).setErrorCode(Errors.NONE.code());
        int bytes = 0;
        boolean hasError = false;
        Set<Partition> watched = new LinkedHashSet<>();
        for (FetchRequestData.FetchTopic wanted : request.topics()) {
            TopicImage topic = byId ? image.topic(wanted.topicId()) : image.topic(wanted.topic());
            FetchableTopicResponse topicResponse = new FetchableTopicResponse()
                    .setTopic(byId ? "" : wanted.topic()).setTopicId(byId ? wanted.topicId() : Uuid.ZERO_UUID);
            response.responses().add(topicResponse);
            for (FetchRequestData.FetchPartition p : wanted.partitions()) {
                PartitionData data = new PartitionData().setPartitionIndex(p.partition())
                        .setHighWatermark(-1).setLastStableOffset(-1).setLogStartOffset(-1)
                        .setRecords(MemoryRecords.EMPTY);
                topicResponse.partitions().add(data);
                Partition partition = topic == null ? null : services.partitions().partition(topic.name(), p.partition());
                if (partition == null) {
                    data.setErrorCode((byId && topic == null ? Errors.UNKNOWN_TOPIC_ID : Errors.UNKNOWN_TOPIC_OR_PARTITION).code());
                    hasError = true;
                    continue;
                }
                Errors epochError = checkEpoch(partition, p.currentLeaderEpoch());
                if (epochError != Errors.NONE) {
                    data.setErrorCode(epochError.code());
                    hasError = true;
                    continue;
                }
                Log partitionLog = partition.log();
                long hw = partitionLog.highWatermark();
                data.setHighWatermark(hw).setLastStableOffset(hw)
                        .setLogStartOffset(version >= 5 ? partitionLog.logStartOffset() : -1);
                if (readCommitted) {
                    data.setAbortedTransactions(new ArrayList<>());
                }
                watched.add(partition);
                int budget = Math.min(p.partitionMaxBytes(), responseBudget - bytes);
                try {
                    if (legacyMagic >= 0) {
                        bytes += readLegacy(partitionLog, p.fetchOffset(), Math.max(budget, 0), hw, bytes == 0, legacyMagic, data);
                        hasError |= data.errorCode() != Errors.NONE.code();
                        continue;
                    }
                    FetchSlice slice = partitionLog.read(p.fetchOffset(), Math.max(budget, 0), hw, bytes == 0);
                    if (!slice.isEmpty()) {
                        data.setRecords(new FileSliceRecords(slice));
                        bytes += slice.size();
                    }
                } catch (OffsetOutOfRangeException e) {
                    data.setErrorCode(Errors.OFFSET_OUT_OF_RANGE.code());
                    hasError = true;
                } catch (KafkaStorageException e) {
                    log.error("Storage error reading {}: {}", partition, e.getMessage());
                    data.setErrorCode(Errors.KAFKA_STORAGE_ERROR.code());
                    hasError = true;
                }
            }
        }
        return new Read(response, bytes, hasError, watched);
    }

    /** Batches to look through for a v0/v1 reader when everything read so far was left out (markers, aborted data). */
    private static final int LEGACY_MAX_EMPTY_READS = 16;

    /**
     * Reads for a Fetch v0-3 reader: the first chunk of the slice (bounded by the budget, or one batch) is converted
     * now, the rest while the response is written (see {@link DownConvertedRecords}); no more than a chunk is held.
     * Returns the bytes given.
     */
    private static int readLegacy(Log partitionLog, long fetchOffset, int budget, long hw, boolean first, byte magic,
                                  PartitionData data) {
        long offset = fetchOffset;
        // Old formats usually take more room than v2 (a header per message): the slice reaches past the budget so
        // that the converted answer fills it; only what fits is converted.
        int reach = (int) Math.min(Integer.MAX_VALUE, budget + budget / 2L);
        for (int attempt = 0; attempt < LEGACY_MAX_EMPTY_READS && offset < hw; attempt++) {
            FetchSlice slice = partitionLog.read(offset, reach, hw, first);
            if (slice.isEmpty()) {
                return 0;
            }
            DownConvertedRecords converted;
            try {
                converted = DownConvertedRecords.start(new SliceSource(slice), magic, fetchOffset, budget);
            } catch (UncheckedIOException e) {
                throw new KafkaStorageException("cannot read a fetch slice: " + e.getCause().getMessage(), e);
            }
            if (converted.error() != Errors.NONE) {
                data.setErrorCode(converted.error().code());
                return 0;
            }
            if (converted.hasMessages()) {
                if (!first && converted.sizeInBytes() > budget) {
                    return 0;
                }
                data.setRecords(converted);
                return converted.sizeInBytes();
            }
            if (converted.blocked()) {
                return 0; // a transaction without its decision yet: nothing after it either
            }
            offset = slice.lastOffset() + 1;
        }
        return 0;
    }

    /** A fetch slice as the source of a down-conversion; read on the handler thread first, then on the event loop. */
    private record SliceSource(FetchSlice slice) implements DownConvertedRecords.Source {
        @Override
        public int size() {
            return slice.size();
        }

        @Override
        public void read(ByteBuffer target, int position) throws IOException {
            long at = slice.position() + position;
            while (target.hasRemaining()) {
                int n = slice.channel().read(target, at);
                if (n < 0) {
                    throw new IOException("segment ended inside a fetch slice at byte " + (at - slice.position()));
                }
                at += n;
            }
        }
    }

    private static Errors checkEpoch(Partition partition, int requestEpoch) {
        if (requestEpoch < 0 || requestEpoch == partition.leaderEpoch()) {
            return Errors.NONE;
        }
        return requestEpoch < partition.leaderEpoch() ? Errors.FENCED_LEADER_EPOCH : Errors.UNKNOWN_LEADER_EPOCH;
    }
}
