package io.gregor.metadata;

import io.gregor.metadata.MetadataRecord.BrokerConfigsSet;
import io.gregor.metadata.MetadataRecord.BrokerRegistered;
import io.gregor.metadata.MetadataRecord.ClusterIdSet;
import io.gregor.metadata.MetadataRecord.PartitionState;
import io.gregor.metadata.MetadataRecord.PartitionsAdded;
import io.gregor.metadata.MetadataRecord.ProducerIdsAllocated;
import io.gregor.metadata.MetadataRecord.TopicConfigsSet;
import io.gregor.metadata.MetadataRecord.TopicCreated;
import io.gregor.metadata.MetadataRecord.TopicDeleted;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.protocol.types.ArrayOf;
import org.apache.kafka.common.protocol.types.Field;
import org.apache.kafka.common.protocol.types.Schema;
import org.apache.kafka.common.protocol.types.Struct;
import org.apache.kafka.common.protocol.types.Type;

/**
 * The metadata records as versioned schemas (Kafka's protocol schema types, the way Kafka defined its messages before
 * the JSON generator): each record type has an id and a list of versions; a record is written at its type's latest
 * version and read at whatever version it was written with. A new field means a new version here, never a change of
 * an existing one, so data directories of every earlier release stay readable.
 *
 * <pre>
 * entry (format 1) := format:int8 (=1) count:int32 (type:int16 version:int16 record)*
 * </pre>
 *
 * Format 0 (the first release: a hand-written layout per type) is still read, see {@link MetadataRecord}.
 */
final class MetadataRecordSchemas {
    static final byte ENTRY_FORMAT = 1;

    private static final Schema CONFIG = new Schema(
            new Field("name", Type.STRING, "config name"),
            new Field("value", Type.STRING, "config value"));

    private static final Schema TOPIC_CREATED_V0 = new Schema(
            new Field("name", Type.STRING, "topic name"),
            new Field("topic_id", Type.UUID, "topic id"),
            new Field("partitions", Type.INT32, "partition count"),
            new Field("configs", new ArrayOf(CONFIG), "topic config overrides"));
    private static final Schema TOPIC_DELETED_V0 = new Schema(
            new Field("topic_id", Type.UUID, "topic id"));
    private static final Schema PARTITIONS_ADDED_V0 = new Schema(
            new Field("topic_id", Type.UUID, "topic id"),
            new Field("new_count", Type.INT32, "partition count after the change"));
    private static final Schema TOPIC_CONFIGS_SET_V0 = new Schema(
            new Field("topic_id", Type.UUID, "topic id"),
            new Field("configs", new ArrayOf(CONFIG), "the whole override map"));
    private static final Schema BROKER_CONFIGS_SET_V0 = new Schema(
            new Field("configs", new ArrayOf(CONFIG), "the whole cluster-wide broker override map"));
    private static final Schema NODE_CONFIGS_SET_V0 = new Schema(
            new Field("node_id", Type.INT32, "node id"),
            new Field("configs", new ArrayOf(CONFIG), "the whole broker override map of that node"));
    private static final Schema PRODUCER_IDS_ALLOCATED_V0 = new Schema(
            new Field("next_block_start", Type.INT64, "producer ids below this were handed out"));
    private static final Schema CLUSTER_ID_SET_V0 = new Schema(
            new Field("cluster_id", Type.STRING, "cluster id"));

    private static final Schema FEATURE_LEVEL_SET_V0 = new Schema(
            new Field("feature", Type.STRING, "feature name"),
            new Field("level", Type.INT16, "finalized level"));

