package io.gregor.coordinator.group;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.MessageUtil;
import org.apache.kafka.coordinator.group.generated.ConsumerGroupCurrentMemberAssignmentKey;
import org.apache.kafka.coordinator.group.generated.ConsumerGroupCurrentMemberAssignmentValue;
import org.apache.kafka.coordinator.group.generated.ConsumerGroupMemberMetadataKey;
import org.apache.kafka.coordinator.group.generated.ConsumerGroupMemberMetadataValue;
import org.apache.kafka.coordinator.group.generated.ConsumerGroupMetadataKey;
import org.apache.kafka.coordinator.group.generated.ConsumerGroupMetadataValue;
import org.apache.kafka.coordinator.group.generated.ConsumerGroupPartitionMetadataKey;
import org.apache.kafka.coordinator.group.generated.ConsumerGroupRegularExpressionKey;
import org.apache.kafka.coordinator.group.generated.ConsumerGroupTargetAssignmentMemberKey;
import org.apache.kafka.coordinator.group.generated.ConsumerGroupTargetAssignmentMemberValue;
import org.apache.kafka.coordinator.group.generated.ConsumerGroupTargetAssignmentMetadataKey;
import org.apache.kafka.coordinator.group.generated.ConsumerGroupTargetAssignmentMetadataValue;
import org.apache.kafka.coordinator.group.generated.CoordinatorRecordType;
import org.apache.kafka.coordinator.group.generated.GroupMetadataKey;
import org.apache.kafka.coordinator.group.generated.GroupMetadataValue;
import org.apache.kafka.coordinator.group.generated.LegacyOffsetCommitKey;
import org.apache.kafka.coordinator.group.generated.OffsetCommitKey;
import org.apache.kafka.coordinator.group.generated.OffsetCommitValue;

/**
 * One record of {@code __consumer_offsets}, in Kafka's own schemas (the generated classes of Kafka's group
 * coordinator), so that Kafka's tools read the topic and a record written by either broker is read by the other.
 *
 * <p>On disk the key is the record type (int16) followed by the key at version 0; the value is its version (int16)
 * followed by the value at that version; a null value is a tombstone. The latest record of a key wins on replay.
 *
 * @param key the key (its {@code apiKey()} is the record type)
 * @param value the value, or null for a tombstone
 * @param valueVersion the schema version the value is written with
 */
public record GroupRecord(ApiMessage key, ApiMessage value, short valueVersion) {
    /** OffsetCommitValue v3: offset, leader epoch, metadata, commit timestamp (what Kafka 2.1 and later write). */
    static final short OFFSET_VALUE_VERSION = 3;
    /** GroupMetadataValue v3: the members with their rebalance and session timeouts and static instance ids. */
    static final short GROUP_VALUE_VERSION = 3;
    static final short CONSUMER_VALUE_VERSION = 0;

    public CoordinatorRecordType type() {
        return CoordinatorRecordType.fromId(key.apiKey());
    }

    public boolean isTombstone() {
        return value == null;
    }

    /** The group the record belongs to. */
    public String groupId() {
        return switch (key) {
            case OffsetCommitKey k -> k.group();
            case LegacyOffsetCommitKey k -> k.group();
            case GroupMetadataKey k -> k.group();
            case ConsumerGroupMetadataKey k -> k.groupId();
            case ConsumerGroupMemberMetadataKey k -> k.groupId();
            case ConsumerGroupCurrentMemberAssignmentKey k -> k.groupId();
            case ConsumerGroupTargetAssignmentMemberKey k -> k.groupId();
            case ConsumerGroupTargetAssignmentMetadataKey k -> k.groupId();
            case ConsumerGroupPartitionMetadataKey k -> k.groupId();
            case ConsumerGroupRegularExpressionKey k -> k.groupId();
            default -> null;
        };
    }

    public byte[] keyBytes() {
        return MessageUtil.toCoordinatorTypePrefixedBytes(key);
    }

    /** The value as stored, or null for a tombstone. */
    public byte[] valueBytes() {
        return value == null ? null : MessageUtil.toVersionPrefixedBytes(valueVersion, value);
    }

