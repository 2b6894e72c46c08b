package io.gregor.metadata;

import java.io.DataInputStream;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.kafka.common.Uuid;

/**
 * The changes the metadata log records. Each entry of the log is a batch of these, applied atomically. Entries are
 * written in format 1, the versioned schemas of {@link MetadataRecordSchemas}. Format 0, the hand-written layout of
 * the first release, is still read, so that its logs and snapshots replay:
 *
 * <pre>
 * entry (format 0) := format:int8 (=0) count:int32 record*
 * record           := type:int8 fields...   (strings: modified UTF-8)
 * </pre>
 */
public sealed interface MetadataRecord {

    record TopicCreated(String name, Uuid id, int partitions, Map<String, String> configs) implements MetadataRecord {
    }

    record TopicDeleted(Uuid id) implements MetadataRecord {
    }

    record PartitionsAdded(Uuid id, int newCount) implements MetadataRecord {
    }

    /** Replaces a topic's whole override map. */
    record TopicConfigsSet(Uuid id, Map<String, String> configs) implements MetadataRecord {
    }

    /** Replaces the dynamic broker-level overrides (cluster-wide defaults). */
    record BrokerConfigsSet(Map<String, String> configs) implements MetadataRecord {
    }

    /** Replaces the dynamic broker overrides of node {@code nodeId} (over the cluster-wide ones). */
    record NodeConfigsSet(int nodeId, Map<String, String> configs) implements MetadataRecord {
    }

    /** Producer ids below {@code nextBlockStart} have been handed out. */
    record ProducerIdsAllocated(long nextBlockStart) implements MetadataRecord {
    }

    /** The cluster id, written once by the first node. */
    record ClusterIdSet(String clusterId) implements MetadataRecord {
    }

    /**
     * A feature's finalized level (KIP-584: UpdateFeatures, {@code kafka-features.sh}), replacing the level the nodes'
     * configuration gives until the first such record; level 0 finalizes the feature as off.
     */
    record FeatureLevelSet(String feature, short level) implements MetadataRecord {
    }

    /**
     * A node registered (or registered again after a restart, with a new incarnation id). Its broker epoch is the index
     * of the entry holding this record ({@code epoch} -1), or, in a snapshot, the epoch it was given then.
     */
    record BrokerRegistered(int nodeId, Uuid incarnationId, java.util.List<BrokerRegistration.Endpoint> endpoints,
                            String rack, long epoch, boolean fenced) implements MetadataRecord {
        public BrokerRegistered(int nodeId, Uuid incarnationId, java.util.List<BrokerRegistration.Endpoint> endpoints,
                                String rack) {
            this(nodeId, incarnationId, endpoints, rack, -1, false);
        }
    }

    /** The active controller fenced (a silent or shutting-down node) or unfenced a node of broker epoch {@code epoch}. */
    record BrokerFenceChanged(int nodeId, long epoch, boolean fenced) implements MetadataRecord {
    }

    /** The whole registration of one partition: written at creation and at every change (leader, ISR, replicas). */
    record PartitionState(Uuid topicId, int partition, PartitionRegistration registration) implements MetadataRecord {
    }

    /** An entry holding {@code records}, in the current format. */
    static byte[] encode(java.util.List<MetadataRecord> records) {
        return MetadataRecordSchemas.encode(records);
    }

    /** The records of an entry of any format this release knows. */
    static java.util.List<MetadataRecord> decode(byte[] entry) {
        if (entry.length == 0) {
            throw new IllegalStateException("empty metadata entry");
        }
        int format = entry[0];
        if (format == MetadataRecordSchemas.ENTRY_FORMAT) {
            try {
                return MetadataRecordSchemas.decode(java.nio.ByteBuffer.wrap(entry, 1, entry.length - 1));
            } catch (RuntimeException e) {
                if (e instanceof IllegalStateException) {
                    throw e;
                }
                throw new IllegalStateException("corrupt metadata entry: " + e.getMessage(), e);
            }
        }
        if (format != 0) {
            throw new IllegalStateException("unknown metadata entry format " + format + " (written by a newer release?)");
        }
        return decodeFormat0(entry);
    }

    /** Format 0 as the first release wrote it (kept to read old logs and snapshots; nothing writes it). */
    private static java.util.List<MetadataRecord> decodeFormat0(byte[] entry) {
        try (DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(entry))) {
            in.readByte();
            int count = in.readInt();
            java.util.List<MetadataRecord> records = new java.util.ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                records.add(read(in));
            }
            return records;
        } catch (IOException e) {
            throw new IllegalStateException("corrupt metadata entry", e);
        }
    }

    private static MetadataRecord read(DataInputStream in) throws IOException {
        int type = in.readByte();
        return switch (type) {
            case 1 -> new TopicCreated(in.readUTF(), readUuid(in), in.readInt(), readMap(in));
            case 2 -> new TopicDeleted(readUuid(in));
            case 3 -> new PartitionsAdded(readUuid(in), in.readInt());
            case 4 -> new TopicConfigsSet(readUuid(in), readMap(in));
            case 5 -> new BrokerConfigsSet(readMap(in));
            case 6 -> new ProducerIdsAllocated(in.readLong());
            case 7 -> new ClusterIdSet(in.readUTF());
            default -> throw new IOException("unknown metadata record type " + type);
        };
    }

    private static Uuid readUuid(DataInputStream in) throws IOException {
        return new Uuid(in.readLong(), in.readLong());
    }

    private static Map<String, String> readMap(DataInputStream in) throws IOException {
        int n = in.readInt();
        Map<String, String> map = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            map.put(in.readUTF(), in.readUTF());
        }
        return map;
    }
}