    private static final Schema ENDPOINT = new Schema(
            new Field("name", Type.STRING, "listener name"),
            new Field("host", Type.STRING, "host"),
            new Field("port", Type.INT32, "port"));
    private static final Schema BROKER_REGISTERED_V0 = new Schema(
            new Field("node_id", Type.INT32, "node id"),
            new Field("incarnation_id", Type.UUID, "new at every start of the node's process"),
            new Field("endpoints", new ArrayOf(ENDPOINT), "the node's listeners"),
            new Field("rack", Type.NULLABLE_STRING, "broker.rack"),
            new Field("epoch", Type.INT64, "broker epoch; -1: the index of this entry"),
            new Field("fenced", Type.BOOLEAN, "fenced (snapshots only; a registration is unfenced)"));
    private static final Schema PARTITION_STATE_V0 = new Schema(
            new Field("topic_id", Type.UUID, "topic id"),
            new Field("partition", Type.INT32, "partition index"),
            new Field("replicas", new ArrayOf(Type.INT32), "replica node ids, preferred leader first"),
            new Field("isr", new ArrayOf(Type.INT32), "in-sync replica node ids"),
            new Field("leader", Type.INT32, "leader node id, -1 for none"),
            new Field("leader_epoch", Type.INT32, "leader epoch"),
            new Field("partition_epoch", Type.INT32, "partition epoch"));

    /** Version 1: the replicas a reassignment adds and removes (KIP-455). */
    private static final Schema PARTITION_STATE_V1 = extend(PARTITION_STATE_V0,
            new Field("adding_replicas", new ArrayOf(Type.INT32), "replicas a running reassignment adds"),
            new Field("removing_replicas", new ArrayOf(Type.INT32), "replicas a running reassignment removes"));

    /** {@code base}'s fields followed by {@code added}: a version that only appends fields. */
    private static Schema extend(Schema base, Field... added) {
        java.util.List<Field> fields = new java.util.ArrayList<>();
        for (org.apache.kafka.common.protocol.types.BoundField f : base.fields()) {
            fields.add(f.def);
        }
        fields.addAll(java.util.List.of(added));
        return new Schema(fields.toArray(Field[]::new));
    }

    private static final Schema BROKER_FENCE_CHANGED_V0 = new Schema(
            new Field("node_id", Type.INT32, "node id"),
            new Field("epoch", Type.INT64, "the broker epoch the change is for"),
            new Field("fenced", Type.BOOLEAN, "fenced or unfenced"));

    /** Every record type with its schema versions (index = version). Ids are never reused. */
    enum RecordType {
        TOPIC_CREATED(1, TOPIC_CREATED_V0),
        TOPIC_DELETED(2, TOPIC_DELETED_V0),
        PARTITIONS_ADDED(3, PARTITIONS_ADDED_V0),
        TOPIC_CONFIGS_SET(4, TOPIC_CONFIGS_SET_V0),
        BROKER_CONFIGS_SET(5, BROKER_CONFIGS_SET_V0),
        PRODUCER_IDS_ALLOCATED(6, PRODUCER_IDS_ALLOCATED_V0),
        CLUSTER_ID_SET(7, CLUSTER_ID_SET_V0),
        BROKER_REGISTERED(8, BROKER_REGISTERED_V0),
        PARTITION_STATE(9, PARTITION_STATE_V0, PARTITION_STATE_V1),
        BROKER_FENCE_CHANGED(10, BROKER_FENCE_CHANGED_V0),
        NODE_CONFIGS_SET(11, NODE_CONFIGS_SET_V0),
        FEATURE_LEVEL_SET(12, FEATURE_LEVEL_SET_V0);

        final short id;
        final Schema[] versions;

        RecordType(int id, Schema... versions) {
            this.id = (short) id;
            this.versions = versions;
        }

        short latestVersion() {
            return (short) (versions.length - 1);
        }

        static RecordType of(short id) {
            for (RecordType t : values()) {
                if (t.id == id) {
                    return t;
                }
            }
            throw new IllegalStateException("unknown metadata record type " + id
                    + " (written by a newer release?)");
        }

