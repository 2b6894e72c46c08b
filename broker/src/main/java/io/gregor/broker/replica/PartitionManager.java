package io.gregor.broker.replica;

import io.gregor.broker.config.BrokerConfig;
import io.gregor.broker.config.BrokerConfigs;
import io.gregor.broker.config.TopicConfigs;
import io.gregor.metadata.MetadataImage;
import io.gregor.metadata.MetadataManager;
import io.gregor.metadata.PartitionRegistration;
import io.gregor.metadata.TopicImage;
import io.gregor.replication.Partition;
import io.gregor.replication.ReplicaFetcherManager;
import io.gregor.replication.ReplicaManager;
import io.gregor.storage.Log;
import io.gregor.storage.LogConfig;
import io.gregor.storage.LogManager;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import org.apache.kafka.common.Uuid;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The partitions this node hosts, kept in line with the metadata image: creates logs for the partitions whose
 * registration names this node and hands them to the {@link ReplicaManager}, deletes them with their topic (or when
 * they move away), applies config changes. Reads and
 * appends are the replica manager's.
 */
public final class PartitionManager implements MetadataManager.Listener {
    private static final Logger log = LoggerFactory.getLogger(PartitionManager.class);
    private static final String PARTITION_METADATA = "partition.metadata";
    private static final String LEADER_THROTTLED_REPLICAS = "leader.replication.throttled.replicas";
    private static final String FOLLOWER_THROTTLED_REPLICAS = "follower.replication.throttled.replicas";

    private final LogManager logManager;
    private final ReplicaManager replicas;
    private final int nodeId;
    private final ReplicaFetcherManager fetchers;
    private volatile BrokerConfig config;

    public PartitionManager(BrokerConfig config, LogManager logManager, ReplicaManager replicas,
                            ReplicaFetcherManager fetchers) {
        this.config = config;
        this.nodeId = config.nodeId();
        this.fetchers = fetchers;
        this.logManager = logManager;
        this.replicas = replicas;
        applyThrottleRates(config);
    }

    private void applyThrottleRates(BrokerConfig current) {
        replicas.leaderQuota().setLimit(Long.parseLong(current.valueString(BrokerConfigs.LEADER_REPLICATION_THROTTLED_RATE)));
        replicas.followerQuota().setLimit(Long.parseLong(
                current.valueString(BrokerConfigs.FOLLOWER_REPLICATION_THROTTLED_RATE)));
    }

    /**
     * Whether a topic's {@code leader.replication.throttled.replicas} or {@code follower.replication.throttled.replicas}
     * value names partition {@code partition} on node {@code nodeId}: {@code *}, or a list of partition:node pairs.
     */
    static boolean throttledHere(String value, int partition, int nodeId) {
        if (value == null || value.isBlank()) {
            return false;
        }
        String wanted = partition + ":" + nodeId;
        for (String entry : value.split(",")) {
            String e = entry.trim();
            if (e.equals("*") || e.equals(wanted)) {
                return true;
            }
        }
        return false;
    }

    private void applyThrottles(TopicImage topic, Partition partition) {
        partition.setThrottled(
                throttledHere(topic.configs().get(LEADER_THROTTLED_REPLICAS), partition.index(), nodeId),
                throttledHere(topic.configs().get(FOLLOWER_THROTTLED_REPLICAS), partition.index(), nodeId));
    }

    public Partition partition(String topic, int index) {
        return replicas.partition(topic, index);
    }

    public Collection<Partition> partitions() {
        return replicas.partitions();
    }

    public LogManager logManager() {
        return logManager;
    }

    public void updateBrokerConfig(BrokerConfig newConfig, MetadataImage image) {
        this.config = newConfig;
        applyThrottleRates(newConfig);
        for (TopicImage topic : image.topics()) {
            applyConfigs(topic);
        }
    }

    /**
     * Whether this node holds a replica of partition {@code index}: the registration names it, or the partition has
     * none (created before clustering, on this node).
     */
    public static boolean hosts(TopicImage topic, int index, int nodeId) {
        var registration = topic.registration(index);
        return registration == null || registration.hasReplica(nodeId);
    }

