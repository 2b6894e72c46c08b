package io.gregor.cli;

import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import picocli.CommandLine.Command;

/**
 * {@code gregor group ...}: list, describe, reset the offsets of and delete consumer groups through the Admin API,
 * with the meaning Kafka's {@code kafka-consumer-groups.sh} gives to each column and error.
 */
@Command(
        name = "group",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = "List, describe, reset the offsets of and delete consumer groups.",
        subcommands = {
            GroupListCommand.class,
            GroupDescribeCommand.class,
            GroupResetOffsetsCommand.class,
            GroupDeleteCommand.class
        })
final class GroupCommand {
    static final Comparator<TopicPartition> BY_TOPIC_AND_PARTITION =
            Comparator.comparing(TopicPartition::topic).thenComparingInt(TopicPartition::partition);

    /** Kafka's wording for a group the coordinator does not know. */
    static CliException noSuchGroup(String group) {
        return new CliException("Consumer group '" + group + "' does not exist.");
    }

    /**
     * The group's description, or null when the coordinator does not know it. DescribeGroups v6 answers an unknown
     * group with GROUP_ID_NOT_FOUND, older versions with the state Dead; both mean the same here.
     */
    static ConsumerGroupDescription describeOrNull(Admin admin, String group) throws Exception {
        try {
            ConsumerGroupDescription d = admin.describeConsumerGroups(List.of(group)).describedGroups().get(group).get();
            return d.groupState() == GroupState.DEAD ? null : d;
        } catch (ExecutionException e) {
            if (e.getCause() instanceof GroupIdNotFoundException) {
                return null;
            }
            throw e;
        }
    }

    /** The group's description; an unknown group is a one-line error. */
    static ConsumerGroupDescription describe(Admin admin, String group) throws Exception {
        ConsumerGroupDescription d = describeOrNull(admin, group);
        if (d == null) {
            throw noSuchGroup(group);
        }
        return d;
    }

    /** Committed offsets of the group, sorted by topic and partition; partitions without a commit are absent. */
    static Map<TopicPartition, Long> committedOffsets(Admin admin, String group) throws Exception {
        Map<TopicPartition, OffsetAndMetadata> raw =
                admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
        Map<TopicPartition, Long> result = new TreeMap<>(BY_TOPIC_AND_PARTITION);
        // The Admin client maps a partition without a committed offset to null.
        raw.forEach((tp, offset) -> {
            if (offset != null && offset.offset() >= 0) {
                result.put(tp, offset.offset());
            }
        });
        return result;
    }

    /**
     * One ListOffsets lookup for {@code partitions}; a partition whose lookup fails (no leader, deleted topic) is
     * absent from the result, like Kafka's tool shows "-" for it. A timestamp that no record reaches maps to -1.
     */
    static Map<TopicPartition, Long> logOffsets(Admin admin, Collection<TopicPartition> partitions, OffsetSpec spec)
            throws InterruptedException {
        return logOffsets(admin, partitions, spec, org.apache.kafka.common.IsolationLevel.READ_UNCOMMITTED);
    }

    /** As {@link #logOffsets(Admin, Collection, OffsetSpec)} for readers of {@code isolation} (latest: the LSO). */
    static Map<TopicPartition, Long> logOffsets(Admin admin, Collection<TopicPartition> partitions, OffsetSpec spec,
                                                org.apache.kafka.common.IsolationLevel isolation)
            throws InterruptedException {
        Map<TopicPartition, Long> result = new HashMap<>();
        if (partitions.isEmpty()) {
            return result;
        }
        ListOffsetsResult answer = admin.listOffsets(
                partitions.stream().distinct().collect(Collectors.toMap(Function.identity(), tp -> spec)),
                new org.apache.kafka.clients.admin.ListOffsetsOptions(isolation));
        for (TopicPartition tp : partitions) {
            try {
                result.put(tp, answer.partitionResult(tp).get().offset());
            } catch (ExecutionException unknown) {
                // leave it out
            }
        }
        return result;
    }

    /** Partitions as Kafka's tool writes an assignment: {@code orders:0,1;payments:2}. */
    static String assignmentText(Collection<TopicPartition> partitions) {
        Map<String, List<Integer>> byTopic = new TreeMap<>();
        partitions.stream().sorted(BY_TOPIC_AND_PARTITION)
                .forEach(tp -> byTopic.computeIfAbsent(tp.topic(), t -> new java.util.ArrayList<>()).add(tp.partition()));
        return byTopic.entrySet().stream()
                .map(e -> e.getKey() + ":" + e.getValue().stream().map(String::valueOf).collect(Collectors.joining(",")))
                .collect(Collectors.joining(";"));
    }

    static String coordinatorText(Node node) {
        return node == null || node.isEmpty() ? null : node.host() + ":" + node.port() + " (" + node.idString() + ")";
    }

    static List<Object> partitionsJson(Collection<TopicPartition> partitions) {
        return partitions.stream().sorted(BY_TOPIC_AND_PARTITION).map(tp -> {
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("topic", tp.topic());
            p.put("partition", tp.partition());
            return (Object) p;
        }).toList();
    }
}
