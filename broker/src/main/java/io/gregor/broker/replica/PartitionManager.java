package io.gregor.broker.replica;

import io.gregor.broker.config.BrokerConfig;
import io.gregor.broker.config.TopicConfigs;
import io.gregor.broker.metadata.MetadataImage;
import io.gregor.broker.metadata.MetadataManager;
import io.gregor.broker.metadata.TopicImage;
import io.gregor.storage.GroupCommitFlusher;
import io.gregor.storage.Log;
import io.gregor.storage.LogAppendInfo;
import io.gregor.storage.LogManager;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.common.Uuid;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The partitions this node hosts, kept in line with the metadata image: creates logs for new topics and partitions,
 * deletes them with their topic, applies config changes; appends with the durability the producer asked for.
 */
public final class PartitionManager implements MetadataManager.Listener, GroupCommitFlusher.FlushListener, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(PartitionManager.class);
    private static final String PARTITION_METADATA = "partition.metadata";

    /** Partition key: topic name and index. */
    public record Key(String topic, int partition) {
    }

    private final LogManager logManager;
    private final GroupCommitFlusher flusher;
    private final DelayedOperations delayed;
    private final ConcurrentHashMap<Key, Partition> partitions = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<Log, Partition> byLog = new ConcurrentHashMap<>();
    private volatile BrokerConfig config;

    public PartitionManager(BrokerConfig config, LogManager logManager, DelayedOperations delayed) {
        this.config = config;
        this.logManager = logManager;
        this.delayed = delayed;
        this.flusher = new GroupCommitFlusher("gregor-flusher", this);
    }

    public Partition partition(String topic, int index) {
        return partitions.get(new Key(topic, index));
    }

    public Collection<Partition> partitions() {
        return partitions.values();
    }

    public LogManager logManager() {
        return logManager;
    }

    public void updateBrokerConfig(BrokerConfig newConfig, MetadataImage image) {
        this.config = newConfig;
        for (TopicImage topic : image.topics()) {
            applyConfigs(topic);
        }
    }

    @Override
    public void onImage(MetadataImage previous, MetadataImage next) {
        for (TopicImage old : previous.topics()) {
            TopicImage now = next.topic(old.id());
            if (now == null) {
                removeTopic(old);
            }
        }
        for (TopicImage topic : next.topics()) {
            TopicImage before = previous.topic(topic.id());
            for (int p = before == null ? 0 : before.partitions(); p < topic.partitions(); p++) {
                ensurePartition(topic, p);
            }
            if (before != null && !before.configs().equals(topic.configs())) {
                applyConfigs(topic);
            }
        }
    }

    /** Removes partition directories that no topic of the image owns (deleted while this node was down). */
    public void removeStrayLogs(MetadataImage image) {
        for (String dirName : logManager.existingPartitionDirs()) {
            int dash = dirName.lastIndexOf('-');
            if (dash <= 0) {
                continue;
            }
            String topic = dirName.substring(0, dash);
            int index;
            try {
                index = Integer.parseInt(dirName.substring(dash + 1));
            } catch (NumberFormatException e) {
                continue;
            }
            TopicImage owner = image.topic(topic);
            if (owner == null || index >= owner.partitions()) {
                log.info("Deleting stray partition directory {} (no such partition in the metadata)", dirName);
                logManager.delete(topic, index);
            }
        }
    }

    private void ensurePartition(TopicImage topic, int index) {
        Key key = new Key(topic.name(), index);
        if (partitions.containsKey(key)) {
            return;
        }
        Log existing = logManager.get(topic.name(), index);
        if (existing != null && !topic.id().equals(readTopicId(existing.dir()))) {
            log.info("Partition directory {} belongs to an older topic of that name; deleting it", existing.dir());
            logManager.delete(topic.name(), index);
        }
        Log partitionLog = logManager.getOrCreate(topic.name(), index, TopicConfigs.logConfig(topic.configs(), config));
        writeTopicId(partitionLog.dir(), topic.id());
        if (partitionLog.highWatermark() < partitionLog.flushedOffset()) {
            partitionLog.updateHighWatermark(partitionLog.flushedOffset());
        }
        Partition partition = new Partition(topic.name(), topic.id(), index, partitionLog, Math.max(0, partitionLog.latestEpoch()),
                TopicConfigs.minInsyncReplicas(topic.configs(), config));
        partition.setCompressionType(TopicConfigs.effective(TopicConfigs.COMPRESSION_TYPE, topic.configs(), config));
        partitions.put(key, partition);
        byLog.put(partitionLog, partition);
    }

    private void removeTopic(TopicImage topic) {
        for (int p = 0; p < topic.partitions(); p++) {
            Partition removed = partitions.remove(new Key(topic.name(), p));
            if (removed != null) {
                byLog.remove(removed.log());
                logManager.delete(topic.name(), p);
            }
        }
        log.info("Deleted topic {} ({} partitions)", topic.name(), topic.partitions());
    }

    private void applyConfigs(TopicImage topic) {
        for (int p = 0; p < topic.partitions(); p++) {
            Partition partition = partitions.get(new Key(topic.name(), p));
            if (partition != null) {
                partition.log().updateConfig(TopicConfigs.logConfig(topic.configs(), config));
                partition.setMinInsyncReplicas(TopicConfigs.minInsyncReplicas(topic.configs(), config));
                partition.setCompressionType(TopicConfigs.effective(TopicConfigs.COMPRESSION_TYPE, topic.configs(), config));
            }
        }
    }

    private static Uuid readTopicId(Path dir) {
        try {
            for (String line : Files.readAllLines(dir.resolve(PARTITION_METADATA))) {
                if (line.startsWith("topic_id:")) {
                    return Uuid.fromString(line.substring("topic_id:".length()).trim());
                }
            }
        } catch (IOException | IllegalArgumentException e) {
            return null;
        }
        return null;
    }

    private static void writeTopicId(Path dir, Uuid id) {
        Path file = dir.resolve(PARTITION_METADATA);
        try {
            if (!id.equals(readTopicId(dir))) {
                Path tmp = dir.resolve(PARTITION_METADATA + ".tmp");
                Files.writeString(tmp, "version: 0\ntopic_id: " + id + "\n", StandardCharsets.UTF_8);
                Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            }
        } catch (IOException e) {
            log.warn("Cannot write {}: {}", file, e.toString());
        }
    }

    /**
     * Appends producer batches. acks=-1 completes after an fsync covering the batches (group commit); acks=0/1
     * complete after the write, and the flusher syncs soon after.
     */
    public CompletableFuture<LogAppendInfo> append(Partition partition, ByteBuffer records, short acks) {
        if (acks == -1) {
            Appended appended = appendDurably(partition, records);
            return appended.durable().thenApply(v -> appended.info());
        }
        LogAppendInfo info = partition.log().append(records, partition.leaderEpoch());
        flusher.markDirty(partition.log());
        return CompletableFuture.completedFuture(info);
    }

    /** An append whose offsets are known at once and whose durability comes later. */
    public record Appended(LogAppendInfo info, CompletableFuture<Void> durable) {
    }

    /**
     * Appends {@code records} now and returns their offsets without waiting; {@code durable} completes once they are
     * fsynced (concurrent appends share fsyncs). Coordinators use it: they replay their records at once and answer
     * after the commit.
     */
    public Appended appendDurably(Partition partition, ByteBuffer records) {
        LogAppendInfo info = partition.log().append(records, partition.leaderEpoch());
        return new Appended(info, flusher.flush(partition.log(), info.lastOffset() + 1));
    }

    @Override
    public void onFlushed(Log flushedLog, long flushedOffset) {
        Partition partition = byLog.get(flushedLog);
        boolean advanced;
        // Flushes of one log may report from two threads (inline and group commit): only ever move the HW forward.
        synchronized (flushedLog) {
            advanced = flushedOffset > flushedLog.highWatermark();
            if (advanced) {
                flushedLog.updateHighWatermark(flushedOffset);
            }
        }
        if (advanced && partition != null) {
            delayed.onChange(partition);
        }
    }

    public Map<Key, Partition> snapshot() {
        return Map.copyOf(partitions);
    }

    @Override
    public void close() {
        flusher.close();
    }
}
