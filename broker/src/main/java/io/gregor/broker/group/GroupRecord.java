package io.gregor.broker.group;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * One record of {@code __consumer_offsets} in Gregor's own format (not Kafka's), stored as the key and value of a
 * normal record in a magic v2 batch. The latest record of a key wins on replay; a null value is a tombstone.
 *
 * <pre>
 * key   := format:int8 (=1) type:int8 group:string [topic:string partition:int32]
 *          (type 0 = offset, 1 = classic group, 2 = consumer-protocol group)
 * value := offset record: offset:int64 leaderEpoch:int32 metadata:nullable-string commitTimestamp:int64
 *          group record:  protocolType:nullable-string generation:int32 protocolName:nullable-string
 *                         leader:nullable-string timestamp:int64
 *          consumer group record: groupEpoch:int32 timestamp:int64 empty:int8
 * string := length:int16 (-1 = null) utf8-bytes
 * </pre>
 */
public sealed interface GroupRecord {
    byte FORMAT = 1;
    byte OFFSET_TYPE = 0;
    byte GROUP_TYPE = 1;
    byte CONSUMER_GROUP_TYPE = 2;

    String groupId();

    byte[] key();

    /** The value, or null for a tombstone. */
    byte[] value();

    /** A committed offset, or (when {@code commit} is null) the deletion of one. */
    record Offset(String groupId, String topic, int partition, OffsetAndMetadata commit) implements GroupRecord {
        @Override
        public byte[] key() {
            ByteBuffer b = ByteBuffer.allocate(2 + size(groupId) + size(topic) + 4);
            b.put(FORMAT).put(OFFSET_TYPE);
            putString(b, groupId);
            putString(b, topic);
            b.putInt(partition);
            return b.array();
        }

        @Override
        public byte[] value() {
            if (commit == null) {
                return null;
            }
            ByteBuffer b = ByteBuffer.allocate(8 + 4 + size(commit.metadata()) + 8);
            b.putLong(commit.offset()).putInt(commit.leaderEpoch());
            putString(b, commit.metadata());
            b.putLong(commit.commitTimestampMs());
            return b.array();
        }
    }

    /** The group's metadata after a rebalance (members are not kept: a reloaded group starts Empty), or its deletion. */
    record Group(String groupId, GroupMetadata metadata) implements GroupRecord {
        @Override
        public byte[] key() {
            ByteBuffer b = ByteBuffer.allocate(2 + size(groupId));
            b.put(FORMAT).put(GROUP_TYPE);
            putString(b, groupId);
            return b.array();
        }

        @Override
        public byte[] value() {
            if (metadata == null) {
                return null;
            }
            ByteBuffer b = ByteBuffer.allocate(size(metadata.protocolType()) + 4 + size(metadata.protocolName())
                    + size(metadata.leaderId()) + 8);
            putString(b, metadata.protocolType());
            b.putInt(metadata.generationId());
            putString(b, metadata.protocolName());
            putString(b, metadata.leaderId());
            b.putLong(metadata.timestampMs());
            return b.array();
        }
    }

    /**
     * A consumer-protocol group and its epoch (members are not kept: they rejoin after a restart), or its deletion.
     * {@code timestampMs} is when it was written; for an empty group, since when it has been empty.
     */
    record ConsumerGroupEpoch(String groupId, int groupEpoch, long timestampMs, boolean empty, boolean deleted)
            implements GroupRecord {
        static ConsumerGroupEpoch tombstone(String groupId) {
            return new ConsumerGroupEpoch(groupId, 0, 0, true, true);
        }

        @Override
        public byte[] key() {
            ByteBuffer b = ByteBuffer.allocate(2 + size(groupId));
            b.put(FORMAT).put(CONSUMER_GROUP_TYPE);
            putString(b, groupId);
            return b.array();
        }

        @Override
        public byte[] value() {
            if (deleted) {
                return null;
            }
            return ByteBuffer.allocate(13).putInt(groupEpoch).putLong(timestampMs).put((byte) (empty ? 1 : 0)).array();
        }
    }

    /** Persisted group metadata. */
    record GroupMetadata(String protocolType, int generationId, String protocolName, String leaderId, long timestampMs) {
    }

    /**
     * Decodes one stored record.
     *
     * @throws IllegalArgumentException for a key of an unknown format or type
     */
    static GroupRecord decode(ByteBuffer key, ByteBuffer value) {
        byte format = key.get();
        if (format != FORMAT) {
            throw new IllegalArgumentException("unknown __consumer_offsets record format " + format);
        }
        byte type = key.get();
        String group = getString(key);
        switch (type) {
            case OFFSET_TYPE -> {
                String topic = getString(key);
                int partition = key.getInt();
                if (value == null) {
                    return new Offset(group, topic, partition, null);
                }
                long offset = value.getLong();
                int epoch = value.getInt();
                String metadata = getString(value);
                long timestamp = value.getLong();
                return new Offset(group, topic, partition, new OffsetAndMetadata(offset, epoch, metadata, timestamp));
            }
            case GROUP_TYPE -> {
                if (value == null) {
                    return new Group(group, null);
                }
                String protocolType = getString(value);
                int generation = value.getInt();
                String protocolName = getString(value);
                String leader = getString(value);
                long timestamp = value.getLong();
                return new Group(group, new GroupMetadata(protocolType, generation, protocolName, leader, timestamp));
            }
            case CONSUMER_GROUP_TYPE -> {
                if (value == null) {
                    return ConsumerGroupEpoch.tombstone(group);
                }
                return new ConsumerGroupEpoch(group, value.getInt(), value.getLong(), value.get() == 1, false);
            }
            default -> throw new IllegalArgumentException("unknown __consumer_offsets record type " + type);
        }
    }

    private static int size(String s) {
        return 2 + (s == null ? 0 : s.getBytes(StandardCharsets.UTF_8).length);
    }

    private static void putString(ByteBuffer b, String s) {
        if (s == null) {
            b.putShort((short) -1);
            return;
        }
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        b.putShort((short) bytes.length).put(bytes);
    }

    private static String getString(ByteBuffer b) {
        short length = b.getShort();
        if (length < 0) {
            return null;
        }
        byte[] bytes = new byte[length];
        b.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