        static RecordType of(MetadataRecord record) {
            return switch (record) {
                case TopicCreated t -> TOPIC_CREATED;
                case TopicDeleted t -> TOPIC_DELETED;
                case PartitionsAdded p -> PARTITIONS_ADDED;
                case TopicConfigsSet c -> TOPIC_CONFIGS_SET;
                case BrokerConfigsSet c -> BROKER_CONFIGS_SET;
                case ProducerIdsAllocated p -> PRODUCER_IDS_ALLOCATED;
                case ClusterIdSet c -> CLUSTER_ID_SET;
                case BrokerRegistered b -> BROKER_REGISTERED;
                case PartitionState p -> PARTITION_STATE;
                case MetadataRecord.BrokerFenceChanged f -> BROKER_FENCE_CHANGED;
                case MetadataRecord.NodeConfigsSet n -> NODE_CONFIGS_SET;
                case MetadataRecord.FeatureLevelSet f -> FEATURE_LEVEL_SET;
            };
        }
    }

    private MetadataRecordSchemas() {
    }

    static byte[] encode(List<MetadataRecord> records) {
        List<Struct> structs = new ArrayList<>(records.size());
        int size = 1 + 4;
        for (MetadataRecord record : records) {
            Struct struct = toStruct(record);
            structs.add(struct);
            size += 2 + 2 + struct.sizeOf();
        }
        ByteBuffer out = ByteBuffer.allocate(size);
        out.put(ENTRY_FORMAT).putInt(records.size());
        for (int i = 0; i < records.size(); i++) {
            RecordType type = RecordType.of(records.get(i));
            out.putShort(type.id).putShort(type.latestVersion());
            structs.get(i).writeTo(out);
        }
        return out.array();
    }

    /** Reads an entry of format 1; {@code in} is past the format byte. */
    static List<MetadataRecord> decode(ByteBuffer in) {
        int count = in.getInt();
        if (count < 0) {
            throw new IllegalStateException("corrupt metadata entry: " + count + " records");
        }
        List<MetadataRecord> records = new ArrayList<>(Math.min(count, 1024));
        for (int i = 0; i < count; i++) {
            RecordType type = RecordType.of(in.getShort());
            short version = in.getShort();
            if (version < 0 || version > type.latestVersion()) {
                throw new IllegalStateException("unknown version " + version + " of metadata record " + type
                        + " (written by a newer release?)");
            }
            records.add(fromStruct(type, version, type.versions[version].read(in)));
        }
        if (in.hasRemaining()) {
            throw new IllegalStateException("corrupt metadata entry: " + in.remaining() + " bytes after its records");
        }
        return records;
    }

    private static Struct toStruct(MetadataRecord record) {
        RecordType type = RecordType.of(record);
        Struct s = new Struct(type.versions[type.latestVersion()]);
        switch (record) {
            case TopicCreated t -> s.set("name", t.name()).set("topic_id", t.id()).set("partitions", t.partitions())
                    .set("configs", configs(s, t.configs()));
            case TopicDeleted t -> s.set("topic_id", t.id());
            case PartitionsAdded p -> s.set("topic_id", p.id()).set("new_count", p.newCount());
            case TopicConfigsSet c -> s.set("topic_id", c.id()).set("configs", configs(s, c.configs()));
            case BrokerConfigsSet c -> s.set("configs", configs(s, c.configs()));
            case MetadataRecord.NodeConfigsSet n -> s.set("node_id", n.nodeId()).set("configs", configs(s, n.configs()));
            case ProducerIdsAllocated p -> s.set("next_block_start", p.nextBlockStart());
            case ClusterIdSet c -> s.set("cluster_id", c.clusterId());
            case MetadataRecord.FeatureLevelSet f -> s.set("feature", f.feature()).set("level", f.level());
            case BrokerRegistered b -> {
                Object[] endpoints = new Object[b.endpoints().size()];
                for (int i = 0; i < endpoints.length; i++) {
                    BrokerRegistration.Endpoint e = b.endpoints().get(i);
                    endpoints[i] = s.instance("endpoints").set("name", e.name()).set("host", e.host()).set("port", e.port());
                }
                s.set("node_id", b.nodeId()).set("incarnation_id", b.incarnationId()).set("endpoints", endpoints)
                        .set("rack", b.rack()).set("epoch", b.epoch()).set("fenced", b.fenced());
            }
            case MetadataRecord.BrokerFenceChanged f -> s.set("node_id", f.nodeId()).set("epoch", f.epoch())
                    .set("fenced", f.fenced());
            case PartitionState p -> {
                PartitionRegistration r = p.registration();
                s.set("topic_id", p.topicId()).set("partition", p.partition()).set("replicas", r.replicas().toArray())
                        .set("isr", r.isr().toArray()).set("leader", r.leader()).set("leader_epoch", r.leaderEpoch())
                        .set("partition_epoch", r.partitionEpoch())
                        .set("adding_replicas", r.addingReplicas().toArray())
                        .set("removing_replicas", r.removingReplicas().toArray());
            }
        }
        return s;
    }

