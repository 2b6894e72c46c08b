package io.gregor.coordinator.group;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.coordinator.group.generated.GroupMetadataValue;

/**
 * Reads the records of {@code __consumer_offsets} as Gregor 0.1 wrote them (one partition, a format of its own) and
 * turns them into Kafka's records, for the migration of an existing data directory. Nothing writes this format any
 * more.
 *
 * <pre>
 * key   := format:int8 (=1) type:int8 group:string [topic:string partition:int32 | memberId:string]
 *          (type 0 = offset, 1 = classic group, 2 = consumer-protocol group, 3 = consumer-protocol member)
 * value := offset: offset:int64 leaderEpoch:int32 metadata:nullable-string commitTimestamp:int64
 *          classic group: protocolType protocolName... (see {@link #convert})
 * string := length:int16 (-1 = null) utf8-bytes;  bytes := length:int32 data
 * </pre>
 */
public final class LegacyGroupRecords {
    private static final byte FORMAT = 1;
    private static final byte OFFSET = 0;
    private static final byte GROUP = 1;
    private static final byte CONSUMER_GROUP = 2;
    private static final byte CONSUMER_MEMBER = 3;

    private LegacyGroupRecords() {
    }

    /** Whether {@code key} is in the old format (Kafka's keys start with a record type below 256, so byte 0 is 0). */
    public static boolean isLegacy(ByteBuffer key) {
        return key != null && key.remaining() >= 2 && key.get(key.position()) == FORMAT
                && key.get(key.position() + 1) >= OFFSET && key.get(key.position() + 1) <= CONSUMER_MEMBER;
    }

    /**
     * Collects old records, oldest first, into the latest state of every key, in Kafka's records (tombstones drop
     * what they delete: the new topic starts empty).
     */
    public static final class Converter {
        private final Map<ByteBuffer, GroupRecord> latest = new LinkedHashMap<>();

        /** Adds one old record; {@code value} null is a tombstone. */
        public void add(ByteBuffer key, ByteBuffer value) {
            for (GroupRecord r : convert(key, value)) {
                ByteBuffer k = ByteBuffer.wrap(r.keyBytes());
                latest.remove(k);
                if (!r.isTombstone()) {
                    latest.put(k, r);
                }
            }
        }

        public Collection<GroupRecord> records() {
            return latest.values();
        }
    }

    /** The Kafka records one old record stands for. */
    static List<GroupRecord> convert(ByteBuffer key, ByteBuffer value) {
        if (key.get() != FORMAT) {
            throw new IllegalArgumentException("not a record of the old __consumer_offsets format");
        }
        byte type = key.get();
        String group = getString(key);
        List<GroupRecord> out = new ArrayList<>();
        switch (type) {
            case OFFSET -> {
                String topic = getString(key);
                int partition = key.getInt();
                if (value == null) {
                    out.add(GroupRecord.offsetTombstone(group, topic, partition));
                } else {
                    long offset = value.getLong();
                    int epoch = value.getInt();
                    String metadata = getString(value);
                    long timestamp = value.getLong();
                    out.add(GroupRecord.offsetCommit(group, topic, partition, new OffsetAndMetadata(offset, epoch, metadata, timestamp)));
                }
            }
            case GROUP -> out.add(value == null ? GroupRecord.groupTombstone(group) : GroupRecord.groupMetadata(group, classic(value)));
            case CONSUMER_GROUP -> {
                if (value == null) {
                    out.add(GroupRecord.targetMetadataTombstone(group));
                    out.add(GroupRecord.consumerGroupTombstone(group));
                } else {
                    int epoch = value.getInt();
                    // The old format kept no target assignment: it was recomputed at start from what members hold. A
                    // metadata hash of 0 has the same effect: the first heartbeat computes it and moves the epoch.
                    out.add(GroupRecord.consumerGroupMetadata(group, epoch, 0));
                    out.add(GroupRecord.targetMetadata(group, epoch));
                }
            }
            case CONSUMER_MEMBER -> {
                String memberId = getString(key);
                if (value == null) {
                    out.add(GroupRecord.currentAssignmentTombstone(group, memberId));
                    out.add(GroupRecord.targetMemberTombstone(group, memberId));
                    out.add(GroupRecord.memberMetadataTombstone(group, memberId));
                } else {
                    ConsumerMember m = member(memberId, value);
                    Map<Uuid, Set<Integer>> target = ConsumerGroup.copy(m.assigned);
                    m.revoking.forEach((t, ps) -> target.computeIfAbsent(t, x -> new TreeSet<>()).addAll(ps));
                    out.add(GroupRecord.memberMetadata(group, m));
                    out.add(GroupRecord.targetMember(group, memberId, target));
                    out.add(GroupRecord.currentAssignment(group, m));
                }
            }
            default -> throw new IllegalArgumentException("unknown old __consumer_offsets record type " + type);
        }
        return out;
    }

    private static GroupMetadataValue classic(ByteBuffer v) {
        String protocolType = getString(v);
        int generation = v.getInt();
        String protocolName = getString(v);
        String leader = getString(v);
        long timestamp = v.getLong();
        List<GroupMetadataValue.MemberMetadata> members = new ArrayList<>();
        int count = v.hasRemaining() ? v.getInt() : 0;
        for (int i = 0; i < count; i++) {
            String memberId = getString(v);
            String instanceId = getString(v);
            String clientId = getString(v);
            String clientHost = getString(v);
            int session = v.getInt();
            int rebalance = v.getInt();
            members.add(new GroupMetadataValue.MemberMetadata().setMemberId(memberId).setGroupInstanceId(instanceId)
                    .setClientId(clientId == null ? "" : clientId).setClientHost(clientHost == null ? "" : clientHost)
                    .setSessionTimeout(session).setRebalanceTimeout(rebalance).setSubscription(getBytes(v))
                    .setAssignment(getBytes(v)));
        }
        return new GroupMetadataValue().setProtocolType(protocolType == null ? "" : protocolType).setGeneration(generation)
                .setProtocol(protocolName).setLeader(leader).setCurrentStateTimestamp(timestamp).setMembers(members);
    }

    private static ConsumerMember member(String memberId, ByteBuffer v) {
        ConsumerMember m = new ConsumerMember(memberId);
        m.instanceId = getString(v);
        m.rackId = getString(v);
        m.clientId = getString(v);
        m.clientHost = getString(v);
        m.rebalanceTimeoutMs = v.getInt();
        int topics = v.getInt();
        List<String> names = new ArrayList<>(topics);
        for (int i = 0; i < topics; i++) {
            names.add(getString(v));
        }
        m.subscribedTopicNames = List.copyOf(names);
        m.subscribedTopicRegex = getString(v);
        m.serverAssignor = getString(v);
        m.memberEpoch = v.getInt();
        m.previousMemberEpoch = v.getInt();
        byte state = v.get();
        ConsumerMember.State[] states = ConsumerMember.State.values();
        m.state = state >= 0 && state < states.length ? states[state] : ConsumerMember.State.UNRELEASED_PARTITIONS;
        m.assigned = getPartitions(v);
        m.revoking = getPartitions(v);
        if (v.hasRemaining() && v.get() == 1) {
            m.classicSessionTimeoutMs = v.getInt();
            int count = v.getInt();
            List<ClassicGroupManager.Protocol> protocols = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                protocols.add(new ClassicGroupManager.Protocol(getString(v), getBytes(v)));
            }
            m.classicProtocols = List.copyOf(protocols);
        }
        return m;
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
