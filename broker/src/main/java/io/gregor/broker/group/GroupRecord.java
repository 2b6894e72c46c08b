package io.gregor.broker.group;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.kafka.common.Uuid;

/**
 * One record of {@code __consumer_offsets} in Gregor's own format (not Kafka's), stored as the key and value of a
 * normal record in a magic v2 batch. The latest record of a key wins on replay; a null value is a tombstone.
 *
 * <pre>
 * key   := format:int8 (=1) type:int8 group:string [topic:string partition:int32]
 *          (type 0 = offset, 1 = classic group, 2 = consumer-protocol group)
 * value := offset record: offset:int64 leaderEpoch:int32 metadata:nullable-string commitTimestamp:int64
 *          group record:  protocolType:nullable-string generation:int32 protocolName:nullable-string
 *                         leader:nullable-string timestamp:int64 [memberCount:int32 member*]
 *          member := memberId:string instanceId:nullable-string clientId:nullable-string clientHost:nullable-string
 *                    sessionTimeout:int32 rebalanceTimeout:int32 subscription:bytes assignment:bytes
 *          consumer member record (type 3, key adds memberId:string):
 *                    instanceId rackId clientId clientHost:nullable-string rebalanceTimeout:int32
 *                    topicCount:int32 topic:string* regex:nullable-string assignor:nullable-string
 *                    memberEpoch:int32 previousEpoch:int32 state:int8 assigned:partitions revoking:partitions
 *                    [classic:int8 (1: sessionTimeout:int32 protocolCount:int32 (name:string metadata:bytes)*)]
 *          partitions := topicCount:int32 (topicId:uuid count:int32 partition:int32*)*
 * bytes := length:int32 data
 *          consumer group record: groupEpoch:int32 timestamp:int64 empty:int8
 * string := length:int16 (-1 = null) utf8-bytes
 * </pre>
 */
public sealed interface GroupRecord {
    byte FORMAT = 1;
    byte OFFSET_TYPE = 0;
    byte GROUP_TYPE = 1;
    byte CONSUMER_GROUP_TYPE = 2;
    byte CONSUMER_MEMBER_TYPE = 3;

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