    private static MetadataRecord fromStruct(RecordType type, short version, Struct s) {
        return switch (type) {
            case TOPIC_CREATED -> new TopicCreated(s.getString("name"), uuid(s, "topic_id"), s.getInt("partitions"),
                    configs(s.getArray("configs")));
            case TOPIC_DELETED -> new TopicDeleted(uuid(s, "topic_id"));
            case PARTITIONS_ADDED -> new PartitionsAdded(uuid(s, "topic_id"), s.getInt("new_count"));
            case TOPIC_CONFIGS_SET -> new TopicConfigsSet(uuid(s, "topic_id"), configs(s.getArray("configs")));
            case BROKER_CONFIGS_SET -> new BrokerConfigsSet(configs(s.getArray("configs")));
            case NODE_CONFIGS_SET -> new MetadataRecord.NodeConfigsSet(s.getInt("node_id"), configs(s.getArray("configs")));
            case PRODUCER_IDS_ALLOCATED -> new ProducerIdsAllocated(s.getLong("next_block_start"));
            case CLUSTER_ID_SET -> new ClusterIdSet(s.getString("cluster_id"));
            case FEATURE_LEVEL_SET -> new MetadataRecord.FeatureLevelSet(s.getString("feature"), s.getShort("level"));
            case BROKER_REGISTERED -> {
                List<BrokerRegistration.Endpoint> endpoints = new ArrayList<>();
                for (Object o : s.getArray("endpoints")) {
                    Struct e = (Struct) o;
                    endpoints.add(new BrokerRegistration.Endpoint(e.getString("name"), e.getString("host"), e.getInt("port")));
                }
                yield new BrokerRegistered(s.getInt("node_id"), uuid(s, "incarnation_id"), endpoints, s.getString("rack"),
                        s.getLong("epoch"), (Boolean) s.get("fenced"));
            }
            case BROKER_FENCE_CHANGED -> new MetadataRecord.BrokerFenceChanged(s.getInt("node_id"), s.getLong("epoch"),
                    (Boolean) s.get("fenced"));
            case PARTITION_STATE -> new PartitionState(uuid(s, "topic_id"), s.getInt("partition"),
                    new PartitionRegistration(ints(s.getArray("replicas")), ints(s.getArray("isr")), s.getInt("leader"),
                            s.getInt("leader_epoch"), s.getInt("partition_epoch"),
                            version >= 1 ? ints(s.getArray("adding_replicas")) : List.of(),
                            version >= 1 ? ints(s.getArray("removing_replicas")) : List.of()));
        };
    }

    private static Object[] configs(Struct parent, Map<String, String> configs) {
        Object[] entries = new Object[configs.size()];
        int i = 0;
        for (Map.Entry<String, String> e : configs.entrySet()) {
            entries[i++] = parent.instance("configs").set("name", e.getKey()).set("value", e.getValue());
        }
        return entries;
    }

    private static Map<String, String> configs(Object[] entries) {
        Map<String, String> map = new LinkedHashMap<>();
        for (Object o : entries) {
            Struct e = (Struct) o;
            map.put(e.getString("name"), e.getString("value"));
        }
        return map;
    }

    private static List<Integer> ints(Object[] values) {
        List<Integer> list = new ArrayList<>(values.length);
        for (Object o : values) {
            list.add((Integer) o);
        }
        return list;
    }

    private static Uuid uuid(Struct s, String field) {
        return (Uuid) s.get(field);
    }
}
