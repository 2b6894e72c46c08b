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
 * leave through sendfile. Fetch v7+ clients get incremental fetch sessions (KIP-227, {@link FetchSessionCache}):
 * after the first full fetch they send only what changed and are answered only with what changed.
 *
 * <p>Session errors, for the whole response: FETCH_SESSION_ID_NOT_FOUND (an unknown or evicted session),
 * INVALID_FETCH_SESSION_EPOCH (a fetch out of turn); the client then opens a new session with a full fetch.
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
    private final FetchSessionCache sessions;

    public FetchHandler(Supplier<BrokerConfig> config, MetadataCache metadata, ReplicaManager replicas,
                        FetchSessionCache sessions) {
        super(ApiKeys.FETCH, 4, 18);
        this.config = config;
        this.metadata = metadata;
        this.replicas = replicas;
        this.sessions = sessions;
    }

    /**
     * One partition to read and answer for.
     *
     * @param topic the topic, null when the request named one that does not exist
     * @param topicName the name the request used (v0-12), or null
     * @param topicId the id the request used (v13+), or zero
     * @param cached the partition's entry in the fetch session, or null without one
     */
    private record Wanted(TopicImage topic, String topicName, Uuid topicId, int partition, long fetchOffset,
                          int maxBytes, int currentLeaderEpoch, FetchSessionCache.CachedPartition cached) {}

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, FetchRequestData request) {
        short version = context.apiVersion();
        // Fetch v0-1 readers take message format v0, v2-3 readers v1; v4+ get the stored batches by sendfile.
        byte legacyMagic = context.wireVersion() >= 4 ? -1 : context.wireVersion() <= 1 ? (byte) 0 : (byte) 1;
        MetadataImage image = metadata.image();
        boolean byId = version >= 13;
        int replicaId = version >= 15 ? request.replicaState().replicaId() : request.replicaId();
        int sessionId = version >= 7 ? request.sessionId() : 0;
        int epoch = version >= 7 ? request.sessionEpoch() : FetchSessionCache.FINAL_EPOCH;
        List<Wanted> wanted = new ArrayList<>();
        FetchSessionCache.Session session = null;
        boolean incremental = false;
        if (epoch == FetchSessionCache.INITIAL_EPOCH || epoch == FetchSessionCache.FINAL_EPOCH) {
            if (sessionId != 0) {
                sessions.remove(sessionId);
            }
            if (epoch == FetchSessionCache.INITIAL_EPOCH) {
                int count = request.topics().stream().mapToInt(t -> t.partitions().size()).sum();
                session = sessions.create(replicaId >= 0, byId, count);
            }
            for (FetchRequestData.FetchTopic t : request.topics()) {
                TopicImage topic = byId ? image.topic(t.topicId()) : image.topic(t.topic());
                for (FetchRequestData.FetchPartition p : t.partitions()) {
                    FetchSessionCache.CachedPartition cached = null;
                    if (session != null) {
                        FetchSessionCache.Key key = key(byId, t.topicId(), t.topic(), p.partition());
                        session.upsert(key, p.fetchOffset(), p.partitionMaxBytes(), p.currentLeaderEpoch());
                        cached = session.partition(key);
                    }
                    wanted.add(new Wanted(topic, byId ? null : t.topic(), byId ? t.topicId() : Uuid.ZERO_UUID,
                            p.partition(), p.fetchOffset(), p.partitionMaxBytes(), p.currentLeaderEpoch(), cached));
                }
            }
        } else {
            FetchSessionCache.Session[] found = new FetchSessionCache.Session[1];
            FetchSessionCache.Lookup lookup = sessionId == 0 ? FetchSessionCache.Lookup.NOT_FOUND
                    : sessions.lookup(sessionId, epoch, found);
            if (lookup != FetchSessionCache.Lookup.FOUND) {
                Errors error = lookup == FetchSessionCache.Lookup.NOT_FOUND ? Errors.FETCH_SESSION_ID_NOT_FOUND
                        : Errors.INVALID_FETCH_SESSION_EPOCH;
                return CompletableFuture.completedFuture(new FetchResponseData().setErrorCode(error.code()).setSessionId(0));
            }
            session = found[0];
            if (session.byId != byId) {
                // A session opened by topic name (v12 and older) cannot go on by topic id, nor the other way round.
                sessions.remove(sessionId);
                return CompletableFuture.completedFuture(new FetchResponseData()
                        .setErrorCode(Errors.FETCH_SESSION_TOPIC_ID_ERROR.code()).setSessionId(0));
            }
            incremental = true;
            for (FetchRequestData.FetchTopic t : request.topics()) {
                for (FetchRequestData.FetchPartition p : t.partitions()) {
                    session.upsert(key(session.byId, t.topicId(), t.topic(), p.partition()), p.fetchOffset(),
                            p.partitionMaxBytes(), p.currentLeaderEpoch());
                }
            }
            for (FetchRequestData.ForgottenTopic f : request.forgottenTopicsData()) {
                for (int partition : f.partitions()) {
                    session.forget(key(session.byId, f.topicId(), f.topic(), partition));
                }
            }
            for (FetchSessionCache.CachedPartition cached : session.partitions()) {
                FetchSessionCache.Key key = cached.key;
                TopicImage topic = session.byId ? image.topic(key.topicId()) : image.topic(key.topic());
                wanted.add(new Wanted(topic, key.topic(), key.topicId() == null ? Uuid.ZERO_UUID : key.topicId(),
                        key.partition(), cached.fetchOffset, cached.maxBytes, cached.currentLeaderEpoch, cached));
            }
        }
        List<FetchParams.PartitionFetch> reads = new ArrayList<>(wanted.size());
        for (Wanted w : wanted) {
            reads.add(new FetchParams.PartitionFetch(w.topic() == null ? null : w.topic().name(), w.partition(),
                    w.fetchOffset(), w.maxBytes(), w.currentLeaderEpoch()));
        }
        int maxBytes = Math.min(request.maxBytes() <= 0 ? Integer.MAX_VALUE : request.maxBytes(),
                config.get().fetchMaxBytes());
        boolean readCommitted = legacyMagic < 0 && replicaId < 0 && request.isolationLevel() == 1;
        FetchParams params = new FetchParams(request.maxWaitMs(), request.minBytes(), maxBytes,
                legacyMagic >= 0 ? LEGACY_REACH : 1f, reads, replicaId, readCommitted);
        int responseSessionId = session == null ? 0 : session.id;
        boolean onlyChanges = incremental;
        return replicas.fetchMessages(params).thenApply(read -> response(request, version, legacyMagic, maxBytes,
                wanted, reads, read, responseSessionId, onlyChanges));
    }

    private static FetchSessionCache.Key key(boolean byId, Uuid topicId, String topic, int partition) {
        return byId ? new FetchSessionCache.Key(topicId, null, partition) : new FetchSessionCache.Key(null, topic, partition);
    }

    private FetchResponseData response(FetchRequestData request, short version, byte legacyMagic, int maxBytes,
                                       List<Wanted> wanted, List<FetchParams.PartitionFetch> reads,
                                       List<FetchPartitionData> read, int sessionId, boolean onlyChanges) {
        boolean byId = version >= 13;
        boolean readCommitted = legacyMagic < 0 && request.isolationLevel() == 1;
        FetchResponseData response = new FetchResponseData().setSessionId(sessionId).setErrorCode(Errors.NONE.code());
        int bytes = 0;
        FetchableTopicResponse topicResponse = null;
        for (int i = 0; i < wanted.size(); i++) {
            Wanted w = wanted.get(i);
            FetchPartitionData found = read.get(i);
            PartitionData data = new PartitionData().setPartitionIndex(w.partition())
                    .setHighWatermark(found.highWatermark()).setLastStableOffset(found.lastStableOffset())
                    .setLogStartOffset(version >= 5 ? found.logStartOffset() : -1).setRecords(MemoryRecords.EMPTY);
            boolean unknownId = byId && w.topic() == null;
            Errors error = found.error() != Errors.UNKNOWN_TOPIC_OR_PARTITION ? found.error()
                    : unknownId ? Errors.UNKNOWN_TOPIC_ID : NotHere.error(w.topic(), w.partition());
            data.setErrorCode(error.code());
            if (error == Errors.NONE) {
                if (readCommitted) {
                    data.setAbortedTransactions(found.abortedTransactions() == null ? new ArrayList<>()
                            : new ArrayList<>(found.abortedTransactions()));
                }
                if (found.records() != null) {
                    if (legacyMagic >= 0) {
                        int budget = Math.max(0, Math.min(w.maxBytes(), maxBytes - bytes));
                        bytes += convertLegacy(found, reads.get(i), budget, bytes == 0, legacyMagic, data);
                    } else {
                        data.setRecords(found.records());
                        bytes += found.records().sizeInBytes();
                    }
                }
            }
            boolean hasRecords = data.records() != null && data.records().sizeInBytes() > 0;
            if (w.cached() != null) {
                boolean changed = w.cached().mustRespond(hasRecords, error != Errors.NONE, data.highWatermark(),
                        data.lastStableOffset(), data.logStartOffset());
                if (onlyChanges && !changed) {
                    continue;
                }
            }
            boolean sameTopic = topicResponse != null && (byId ? topicResponse.topicId().equals(w.topicId())
                    : topicResponse.topic().equals(w.topicName()));
            if (!sameTopic) {
                topicResponse = new FetchableTopicResponse().setTopic(byId ? "" : w.topicName())
                        .setTopicId(byId ? w.topicId() : Uuid.ZERO_UUID);
                response.responses().add(topicResponse);
            }
            topicResponse.partitions().add(data);
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
