package io.gregor.broker.group;

import io.gregor.broker.metadata.TopicOperations;
import io.gregor.broker.replica.Partition;
import io.gregor.broker.replica.PartitionManager;
import io.gregor.storage.FetchSlice;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.errors.CoordinatorNotAvailableException;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.Record;
import org.apache.kafka.common.record.RecordBatch;
import org.apache.kafka.common.record.SimpleRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The coordinator's records in partition 0 of the internal topic {@code __consumer_offsets}: appended with acks=-1
 * (the future completes after fsync) and replayed from the start when the broker starts. Thread-safe.
 */
public final class GroupStore implements GroupLog {
    public static final String TOPIC = "__consumer_offsets";
    private static final Logger log = LoggerFactory.getLogger(GroupStore.class);
    private static final int READ_BYTES = 1 << 20;

    private final PartitionManager partitions;

    public GroupStore(PartitionManager partitions) {
        this.partitions = partitions;
    }

    /**
     * Creates {@code __consumer_offsets} (one partition) unless it exists: compacted, so the log cleaner keeps the
     * latest record of each group and offset, with {@code offsets.topic.segment.bytes} (Kafka's default 100 MiB) as
     * its segment size, so that segments roll and can be cleaned. An existing topic keeps its settings.
     */
    public static void ensureTopic(TopicOperations topics, int segmentBytes) {
        var results = topics.create(List.of(new TopicOperations.NewTopic(TOPIC, 1, (short) 1,
                Map.of("cleanup.policy", "compact", "retention.ms", "-1", "retention.bytes", "-1",
                        "segment.bytes", String.valueOf(segmentBytes)))), false).join();
        var error = results.get(0).error();
        if (!error.isSuccess() && error.error() != Errors.TOPIC_ALREADY_EXISTS) {
            throw new IllegalStateException("Cannot create " + TOPIC + ": " + error.message());
        }
    }

    @Override
    public CompletableFuture<Void> append(List<GroupRecord> records) {
        Partition partition = partitions.partition(TOPIC, 0);
        if (partition == null) {
            return CompletableFuture.failedFuture(new CoordinatorNotAvailableException(TOPIC + " is not available"));
        }
        SimpleRecord[] simple = new SimpleRecord[records.size()];
        long now = System.currentTimeMillis();
        for (int i = 0; i < simple.length; i++) {
            simple[i] = new SimpleRecord(now, records.get(i).key(), records.get(i).value());
        }
        ByteBuffer batch = MemoryRecords.withRecords(Compression.NONE, simple).buffer();
        try {
            return partitions.append(partition, batch, (short) -1).thenApply(info -> null);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** Feeds every stored record, oldest first, to {@code sink}; returns how many there were. */
    public long replay(Consumer<GroupRecord> sink) {
        Partition partition = partitions.partition(TOPIC, 0);
        if (partition == null) {
            return 0;
        }
        var partitionLog = partition.log();
        long offset = partitionLog.logStartOffset();
        long end = partitionLog.logEndOffset();
        long count = 0;
        while (offset < end) {
            FetchSlice slice = partitionLog.read(offset, READ_BYTES, end, true);
            if (slice.isEmpty()) {
                break;
            }
            ByteBuffer bytes = ByteBuffer.allocate(slice.size());
            try {
                while (bytes.hasRemaining()) {
                    if (slice.channel().read(bytes, slice.position() + bytes.position()) < 0) {
                        break;
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException("Reading " + TOPIC + " at offset " + offset + " failed", e);
            }
            bytes.flip();
            for (RecordBatch batch : MemoryRecords.readableRecords(bytes).batches()) {
                for (Record record : batch) {
                    if (record.offset() < offset || !record.hasKey()) {
                        continue;
                    }
                    try {
                        sink.accept(GroupRecord.decode(record.key(), record.hasValue() ? record.value() : null));
                        count++;
                    } catch (RuntimeException e) {
                        log.warn("Skipping unreadable record at offset {} of {}: {}", record.offset(), TOPIC, e.toString());
                    }
                }
            }
            offset = slice.lastOffset() + 1;
        }
        return count;
    }
}
