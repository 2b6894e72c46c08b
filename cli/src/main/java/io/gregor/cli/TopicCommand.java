package io.gregor.cli;

import java.util.concurrent.ExecutionException;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import picocli.CommandLine.Command;

/** {@code gregor topic ...}: create, list, describe, delete and configure topics through the Admin API. */
@Command(
        name = "topic",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = "Create, list, describe, delete and configure topics.",
        subcommands = {
            TopicCreateCommand.class,
            TopicListCommand.class,
            TopicDescribeCommand.class,
            TopicDeleteCommand.class,
            TopicAlterConfigCommand.class
        })
final class TopicCommand {

    /** Replication factor as the first partition reports it; 0 for a topic without partitions. */
    static int replicationFactor(TopicDescription d) {
        return d.partitions().isEmpty() ? 0 : d.partitions().get(0).replicas().size();
    }

    static String ids(java.util.List<Node> nodes) {
        return nodes.stream().map(Node::idString).collect(Collectors.joining(","));
    }

    static Object leaderId(TopicPartitionInfo p) {
        return p.leader() == null || p.leader().isEmpty() ? null : p.leader().id();
    }

    /**
     * Kafka answers an unknown topic with "This server does not host this topic-partition."; say which topic instead.
     * Other failures pass through unchanged.
     */
    static Exception unknownTopicOr(String topic, ExecutionException e) {
        if (e.getCause() instanceof UnknownTopicOrPartitionException) {
            return new CliException("Topic '" + topic + "' does not exist.", e.getCause());
        }
        return e;
    }
}
