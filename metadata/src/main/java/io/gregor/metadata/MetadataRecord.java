package io.gregor.metadata;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.kafka.common.Uuid;

/**
 * The changes the metadata log records. Each entry of the log is a batch of these, applied atomically.
 *
 * <pre>
 * entry   := version:int8 (=0) count:int32 record*
 * record  := type:int8 fields...   (strings: modified UTF-8; nullable strings have a presence byte)
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

    /** Producer ids below {@code nextBlockStart} have been handed out. */
    record ProducerIdsAllocated(long nextBlockStart) implements MetadataRecord {
    }

    /** The cluster id, written once by the first node. */
    record ClusterIdSet(String clusterId) implements MetadataRecord {
    }

    static byte[] encode(java.util.List<MetadataRecord> records) {
        var bytes = new java.io.ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(0);
            out.writeInt(records.size());
            for (MetadataRecord record : records) {
                write(out, record);
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    static java.util.List<MetadataRecord> decode(byte[] entry) {
        try (DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(entry))) {
            int version = in.readByte();
            if (version != 0) {
                throw new IllegalStateException("unknown metadata entry version " + version);
            }
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

    private static void write(DataOutputStream out, MetadataRecord record) throws IOException {
        switch (record) {
            case TopicCreated t -> {
                out.writeByte(1);
                out.writeUTF(t.name());
                writeUuid(out, t.id());
                out.writeInt(t.partitions());
                writeMap(out, t.configs());
            }
            case TopicDeleted t -> {
                out.writeByte(2);
                writeUuid(out, t.id());
            }
            case PartitionsAdded p -> {
                out.writeByte(3);
                writeUuid(out, p.id());
                out.writeInt(p.newCount());
            }
            case TopicConfigsSet c -> {
                out.writeByte(4);
                writeUuid(out, c.id());
                writeMap(out, c.configs());
            }
            case BrokerConfigsSet c -> {
                out.writeByte(5);
                writeMap(out, c.configs());
            }
            case ProducerIdsAllocated p -> {
                out.writeByte(6);
                out.writeLong(p.nextBlockStart());
            }
            case ClusterIdSet c -> {
                out.writeByte(7);
                out.writeUTF(c.clusterId());
            }
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

    private static void writeUuid(DataOutputStream out, Uuid id) throws IOException {
        out.writeLong(id.getMostSignificantBits());
        out.writeLong(id.getLeastSignificantBits());
    }

    private static Uuid readUuid(DataInputStream in) throws IOException {
        return new Uuid(in.readLong(), in.readLong());
    }

    private static void writeMap(DataOutputStream out, Map<String, String> map) throws IOException {
        out.writeInt(map.size());
        for (Map.Entry<String, String> e : map.entrySet()) {
            out.writeUTF(e.getKey());
            out.writeUTF(e.getValue());
        }
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
