package io.gregor.metadata;

import io.gregor.metadata.MetadataRecord.BrokerConfigsSet;
import io.gregor.metadata.MetadataRecord.ClusterIdSet;
import io.gregor.metadata.MetadataRecord.PartitionsAdded;
import io.gregor.metadata.MetadataRecord.ProducerIdsAllocated;
import io.gregor.metadata.MetadataRecord.TopicConfigsSet;
import io.gregor.metadata.MetadataRecord.TopicCreated;
import io.gregor.metadata.MetadataRecord.TopicDeleted;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.Uuid;

/**
 * An immutable view of the cluster metadata at one point of the metadata log. {@link #apply} returns a new image;
 * readers on any thread hold an image and see a consistent state.
 */
public final class MetadataImage {
    public static final MetadataImage EMPTY = new MetadataImage(Map.of(), Map.of(), Map.of(), 0, null, -1, Map.of(),
            Map.of(), Map.of());

    private final Map<String, TopicImage> byName;
    private final Map<Uuid, TopicImage> byId;
    private final Map<String, String> brokerConfigs;
    private final long nextProducerIdBlock;
    private final String clusterId;
    private final long offset;
    private final Map<Integer, BrokerRegistration> brokers;
    private final Map<Integer, Map<String, String>> nodeConfigs;
    /** Finalized feature levels set through UpdateFeatures, with the log offset that set each (its epoch). */
    private final Map<String, FeatureLevel> features;

    /** A finalized feature level and the metadata offset of the record that set it. */
    public record FeatureLevel(short level, long epoch) {
    }

    private MetadataImage(Map<String, TopicImage> byName, Map<Uuid, TopicImage> byId, Map<String, String> brokerConfigs,
                          long nextProducerIdBlock, String clusterId, long offset, Map<Integer, BrokerRegistration> brokers,
                          Map<Integer, Map<String, String>> nodeConfigs, Map<String, FeatureLevel> features) {
        this.features = features;
        this.brokers = brokers;
        this.nodeConfigs = nodeConfigs;
        this.byName = byName;
        this.byId = byId;
        this.brokerConfigs = brokerConfigs;
        this.nextProducerIdBlock = nextProducerIdBlock;
        this.clusterId = clusterId;
        this.offset = offset;
    }

    public TopicImage topic(String name) {
        return byName.get(name);
    }

    public TopicImage topic(Uuid id) {
        return byId.get(id);
    }

    public Collection<TopicImage> topics() {
        return byName.values();
    }

    public Map<String, String> brokerConfigs() {
        return brokerConfigs;
    }

    /** The dynamic broker overrides of node {@code nodeId} alone (empty when none); they win over {@link #brokerConfigs}. */
    public Map<String, String> nodeConfigs(int nodeId) {
        return nodeConfigs.getOrDefault(nodeId, Map.of());
    }

    public long nextProducerIdBlock() {
        return nextProducerIdBlock;
    }

    public String clusterId() {
        return clusterId;
    }

    /** Every registered node, fenced or not, by id. */
    public Map<Integer, BrokerRegistration> brokers() {
        return brokers;
    }

    public BrokerRegistration broker(int id) {
        return brokers.get(id);
    }

    /** The level of {@code feature} set through UpdateFeatures, or null when it was never set (the configured one applies). */
    public FeatureLevel feature(String feature) {
        return features.get(feature);
    }

    /** Index of the last metadata log entry applied. */
    public long offset() {
        return offset;
    }