    @Override
    public synchronized void onImage(MetadataImage previous, MetadataImage next) {
        for (TopicImage old : previous.topics()) {
            TopicImage now = next.topic(old.id());
            if (now == null) {
                removeTopic(old);
            }
        }
        for (TopicImage topic : next.topics()) {
            TopicImage before = previous.topic(topic.id());
            if (before != null && before.partitions() == topic.partitions()
                    && before.registrations().equals(topic.registrations())) {
                if (!before.configs().equals(topic.configs())) {
                    applyConfigs(topic);
                }
                continue;
            }
            LogConfig logConfig = null; // the same for every partition of the topic: computed once
            for (int p = 0; p < topic.partitions(); p++) {
                if (hosts(topic, p, nodeId)) {
                    if (logConfig == null && replicas.partition(topic.name(), p) == null) {
                        logConfig = TopicConfigs.logConfig(topic.configs(), config);
                    }
                    ensurePartition(topic, p, logConfig);
                    applyRegistration(topic, p);
                } else if (replicas.partition(topic.name(), p) != null) {
                    // Moved to other nodes (replica reassignment): this node no longer holds it.
                    fetchers.stopFollowing(replicas.partition(topic.name(), p));
                    replicas.removePartition(topic.name(), p);
                    logManager.delete(topic.name(), p);
                    log.info("Partition {}-{} is no longer held by node {}; deleted its log", topic.name(), p, nodeId);
                }
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
            if (owner == null || index >= owner.partitions() || !hosts(owner, index, nodeId)) {
                log.info("Deleting stray partition directory {} (no such partition in the metadata)", dirName);
                logManager.delete(topic, index);
            }
        }
    }

    private void ensurePartition(TopicImage topic, int index, LogConfig logConfig) {
        if (replicas.partition(topic.name(), index) != null) {
            return;
        }
        Log existing = logManager.get(topic.name(), index);
        if (existing != null && !topic.id().equals(readTopicId(existing.dir()))) {
            log.info("Partition directory {} belongs to an older topic of that name; deleting it", existing.dir());
            logManager.delete(topic.name(), index);
        }
        Log partitionLog = logManager.getOrCreate(topic.name(), index, logConfig);
        writeTopicId(partitionLog.dir(), topic.id());
        Partition partition = replicas.addPartition(topic.name(), topic.id(), index, partitionLog,
                TopicConfigs.minInsyncReplicas(topic.configs(), config));
        partition.updateConfig(TopicConfigs.minInsyncReplicas(topic.configs(), config),
                TopicConfigs.effective(TopicConfigs.COMPRESSION_TYPE, topic.configs(), config));
        applyThrottles(topic, partition);
    }

    /** The partition's replication state as its registration gives it (leader, epochs, replicas, ISR). */
    private void applyRegistration(TopicImage topic, int index) {
        PartitionRegistration registration = topic.registration(index);
        Partition partition = replicas.partition(topic.name(), index);
        if (registration == null || partition == null) {
            return;
        }
        Partition.State next = new Partition.State(registration.leader(), registration.leaderEpoch(),
                registration.partitionEpoch(), registration.replicas(), registration.isr());
        Partition.State current = partition.state();
        boolean fresh = !started.contains(partition);
        if (next.equals(current) && !fresh) {
            return;
        }
        if (registration.leaderEpoch() < current.leaderEpoch() && current.partitionEpoch() > 0) {
            log.warn("Registration of {} goes back from leader epoch {} to {}; ignored", partition,
                    current.leaderEpoch(), registration.leaderEpoch());
            return;
        }
        partition.updateState(next);
        if (fresh) {
            partition.forgetHighWatermarkIfReplicated();
        }
        started.add(partition);
        replicas.onStateChange(partition);
        if (next.leaderId() != current.leaderId() || next.leaderEpoch() != current.leaderEpoch() || fresh) {
            if (next.leaderId() == nodeId || next.leaderId() < 0) {
                // Leading (or nobody leads): nothing to copy from anyone.
                fetchers.stopFollowing(partition);
            } else {
                // Following the new leader: truncate to where both logs agree, then copy from there.
                fetchers.follow(partition, next.leaderId());
            }
            if (!fresh) {
                log.info("Partition {}: leader {} (epoch {}), replicas {}, ISR {}", partition,
                        next.leaderId() < 0 ? "none" : "node " + next.leaderId(), next.leaderEpoch(), next.replicas(),
                        next.isr());
            }
        }
    }

    /** Partitions whose registration was applied since they were opened. */
    private final java.util.Set<Partition> started = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private void removeTopic(TopicImage topic) {
        for (int p = 0; p < topic.partitions(); p++) {
            Partition gone = replicas.removePartition(topic.name(), p);
            if (gone != null) {
                fetchers.stopFollowing(gone);
                started.remove(gone);
                logManager.delete(topic.name(), p);
            }
        }
        log.info("Deleted topic {} ({} partitions)", topic.name(), topic.partitions());
    }

    private void applyConfigs(TopicImage topic) {
        for (int p = 0; p < topic.partitions(); p++) {
            Partition partition = replicas.partition(topic.name(), p);
            if (partition != null) {
                partition.log().updateConfig(TopicConfigs.logConfig(topic.configs(), config));
                partition.updateConfig(TopicConfigs.minInsyncReplicas(topic.configs(), config),
                        TopicConfigs.effective(TopicConfigs.COMPRESSION_TYPE, topic.configs(), config));
                applyThrottles(topic, partition);
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

}