    /** A classic group's generation with its members and their assignments (stored at the leader's SyncGroup), or its deletion. */
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
            int length = size(metadata.protocolType()) + 4 + size(metadata.protocolName()) + size(metadata.leaderId()) + 8 + 4;
            for (ClassicMember m : metadata.members()) {
                length += size(m.memberId()) + size(m.instanceId()) + size(m.clientId()) + size(m.clientHost()) + 8
                        + 4 + m.subscription().length + 4 + m.assignment().length;
            }
            ByteBuffer b = ByteBuffer.allocate(length);
            putString(b, metadata.protocolType());
            b.putInt(metadata.generationId());
            putString(b, metadata.protocolName());
            putString(b, metadata.leaderId());
            b.putLong(metadata.timestampMs());
            b.putInt(metadata.members().size());
            for (ClassicMember m : metadata.members()) {
                putString(b, m.memberId());
                putString(b, m.instanceId());
                putString(b, m.clientId());
                putString(b, m.clientHost());
                b.putInt(m.sessionTimeoutMs()).putInt(m.rebalanceTimeoutMs());
                b.putInt(m.subscription().length).put(m.subscription());
                b.putInt(m.assignment().length).put(m.assignment());
            }
            return b.array();
        }
    }

    /**
     * A consumer-protocol group and its epoch (its members are {@link ConsumerMemberState} records), or its deletion.
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

    /** Persisted group metadata, with the members of the generation and their assignments. */
    record GroupMetadata(String protocolType, int generationId, String protocolName, String leaderId, long timestampMs,
                         List<ClassicMember> members) {
        GroupMetadata(String protocolType, int generationId, String protocolName, String leaderId, long timestampMs) {
            this(protocolType, generationId, protocolName, leaderId, timestampMs, List.of());
        }
    }

    /** A classic member as stored: its subscription for the selected protocol and its assignment. */
    record ClassicMember(String memberId, String instanceId, String clientId, String clientHost, int sessionTimeoutMs,
                         int rebalanceTimeoutMs, byte[] subscription, byte[] assignment) {
    }

    /** A member of a consumer-protocol group as stored, or (state null) its removal. */
    record ConsumerMemberState(String groupId, String memberId, String instanceId, String rackId, String clientId,
                               String clientHost, int rebalanceTimeoutMs, List<String> subscribedTopicNames,
                               String subscribedTopicRegex, String serverAssignor, int memberEpoch,
                               int previousMemberEpoch, byte state, Map<Uuid, Set<Integer>> assigned,
                               Map<Uuid, Set<Integer>> revoking, int classicSessionTimeoutMs,
                               List<GroupCoordinator.Protocol> classicProtocols, boolean deleted) implements GroupRecord {
        static ConsumerMemberState tombstone(String groupId, String memberId) {
            return new ConsumerMemberState(groupId, memberId, null, null, null, null, 0, List.of(), null, null, 0, 0,
                    (byte) 0, Map.of(), Map.of(), 0, null, true);
        }

        @Override
        public byte[] key() {
            ByteBuffer b = ByteBuffer.allocate(2 + size(groupId) + size(memberId));
            b.put(FORMAT).put(CONSUMER_MEMBER_TYPE);
            putString(b, groupId);
            putString(b, memberId);
            return b.array();
        }

        @Override
        public byte[] value() {
            if (deleted) {
                return null;
            }
            int length = size(instanceId) + size(rackId) + size(clientId) + size(clientHost) + 4 + 4
                    + size(subscribedTopicRegex) + size(serverAssignor) + 4 + 4 + 1 + size(assigned) + size(revoking);
            for (String t : subscribedTopicNames) {
                length += size(t);
            }
            length += 1;
            if (classicProtocols != null) {
                length += 8;
                for (GroupCoordinator.Protocol p : classicProtocols) {
                    length += size(p.name()) + 4 + p.metadata().length;
                }
            }
            ByteBuffer b = ByteBuffer.allocate(length);
            putString(b, instanceId);
            putString(b, rackId);
            putString(b, clientId);
            putString(b, clientHost);
            b.putInt(rebalanceTimeoutMs);
            b.putInt(subscribedTopicNames.size());
            subscribedTopicNames.forEach(t -> putString(b, t));
            putString(b, subscribedTopicRegex);
            putString(b, serverAssignor);
            b.putInt(memberEpoch).putInt(previousMemberEpoch).put(state);
            putPartitions(b, assigned);
            putPartitions(b, revoking);
            b.put((byte) (classicProtocols == null ? 0 : 1));
            if (classicProtocols != null) {
                b.putInt(classicSessionTimeoutMs).putInt(classicProtocols.size());
                for (GroupCoordinator.Protocol p : classicProtocols) {
                    putString(b, p.name());
                    b.putInt(p.metadata().length).put(p.metadata());
                }
            }
            return b.array();
        }

        static ConsumerMemberState decode(String groupId, String memberId, ByteBuffer v) {
            String instanceId = getString(v);
            String rackId = getString(v);
            String clientId = getString(v);
            String clientHost = getString(v);
            int rebalanceTimeoutMs = v.getInt();
            int topics = v.getInt();
            List<String> names = new ArrayList<>(topics);
            for (int i = 0; i < topics; i++) {
                names.add(getString(v));
            }
            String regex = getString(v);
            String assignor = getString(v);
            int epoch = v.getInt();
            int previous = v.getInt();
            byte state = v.get();
            Map<Uuid, Set<Integer>> assigned = getPartitions(v);
            Map<Uuid, Set<Integer>> revoking = getPartitions(v);
            int sessionTimeout = 0;
            List<GroupCoordinator.Protocol> protocols = null;
            if (v.hasRemaining() && v.get() == 1) {
                sessionTimeout = v.getInt();
                int count = v.getInt();
                protocols = new ArrayList<>(count);
                for (int i = 0; i < count; i++) {
                    protocols.add(new GroupCoordinator.Protocol(getString(v), getBytes(v)));
                }
            }
            return new ConsumerMemberState(groupId, memberId, instanceId, rackId, clientId, clientHost, rebalanceTimeoutMs,
                    names, regex, assignor, epoch, previous, state, assigned, revoking, sessionTimeout, protocols, false);
        }
    }

    private static int size(Map<Uuid, Set<Integer>> partitions) {
        int n = 4;
        for (Set<Integer> set : partitions.values()) {
            n += 16 + 4 + 4 * set.size();
        }
        return n;
    }

    private static void putPartitions(ByteBuffer b, Map<Uuid, Set<Integer>> partitions) {
        b.putInt(partitions.size());
        partitions.forEach((id, set) -> {
            b.putLong(id.getMostSignificantBits()).putLong(id.getLeastSignificantBits()).putInt(set.size());
            set.forEach(b::putInt);
        });
    }

    private static Map<Uuid, Set<Integer>> getPartitions(ByteBuffer b) {
        int topics = b.getInt();
        Map<Uuid, Set<Integer>> result = new TreeMap<>();
        for (int i = 0; i < topics; i++) {
            Uuid id = new Uuid(b.getLong(), b.getLong());
            int count = b.getInt();
            Set<Integer> set = new TreeSet<>();
            for (int j = 0; j < count; j++) {
                set.add(b.getInt());
            }
            result.put(id, set);
        }
        return result;
    }

    private static byte[] getBytes(ByteBuffer b) {
        byte[] bytes = new byte[b.getInt()];
        b.get(bytes);
        return bytes;
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
                List<ClassicMember> members = new ArrayList<>();
                int count = value.hasRemaining() ? value.getInt() : 0;
                for (int i = 0; i < count; i++) {
                    members.add(new ClassicMember(getString(value), getString(value), getString(value), getString(value),
                            value.getInt(), value.getInt(), getBytes(value), getBytes(value)));
                }
                return new Group(group, new GroupMetadata(protocolType, generation, protocolName, leader, timestamp, members));
            }
            case CONSUMER_GROUP_TYPE -> {
                if (value == null) {
                    return ConsumerGroupEpoch.tombstone(group);
                }
                return new ConsumerGroupEpoch(group, value.getInt(), value.getLong(), value.get() == 1, false);
            }
            case CONSUMER_MEMBER_TYPE -> {
                String memberId = getString(key);
                return value == null ? ConsumerMemberState.tombstone(group, memberId)
                        : ConsumerMemberState.decode(group, memberId, value);
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
