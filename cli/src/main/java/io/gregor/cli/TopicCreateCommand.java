package io.gregor.cli;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.CreateTopicsResult;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code gregor topic create NAME}. */
@Command(
        name = "create",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = "Create a topic. Partitions and replication factor default to the broker's settings.")
final class TopicCreateCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ClientOptions client;

    @Mixin
    OutputOptions output;

    @Parameters(index = "0", paramLabel = "NAME", description = "Topic name.")
    String name;

    @Option(names = {"-p", "--partitions"}, paramLabel = "N", description = "Number of partitions.")
    Integer partitions;

    @Option(names = {"-r", "--replication-factor"}, paramLabel = "N", description = "Replicas per partition.")
    Short replicationFactor;

    @Option(
            names = {"-c", "--config"},
            paramLabel = "KEY=VALUE",
            description = "Topic config, e.g. --config cleanup.policy=compact (repeatable).")
    Map<String, String> configs = new LinkedHashMap<>();

    @Option(names = "--if-not-exists", description = "Succeed without change when the topic already exists.")
    boolean ifNotExists;

    @Override
    public Integer call() throws Exception {
        if (partitions != null && partitions < 1) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--partitions must be at least 1");
        }
        if (replicationFactor != null && replicationFactor < 1) {
            throw new picocli.CommandLine.ParameterException(
                    spec.commandLine(), "--replication-factor must be at least 1");
        }
        NewTopic topic = new NewTopic(name, Optional.ofNullable(partitions), Optional.ofNullable(replicationFactor))
                .configs(configs);
        try (Admin admin = client.admin()) {
            CreateTopicsResult result = admin.createTopics(List.of(topic));
            try {
                result.all().get();
            } catch (ExecutionException e) {
                if (ifNotExists && e.getCause() instanceof TopicExistsException) {
                    report(name, null, null, null, false);
                    return GregorCli.EXIT_OK;
                }
                throw e;
            }
            report(
                    name,
                    result.topicId(name).get().toString(),
                    result.numPartitions(name).get(),
                    result.replicationFactor(name).get(),
                    true);
        }
        return GregorCli.EXIT_OK;
    }

    private void report(String topic, String id, Integer numPartitions, Integer rf, boolean created) {
        var out = spec.commandLine().getOut();
        if (output.json()) {
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("name", topic);
            json.put("created", created);
            if (created) {
                json.put("topic_id", id);
                json.put("partitions", numPartitions);
                json.put("replication_factor", rf);
            }
            out.println(Json.write(json));
        } else if (created) {
            out.println("Created topic " + topic + " (" + numPartitions + " partition" + (numPartitions == 1 ? "" : "s")
                    + ", replication factor " + rf + ", id " + id + ")");
        } else {
            out.println("Topic " + topic + " already exists; nothing to do.");
        }
        out.flush();
    }
}
