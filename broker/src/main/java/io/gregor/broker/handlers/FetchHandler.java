package io.gregor.broker.handlers;

import java.util.function.Supplier;
import io.gregor.replication.ReplicaManager;
import io.gregor.metadata.MetadataCache;
import io.gregor.broker.config.BrokerConfig;
import io.gregor.metadata.MetadataImage;
import io.gregor.metadata.TopicImage;
import io.gregor.broker.network.RequestContext;
import io.gregor.protocol.legacy.DownConvertedRecords;
import io.gregor.replication.FetchParams;
import io.gregor.replication.FetchPartitionData;
import io.gregor.replication.FileSliceRecords;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
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
 * v0-1 and v1 for v2-3, see {@link DownConvertedRecords}). A translator: topics are resolved here, the reading,
 * the size limits (at least one whole batch, KIP-74) and the wait for min bytes are the replica manager's. Records
 * leave through sendfile. Fetch sessions are not kept: every response has session id 0, which clients treat as
 * "send full requests".
 *
 * <p>Errors per partition: UNKNOWN_TOPIC_OR_PARTITION, UNKNOWN_TOPIC_ID (v13+), OFFSET_OUT_OF_RANGE,
 * FENCED_LEADER_EPOCH, UNKNOWN_LEADER_EPOCH, KAFKA_STORAGE_ERROR, UNSUPPORTED_COMPRESSION_TYPE (v0-3 reader at a
 * ZStandard batch).
 */
public final class FetchHandler extends BrokerHandler<FetchRequestData> {
    private static final Logger log = LoggerFactory.getLogger(FetchHandler.class);
    /** Batches to look through for a v0/v1 reader when everything read so far was left out (markers, aborted data). */
    private static final int LEGACY_MAX_EMPTY_READS = 16;
    /**
     * Old formats usually take more room than v2 (a header per message): a legacy read reaches this far past its
     * budget so that the converted answer fills it; only what fits is converted.
     */
    private static final float LEGACY_REACH = 1.5f;

    private final Supplier<BrokerConfig> config;
    private final MetadataCache metadata;
    private final ReplicaManager replicas;

    public FetchHandler(Supplier<BrokerConfig> config, MetadataCache metadata, ReplicaManager replicas) {
        super(ApiKeys.FETCH, 4, 18);
        this.config = config;
        this.metadata = metadata;
        this.replicas = replicas;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, FetchRequestData request) {
        short version = context.apiVersion();
        // Fetch v0-1 readers take message format v0, v2-3 readers v1; v4+ get the stored batches by sendfile.
        byte legacyMagic = context.wireVersion() >= 4 ? -1 : context.wireVersion() <= 1 ? (byte) 0 : (byte) 1;
        MetadataImage image = metadata.image();
        boolean byId = version >= 13;
        List<FetchParams.PartitionFetch> wanted = new ArrayList<>();
        List<Boolean> unknownId = new ArrayList<>();
        List<TopicImage> topicOf = new ArrayList<>();
        for (FetchRequestData.FetchTopic t : request.topics()) {
            TopicImage topic = byId ? image.topic(t.topicId()) : image.topic(t.topic());
            for (FetchRequestData.FetchPartition p : t.partitions()) {
                wanted.add(new FetchParams.PartitionFetch(topic == null ? null : topic.name(), p.partition(), p.fetchOffset(),
                        p.partitionMaxBytes(), p.currentLeaderEpoch()));
                unknownId.add(byId && topic == null);
                topicOf.add(topic);
            }
        }
        int maxBytes = Math.min(request.maxBytes() <= 0 ? Integer.MAX_VALUE : request.maxBytes(),
                config.get().fetchMaxBytes());
        int replicaId = version >= 15 ? request.replicaState().replicaId() : request.replicaId();
        FetchParams params = new FetchParams(request.maxWaitMs(), request.minBytes(), maxBytes,
                legacyMagic >= 0 ? LEGACY_REACH : 1f, wanted, replicaId);
        return replicas.fetchMessages(params)
                .thenApply(read -> response(request, version, legacyMagic, maxBytes, wanted, unknownId, topicOf, read));
    }