    /**
     * Reads a stored record.
     *
     * @throws IllegalArgumentException when the key is of no type Kafka knows, or the bytes do not parse
     */
    public static GroupRecord read(ByteBuffer key, ByteBuffer value) {
        if (key == null || key.remaining() < 2) {
            throw new IllegalArgumentException("a __consumer_offsets key needs at least its two-byte type");
        }
        short typeId = key.getShort();
        CoordinatorRecordType type;
        try {
            type = CoordinatorRecordType.fromId(typeId);
        } catch (UnsupportedVersionException e) {
            throw new IllegalArgumentException("unknown __consumer_offsets record type " + typeId);
        }
        try {
            ApiMessage k = type.newRecordKey();
            k.read(new ByteBufferAccessor(key), (short) 0);
            if (k instanceof LegacyOffsetCommitKey legacy) {
                // Type 0 is the same key as type 1; both are offset commits.
                k = new OffsetCommitKey().setGroup(legacy.group()).setTopic(legacy.topic()).setPartition(legacy.partition());
            }
            if (value == null) {
                return new GroupRecord(k, null, (short) 0);
            }
            short version = value.getShort();
            ApiMessage v = type == CoordinatorRecordType.LEGACY_OFFSET_COMMIT
                    ? CoordinatorRecordType.OFFSET_COMMIT.newRecordValue() : type.newRecordValue();
            if (version < v.lowestSupportedVersion() || version > v.highestSupportedVersion()) {
                throw new IllegalArgumentException("unknown version " + version + " of a " + type + " value");
            }
            v.read(new ByteBufferAccessor(value), version);
            return new GroupRecord(k, v, version);
        } catch (RuntimeException e) {
            if (e instanceof IllegalArgumentException) {
                throw e;
            }
            throw new IllegalArgumentException("unreadable " + type + " record: " + e.getMessage(), e);
        }
    }

    // ---- Offsets -------------------------------------------------------------------------------------------------

    static GroupRecord offsetCommit(String groupId, String topic, int partition, OffsetAndMetadata commit) {
        return new GroupRecord(new OffsetCommitKey().setGroup(groupId).setTopic(topic).setPartition(partition),
                new OffsetCommitValue().setOffset(commit.offset()).setLeaderEpoch(commit.leaderEpoch())
                        .setMetadata(commit.metadata() == null ? "" : commit.metadata())
                        .setCommitTimestamp(commit.commitTimestampMs()), OFFSET_VALUE_VERSION);
    }

    static GroupRecord offsetTombstone(String groupId, String topic, int partition) {
        return new GroupRecord(new OffsetCommitKey().setGroup(groupId).setTopic(topic).setPartition(partition), null, (short) 0);
    }

    // ---- Classic groups ------------------------------------------------------------------------------------------

    static GroupRecord groupMetadata(String groupId, GroupMetadataValue value) {
        return new GroupRecord(new GroupMetadataKey().setGroup(groupId), value, GROUP_VALUE_VERSION);
    }

    static GroupRecord groupTombstone(String groupId) {
        return new GroupRecord(new GroupMetadataKey().setGroup(groupId), null, (short) 0);
    }

    // ---- Consumer groups (KIP-848) -------------------------------------------------------------------------------

    static GroupRecord consumerGroupMetadata(String groupId, int epoch, long metadataHash) {
        return new GroupRecord(new ConsumerGroupMetadataKey().setGroupId(groupId),
                new ConsumerGroupMetadataValue().setEpoch(epoch).setMetadataHash(metadataHash), CONSUMER_VALUE_VERSION);
    }

    static GroupRecord consumerGroupTombstone(String groupId) {
        return new GroupRecord(new ConsumerGroupMetadataKey().setGroupId(groupId), null, (short) 0);
    }

    static GroupRecord memberMetadata(String groupId, ConsumerMember m) {
        ConsumerGroupMemberMetadataValue value = new ConsumerGroupMemberMetadataValue().setInstanceId(m.instanceId)
                .setRackId(m.rackId).setClientId(m.clientId == null ? "" : m.clientId)
                .setClientHost(m.clientHost == null ? "" : m.clientHost)
                .setSubscribedTopicNames(List.copyOf(m.subscribedTopicNames)).setSubscribedTopicRegex(m.subscribedTopicRegex)
                .setRebalanceTimeoutMs(m.rebalanceTimeoutMs).setServerAssignor(m.serverAssignor)
                .setClassicMemberMetadata(null); // the generated default is an empty one, which would read as classic
        if (m.classicProtocols != null) {
            List<ConsumerGroupMemberMetadataValue.ClassicProtocol> protocols = new ArrayList<>();
            for (ClassicGroupManager.Protocol p : m.classicProtocols) {
                protocols.add(new ConsumerGroupMemberMetadataValue.ClassicProtocol().setName(p.name()).setMetadata(p.metadata()));
            }
            value.setClassicMemberMetadata(new ConsumerGroupMemberMetadataValue.ClassicMemberMetadata()
                    .setSessionTimeoutMs(m.classicSessionTimeoutMs).setSupportedProtocols(protocols));
        }
        return new GroupRecord(new ConsumerGroupMemberMetadataKey().setGroupId(groupId).setMemberId(m.memberId), value,
                CONSUMER_VALUE_VERSION);
    }

