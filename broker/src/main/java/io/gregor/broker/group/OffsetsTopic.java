package io.gregor.broker.group;

import io.gregor.broker.controller.TopicOperations;
import io.gregor.coordinator.group.GroupCoordinatorService;
import io.gregor.coordinator.group.GroupRecord;
import io.gregor.coordinator.group.LegacyGroupRecords;
import io.gregor.coordinator.runtime.CoordinatorLog;
import io.gregor.metadata.ApiError;
import io.gregor.metadata.MetadataCache;
import io.gregor.replication.FileSliceRecords;
import io.gregor.replication.Partition;
import io.gregor.replication.ReplicaManager;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.function.BiConsumer;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.errors.NotLeaderOrFollowerException;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.Record;
import org.apache.kafka.common.record.RecordBatch;
import org.apache.kafka.common.record.SimpleRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The partitions of {@code __consumer_offsets} as the group coordinator's log: its records are appended as one batch
 * per operation (durable once fsynced, concurrent operations sharing fsyncs) and read back from the start when a
 * partition's shard loads. Thread-safe.
 */
public final class OffsetsTopic implements CoordinatorLog<GroupRecord> {
    public static final String TOPIC = GroupCoordinatorService.TOPIC;
    private static final Logger log = LoggerFactory.getLogger(OffsetsTopic.class);
    private static final int READ_BYTES = 1 << 20;

    private final ReplicaManager partitions;

    public OffsetsTopic(ReplicaManager partitions) {
        this.partitions = partitions;
    }

    /**
     * Creates {@code __consumer_offsets} unless it exists: {@code numPartitions} partitions, as many replicas as
     * {@code replicationFactor} asks and the cluster has live brokers (Kafka refuses instead; a single node needs no
     * setting), compacted, so the log cleaner keeps the latest record of each key, with {@code segmentBytes}
     * (offsets.topic.segment.bytes) as its segment size. An existing topic keeps its settings and partition count.
     *
     * <p>{@code create} creates a topic where the metadata can change (here on the active controller, or by asking
     * it) and completes with the outcome.
     *
     * @return the topic's partition count
     */
    /** Creation through {@code topics}, on the active controller. */
    public static Function<TopicOperations.NewTopic, CompletableFuture<ApiError>> createWith(TopicOperations topics) {
        return topic -> topics.create(List.of(topic), false).thenApply(results -> results.get(0).error());
    }

    public static int ensureTopic(MetadataCache metadata,
                                  Function<TopicOperations.NewTopic, CompletableFuture<ApiError>> create,
                                  int numPartitions, short replicationFactor, int liveBrokers, int segmentBytes) {
        if (metadata.image().topic(TOPIC) == null) {
            short replicas = (short) Math.max(1, Math.min(replicationFactor, liveBrokers));
            ApiError error = create.apply(new TopicOperations.NewTopic(TOPIC, numPartitions, replicas,
                    Map.of("cleanup.policy", "compact", "retention.ms", "-1", "retention.bytes", "-1",
                            "segment.bytes", String.valueOf(segmentBytes)))).join();
            if (!error.isSuccess() && error.error() != Errors.TOPIC_ALREADY_EXISTS) {
                throw new IllegalStateException("Cannot create " + TOPIC + ": " + error.message());
            }
        }
        // Created by the active controller, perhaps on another node: wait until this node has applied it.
        if (!metadata.awaitImage(image -> image.topic(TOPIC) != null, java.time.Duration.ofSeconds(30))) {
            throw new IllegalStateException(TOPIC + " was created but has not reached this node's metadata");
        }
        return metadata.image().topic(TOPIC).partitions();
    }

    @Override
    public Append append(int partition, List<GroupRecord> records) {
        return appendKeyValues(partitions, TOPIC, partition, records.stream()
                .map(r -> new byte[][] {r.keyBytes(), r.valueBytes()}).toList());
    }

    /**
     * Appends one batch of keyed records ({key, value}; a null value is a tombstone) to a partition of a
     * coordinator's internal topic, durable as acks=all; for every coordinator log.
     */
    public static Append appendKeyValues(ReplicaManager partitions, String topic, int partition, List<byte[][]> records) {
        Partition p = partitions.partition(topic, partition);
        if (p == null) {
            throw new NotLeaderOrFollowerException("Partition " + partition + " of " + topic + " is not on this node");
        }
        SimpleRecord[] simple = new SimpleRecord[records.size()];
        long now = System.currentTimeMillis();
        for (int i = 0; i < simple.length; i++) {
            simple[i] = new SimpleRecord(now, records.get(i)[0], records.get(i)[1]);
        }
        ByteBuffer batch = MemoryRecords.withRecords(Compression.NONE, simple).buffer();
        ReplicaManager.Appended appended = partitions.appendForCoordinator(p, batch);
        return new Append(appended.baseOffset(), appended.committed());
    }

    @Override
    public Append appendTransactional(int partition, long producerId, short producerEpoch, List<GroupRecord> records) {
        Partition p = partitions.partition(TOPIC, partition);
        if (p == null) {
            throw new NotLeaderOrFollowerException("Partition " + partition + " of " + TOPIC + " is not on this node");
        }
        SimpleRecord[] simple = new SimpleRecord[records.size()];
        long now = System.currentTimeMillis();
        for (int i = 0; i < simple.length; i++) {
            simple[i] = new SimpleRecord(now, records.get(i).keyBytes(), records.get(i).valueBytes());
        }
        // Sequence 0: the coordinator writes these, not the producer, and the log checks only their epoch (as Kafka).
        ByteBuffer batch = MemoryRecords.withTransactionalRecords(Compression.NONE, producerId, producerEpoch, 0,
                simple).buffer();
        ReplicaManager.Appended appended = partitions.appendForCoordinator(p, batch);
        return new Append(appended.baseOffset(), appended.committed());
    }