    private FetchResponseData response(FetchRequestData request, short version, byte legacyMagic, int maxBytes,
                                       List<FetchParams.PartitionFetch> wanted, List<Boolean> unknownId,
                                       List<TopicImage> topicOf, List<FetchPartitionData> read) {
        boolean byId = version >= 13;
        boolean readCommitted = request.isolationLevel() == 1;
        FetchResponseData response = new FetchResponseData().setSessionId(0).setErrorCode(Errors.NONE.code());
        int i = 0;
        int bytes = 0;
        for (FetchRequestData.FetchTopic t : request.topics()) {
            FetchableTopicResponse topicResponse = new FetchableTopicResponse()
                    .setTopic(byId ? "" : t.topic()).setTopicId(byId ? t.topicId() : Uuid.ZERO_UUID);
            response.responses().add(topicResponse);
            for (FetchRequestData.FetchPartition p : t.partitions()) {
                FetchPartitionData found = read.get(i);
                PartitionData data = new PartitionData().setPartitionIndex(p.partition())
                        .setHighWatermark(found.highWatermark()).setLastStableOffset(found.lastStableOffset())
                        .setLogStartOffset(version >= 5 ? found.logStartOffset() : -1).setRecords(MemoryRecords.EMPTY);
                Errors error = found.error() != Errors.UNKNOWN_TOPIC_OR_PARTITION ? found.error()
                        : unknownId.get(i) ? Errors.UNKNOWN_TOPIC_ID : NotHere.error(topicOf.get(i), p.partition());
                data.setErrorCode(error.code());
                if (error == Errors.NONE) {
                    if (readCommitted) {
                        data.setAbortedTransactions(new ArrayList<>());
                    }
                    if (found.records() != null) {
                        if (legacyMagic >= 0) {
                            int budget = Math.max(0, Math.min(p.partitionMaxBytes(), maxBytes - bytes));
                            bytes += convertLegacy(found, wanted.get(i), budget, bytes == 0, legacyMagic, data);
                        } else {
                            data.setRecords(found.records());
                            bytes += found.records().sizeInBytes();
                        }
                    }
                }
                topicResponse.partitions().add(data);
                i++;
            }
        }
        return response;
    }

    /**
     * For a Fetch v0-3 reader: the first chunk of the slice (bounded by the budget, or one batch) is converted now,
     * the rest while the response is written (see {@link DownConvertedRecords}); no more than a chunk is held. A slice
     * of markers or aborted data only is read past. Returns the bytes given.
     */
    private int convertLegacy(FetchPartitionData found, FetchParams.PartitionFetch wanted, int budget, boolean first,
                              byte magic, PartitionData data) {
        FileSliceRecords slice = found.records();
        int reach = (int) Math.min(Integer.MAX_VALUE, (long) (budget * LEGACY_REACH));
        for (int attempt = 0; attempt < LEGACY_MAX_EMPTY_READS && slice != null; attempt++) {
            DownConvertedRecords converted;
            try {
                converted = DownConvertedRecords.start(new SliceSource(slice), magic, wanted.fetchOffset(), budget);
            } catch (UncheckedIOException e) {
                log.error("Storage error reading {}: {}", found.partition(), e.getMessage());
                data.setErrorCode(Errors.KAFKA_STORAGE_ERROR.code());
                return 0;
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
            long next = slice.lastOffset() + 1;
            try {
                slice = next < found.highWatermark()
                        ? replicas.read(found.partition(), next, reach, found.highWatermark(), first) : null;
            } catch (org.apache.kafka.common.errors.ApiException e) {
                log.warn("Cannot read {} at offset {}: {}", found.partition(), next, e.getMessage());
                return 0;
            }
        }
        return 0;
    }

    /** Stored batches as the source of a down-conversion; read on the handler thread first, then on the event loop. */
    private record SliceSource(FileSliceRecords slice) implements DownConvertedRecords.Source {
        @Override
        public int size() {
            return slice.sizeInBytes();
        }

        @Override
        public void read(ByteBuffer target, int position) throws IOException {
            slice.read(target, position);
        }
    }
}