    /** Applies one entry's records. Records that no longer fit (a topic deleted meanwhile) are skipped. */
    public MetadataImage apply(long newOffset, List<MetadataRecord> records) {
        Map<String, TopicImage> names = new HashMap<>(byName);
        Map<Uuid, TopicImage> ids = new HashMap<>(byId);
        Map<String, String> broker = brokerConfigs;
        long producerIds = nextProducerIdBlock;
        String cluster = clusterId;
        Map<Integer, BrokerRegistration> nodes = brokers;
        Map<Integer, Map<String, String>> perNode = nodeConfigs;
        Map<String, FeatureLevel> levels = features;
        // Partition registrations of this entry, by topic, put into their topics at once: an entry that registers
        // every partition of a large topic copies its map of registrations once, not once per partition.
        Map<Uuid, Map<Integer, PartitionRegistration>> registered = new java.util.LinkedHashMap<>();
        for (MetadataRecord record : records) {
            if (!(record instanceof MetadataRecord.PartitionState) && !registered.isEmpty()) {
                putRegistrations(names, ids, registered);
            }
            switch (record) {
                case TopicCreated t -> {
                    if (!names.containsKey(t.name()) && !ids.containsKey(t.id())) {
                        TopicImage topic = new TopicImage(t.name(), t.id(), t.partitions(), t.configs());
                        names.put(t.name(), topic);
                        ids.put(t.id(), topic);
                    }
                }
                case TopicDeleted t -> {
                    TopicImage topic = ids.remove(t.id());
                    if (topic != null) {
                        names.remove(topic.name());
                    }
                }
                case PartitionsAdded p -> replace(names, ids, p.id(), t -> t.withPartitions(Math.max(t.partitions(), p.newCount())));
                case TopicConfigsSet c -> replace(names, ids, c.id(), t -> t.withConfigs(c.configs()));
                case BrokerConfigsSet c -> broker = Map.copyOf(c.configs());
                case MetadataRecord.NodeConfigsSet n -> {
                    Map<Integer, Map<String, String>> next = new HashMap<>(perNode);
                    if (n.configs().isEmpty()) {
                        next.remove(n.nodeId());
                    } else {
                        next.put(n.nodeId(), Map.copyOf(n.configs()));
                    }
                    perNode = Map.copyOf(next);
                }
                case ProducerIdsAllocated p -> producerIds = Math.max(producerIds, p.nextBlockStart());
                case ClusterIdSet c -> cluster = cluster == null ? c.clusterId() : cluster;
                case MetadataRecord.FeatureLevelSet f -> {
                    Map<String, FeatureLevel> next = new HashMap<>(levels);
                    // In a snapshot the record stands for the entry that set it: keep the earlier epoch if it had one.
                    FeatureLevel previous = levels.get(f.feature());
                    next.put(f.feature(), previous != null && previous.level() == f.level() ? previous
                            : new FeatureLevel(f.level(), newOffset));
                    levels = Map.copyOf(next);
                }
                case MetadataRecord.BrokerRegistered b -> {
                    Map<Integer, BrokerRegistration> next = new HashMap<>(nodes);
                    next.put(b.nodeId(), new BrokerRegistration(b.nodeId(), b.incarnationId(),
                            b.epoch() >= 0 ? b.epoch() : newOffset, b.endpoints(), b.rack(), b.fenced()));
                    nodes = Map.copyOf(next);
                }
                case MetadataRecord.BrokerFenceChanged f -> {
                    BrokerRegistration current = nodes.get(f.nodeId());
                    if (current != null && current.epoch() == f.epoch()) {
                        Map<Integer, BrokerRegistration> next = new HashMap<>(nodes);
                        next.put(f.nodeId(), current.withFenced(f.fenced()));
                        nodes = Map.copyOf(next);
                    }
                }
                case MetadataRecord.PartitionState p -> {
                    TopicImage t = ids.get(p.topicId());
                    if (t != null && p.partition() < t.partitions()) {
                        registered.computeIfAbsent(p.topicId(), id -> new HashMap<>()).put(p.partition(), p.registration());
                    }
                }
            }
        }
        putRegistrations(names, ids, registered);
        return new MetadataImage(Map.copyOf(names), Map.copyOf(ids), broker, producerIds, cluster, newOffset, nodes,
                perNode, levels);
    }

    private static void putRegistrations(Map<String, TopicImage> names, Map<Uuid, TopicImage> ids,
                                         Map<Uuid, Map<Integer, PartitionRegistration>> registered) {
        registered.forEach((id, changed) -> replace(names, ids, id, t -> t.withRegistrations(changed)));
        registered.clear();
    }

    private static void replace(Map<String, TopicImage> names, Map<Uuid, TopicImage> ids, Uuid id,
                                java.util.function.UnaryOperator<TopicImage> change) {
        TopicImage topic = ids.get(id);
        if (topic != null) {
            TopicImage changed = change.apply(topic);
            ids.put(id, changed);
            names.put(changed.name(), changed);
        }
    }

    /** The records that rebuild this image from empty: the snapshot contents. */
    public List<MetadataRecord> toRecords() {
        List<MetadataRecord> records = new ArrayList<>();
        if (clusterId != null) {
            records.add(new ClusterIdSet(clusterId));
        }
        for (BrokerRegistration b : brokers.values()) {
            records.add(new MetadataRecord.BrokerRegistered(b.id(), b.incarnationId(), b.endpoints(), b.rack(), b.epoch(),
                    b.fenced()));
        }
        for (TopicImage t : byName.values()) {
            records.add(new TopicCreated(t.name(), t.id(), t.partitions(), t.configs()));
            t.registrations().forEach((p, r) -> records.add(new MetadataRecord.PartitionState(t.id(), p, r)));
        }
        if (!brokerConfigs.isEmpty()) {
            records.add(new BrokerConfigsSet(brokerConfigs));
        }
        nodeConfigs.forEach((id, configs) -> records.add(new MetadataRecord.NodeConfigsSet(id, configs)));
        features.forEach((name, level) -> records.add(new MetadataRecord.FeatureLevelSet(name, level.level())));
        records.add(new ProducerIdsAllocated(nextProducerIdBlock));
        return records;
    }
}
