package io.gregor.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.config.ConfigResource;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code gregor topic describe [NAME...]}: partitions, leaders, replicas, ISR, id and the topic's own configs. */
@Command(
        name = "describe",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = "Describe topics (all non-internal topics when no name is given).")
final class TopicDescribeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ClientOptions client;

    @Mixin
    OutputOptions output;

    @Parameters(paramLabel = "NAME", arity = "0..*", description = "Topic names.")
    List<String> names = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        Map<String, TopicDescription> topics;
        Map<String, Map<String, String>> configs = new TreeMap<>();
        try (Admin admin = client.admin()) {
            var wanted = names.isEmpty() ? admin.listTopics().names().get() : names;
            topics = new TreeMap<>();
            if (!wanted.isEmpty()) {
                var futures = admin.describeTopics(wanted).topicNameValues();
                for (String name : wanted) {
                    try {
                        topics.put(name, futures.get(name).get());
                    } catch (ExecutionException e) {
                        throw TopicCommand.unknownTopicOr(name, e);
                    }
                }
            }
            if (!topics.isEmpty()) {
                List<ConfigResource> resources = topics.keySet().stream()
                        .map(n -> new ConfigResource(ConfigResource.Type.TOPIC, n))
                        .toList();
                Map<ConfigResource, Config> all = admin.describeConfigs(resources).all().get();
                all.forEach((resource, config) -> configs.put(resource.name(), topicOverrides(config)));
            }
        }
        PrintWriter out = spec.commandLine().getOut();
        if (output.json()) {
            List<Object> json = new ArrayList<>();
            topics.values().forEach(d -> json.add(toJson(d, configs.getOrDefault(d.name(), Map.of()))));
            out.println(Json.write(json));
        } else {
            boolean first = true;
            for (TopicDescription d : topics.values()) {
                if (!first) {
                    out.println();
                }
                first = false;
                printTable(out, d, configs.getOrDefault(d.name(), Map.of()));
            }
        }
        out.flush();
        return GregorCli.EXIT_OK;
    }

    /** The configs set on the topic itself, sorted by name; sensitive values masked. */
    static Map<String, String> topicOverrides(Config config) {
        Map<String, String> result = new TreeMap<>();
        for (ConfigEntry e : config.entries()) {
            if (e.source() == ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG) {
                result.put(e.name(), e.isSensitive() ? "(sensitive)" : e.value());
            }
        }
        return result;
    }

    private static void printTable(PrintWriter out, TopicDescription d, Map<String, String> configs) {
        out.println("Topic: " + d.name() + "  id: " + d.topicId() + "  partitions: " + d.partitions().size()
                + "  replication factor: " + TopicCommand.replicationFactor(d) + (d.isInternal() ? "  (internal)" : ""));
        out.println("Configs: " + (configs.isEmpty()
                ? "(defaults)"
                : configs.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(", "))));
        Table table = new Table("PARTITION", "LEADER", "REPLICAS", "ISR");
        for (TopicPartitionInfo p : d.partitions()) {
            table.row(p.partition(), TopicCommand.leaderId(p), TopicCommand.ids(p.replicas()), TopicCommand.ids(p.isr()));
        }
        table.print(out);
    }

    private static Map<String, Object> toJson(TopicDescription d, Map<String, String> configs) {
        Map<String, Object> t = new LinkedHashMap<>();
        t.put("name", d.name());
        t.put("topic_id", d.topicId().toString());
        t.put("internal", d.isInternal());
        t.put("replication_factor", TopicCommand.replicationFactor(d));
        List<Object> partitions = new ArrayList<>();
        for (TopicPartitionInfo p : d.partitions()) {
            Map<String, Object> pj = new LinkedHashMap<>();
            pj.put("partition", p.partition());
            pj.put("leader", TopicCommand.leaderId(p));
            pj.put("replicas", p.replicas().stream().map(Node::id).toList());
            pj.put("isr", p.isr().stream().map(Node::id).toList());
            partitions.add(pj);
        }
        t.put("partitions", partitions);
        t.put("configs", new LinkedHashMap<Object, Object>(configs));
        return t;
    }
}
