package io.gregor.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListTopicsOptions;
import org.apache.kafka.clients.admin.TopicDescription;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code gregor topic list}. */
@Command(
        name = "list",
        aliases = "ls",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = "List topics with their partition count and replication factor.")
final class TopicListCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ClientOptions client;

    @Mixin
    OutputOptions output;

    @Option(names = {"-i", "--internal"}, description = "Include internal topics (__consumer_offsets, ...).")
    boolean internal;

    @Override
    public Integer call() throws Exception {
        Map<String, TopicDescription> topics;
        try (Admin admin = client.admin()) {
            var names = admin.listTopics(new ListTopicsOptions().listInternal(internal)).names().get();
            topics = names.isEmpty()
                    ? Map.of()
                    : new TreeMap<>(admin.describeTopics(names).allTopicNames().get());
        }
        var out = spec.commandLine().getOut();
        if (output.json()) {
            List<Object> json = new ArrayList<>();
            for (TopicDescription d : topics.values()) {
                Map<String, Object> t = new LinkedHashMap<>();
                t.put("name", d.name());
                t.put("topic_id", d.topicId().toString());
                t.put("partitions", d.partitions().size());
                t.put("replication_factor", TopicCommand.replicationFactor(d));
                t.put("internal", d.isInternal());
                json.add(t);
            }
            out.println(Json.write(json));
            out.flush();
        } else {
            Table table = new Table("NAME", "PARTITIONS", "REPLICAS");
            topics.values().forEach(d -> table.row(d.name(), d.partitions().size(), TopicCommand.replicationFactor(d)));
            table.print(out);
        }
        return GregorCli.EXIT_OK;
    }
}