    @Override
    public Append appendEndTransaction(int partition, long producerId, short producerEpoch, boolean commit,
                                       int coordinatorEpoch) {
        Partition p = partitions.partition(TOPIC, partition);
        if (p == null) {
            throw new NotLeaderOrFollowerException("Partition " + partition + " of " + TOPIC + " is not on this node");
        }
        ByteBuffer marker = MemoryRecords.withEndTransactionMarker(System.currentTimeMillis(), producerId, producerEpoch,
                new org.apache.kafka.common.record.EndTransactionMarker(commit
                        ? org.apache.kafka.common.record.ControlRecordType.COMMIT
                        : org.apache.kafka.common.record.ControlRecordType.ABORT, coordinatorEpoch)).buffer();
        ReplicaManager.Appended appended = partitions.appendForCoordinator(p, marker);
        return new Append(appended.baseOffset(), appended.committed());
    }

    @Override
    public long read(int partition, RecordSink<GroupRecord> sink) {
        long[] count = {0};
        scanBatches(partitions, TOPIC, partition, (batch, offset, record) -> {
            if (batch.isControlBatch()) {
                org.apache.kafka.common.record.ControlRecordType type =
                        org.apache.kafka.common.record.ControlRecordType.parse(record.key());
                if (type == org.apache.kafka.common.record.ControlRecordType.COMMIT
                        || type == org.apache.kafka.common.record.ControlRecordType.ABORT) {
                    sink.endTransaction(offset, batch.producerId(), batch.producerEpoch(),
                            type == org.apache.kafka.common.record.ControlRecordType.COMMIT);
                }
                return;
            }
            ByteBuffer key = record.key();
            if (LegacyGroupRecords.isLegacy(key)) {
                log.warn("Skipping a record of the old format at offset {} of {}-{}", offset, TOPIC, partition);
                return;
            }
            GroupRecord decoded;
            try {
                decoded = GroupRecord.read(key, record.hasValue() ? record.value() : null);
            } catch (IllegalArgumentException e) {
                log.warn("Skipping unreadable record at offset {} of {}-{}: {}", offset, TOPIC, partition, e.getMessage());
                return;
            }
            if (batch.isTransactional()) {
                sink.acceptTransactional(offset, batch.producerId(), batch.producerEpoch(), decoded);
            } else {
                sink.accept(offset, decoded);
            }
            count[0]++;
        });
        return count[0];
    }

    /** Whether the first keyed record of {@code partition} is of Gregor's old format (a data directory of 0.1). */
    boolean holdsLegacyRecords(int partition) {
        Partition p = partitions.partition(TOPIC, partition);
        if (p == null) {
            return false;
        }
        long offset = p.logStartOffset();
        long end = p.logEndOffset();
        while (offset < end) {
            FileSliceRecords slice = partitions.read(p, offset, 64 * 1024, end, true);
            if (slice == null) {
                return false;
            }
            for (RecordBatch batch : MemoryRecords.readableRecords(slice.readAll()).batches()) {
                for (Record record : batch) {
                    if (record.offset() >= offset && record.hasKey()) {
                        return LegacyGroupRecords.isLegacy(record.key());
                    }
                }
            }
            offset = slice.lastOffset() + 1;
        }
        return false;
    }

    /** Feeds every keyed record of {@code partition}, oldest first, to {@code sink}. */
    void scan(int partition, BiConsumer<Long, Record> sink) {
        scan(partitions, TOPIC, partition, sink);
    }

    /** Feeds every keyed record of a partition of a coordinator's internal topic, oldest first, to {@code sink}. */
    public static void scan(ReplicaManager partitions, String topic, int partition, BiConsumer<Long, Record> sink) {
        scanBatches(partitions, topic, partition, (batch, offset, record) -> {
            if (!batch.isControlBatch()) {
                sink.accept(offset, record);
            }
        });
    }

    /** Receives the keyed records of a scan with the batch that holds each (control batches included). */
    @FunctionalInterface
    public interface BatchRecordSink {
        void accept(RecordBatch batch, long offset, Record record);
    }

    /** Feeds every keyed record of a partition, control records included, oldest first, with its batch. */
    public static void scanBatches(ReplicaManager partitions, String topic, int partition, BatchRecordSink sink) {
        Partition p = partitions.partition(topic, partition);
        if (p == null) {
            throw new NotLeaderOrFollowerException("Partition " + partition + " of " + topic + " is not on this node");
        }
        long offset = p.logStartOffset();
        long end = p.logEndOffset();
        while (offset < end) {
            FileSliceRecords slice = partitions.read(p, offset, READ_BYTES, end, true);
            if (slice == null) {
                break;
            }
            for (RecordBatch batch : MemoryRecords.readableRecords(slice.readAll()).batches()) {
                for (Record record : batch) {
                    if (record.offset() >= offset && record.hasKey()) {
                        sink.accept(batch, record.offset(), record);
                    }
                }
            }
            offset = slice.lastOffset() + 1;
        }
    }
}