    static GroupRecord memberMetadataTombstone(String groupId, String memberId) {
        return new GroupRecord(new ConsumerGroupMemberMetadataKey().setGroupId(groupId).setMemberId(memberId), null, (short) 0);
    }

    static GroupRecord currentAssignment(String groupId, ConsumerMember m) {
        return new GroupRecord(new ConsumerGroupCurrentMemberAssignmentKey().setGroupId(groupId).setMemberId(m.memberId),
                new ConsumerGroupCurrentMemberAssignmentValue().setMemberEpoch(m.memberEpoch)
                        .setPreviousMemberEpoch(m.previousMemberEpoch).setState((byte) m.state.ordinal())
                        .setAssignedPartitions(currentPartitions(m.assigned))
                        .setPartitionsPendingRevocation(currentPartitions(m.revoking)), CONSUMER_VALUE_VERSION);
    }

    static GroupRecord currentAssignmentTombstone(String groupId, String memberId) {
        return new GroupRecord(new ConsumerGroupCurrentMemberAssignmentKey().setGroupId(groupId).setMemberId(memberId), null,
                (short) 0);
    }

    static GroupRecord targetMember(String groupId, String memberId, Map<Uuid, Set<Integer>> partitions) {
        List<ConsumerGroupTargetAssignmentMemberValue.TopicPartition> topics = new ArrayList<>();
        partitions.forEach((id, ps) -> {
            if (!ps.isEmpty()) {
                topics.add(new ConsumerGroupTargetAssignmentMemberValue.TopicPartition().setTopicId(id)
                        .setPartitions(new ArrayList<>(ps)));
            }
        });
        return new GroupRecord(new ConsumerGroupTargetAssignmentMemberKey().setGroupId(groupId).setMemberId(memberId),
                new ConsumerGroupTargetAssignmentMemberValue().setTopicPartitions(topics), CONSUMER_VALUE_VERSION);
    }

    static GroupRecord targetMemberTombstone(String groupId, String memberId) {
        return new GroupRecord(new ConsumerGroupTargetAssignmentMemberKey().setGroupId(groupId).setMemberId(memberId), null,
                (short) 0);
    }

    static GroupRecord targetMetadata(String groupId, int assignmentEpoch) {
        return new GroupRecord(new ConsumerGroupTargetAssignmentMetadataKey().setGroupId(groupId),
                new ConsumerGroupTargetAssignmentMetadataValue().setAssignmentEpoch(assignmentEpoch), CONSUMER_VALUE_VERSION);
    }

    static GroupRecord targetMetadataTombstone(String groupId) {
        return new GroupRecord(new ConsumerGroupTargetAssignmentMetadataKey().setGroupId(groupId), null, (short) 0);
    }

    private static List<ConsumerGroupCurrentMemberAssignmentValue.TopicPartitions> currentPartitions(Map<Uuid, Set<Integer>> partitions) {
        List<ConsumerGroupCurrentMemberAssignmentValue.TopicPartitions> topics = new ArrayList<>();
        partitions.forEach((id, ps) -> {
            if (!ps.isEmpty()) {
                topics.add(new ConsumerGroupCurrentMemberAssignmentValue.TopicPartitions().setTopicId(id)
                        .setPartitions(new ArrayList<>(ps)));
            }
        });
        return topics;
    }

    /** Partitions by topic id, from the lists of a current-assignment value. */
    static Map<Uuid, Set<Integer>> partitionsOf(List<ConsumerGroupCurrentMemberAssignmentValue.TopicPartitions> topics) {
        Map<Uuid, Set<Integer>> result = new TreeMap<>();
        for (var t : topics) {
            result.computeIfAbsent(t.topicId(), x -> new TreeSet<>()).addAll(t.partitions());
        }
        return result;
    }

    /** Partitions by topic id, from a target-assignment value. */
    static Map<Uuid, Set<Integer>> targetPartitionsOf(ConsumerGroupTargetAssignmentMemberValue value) {
        Map<Uuid, Set<Integer>> result = new TreeMap<>();
        for (var t : value.topicPartitions()) {
            result.computeIfAbsent(t.topicId(), x -> new TreeSet<>()).addAll(t.partitions());
        }
        return result;
    }
}
