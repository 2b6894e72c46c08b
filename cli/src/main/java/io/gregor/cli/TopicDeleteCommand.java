package io.gregor.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.KafkaFuture;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code gregor topic delete NAME...}: deletes each topic; reports each failure and exits 1 if any failed. */
@Command(
        name = "delete",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = "Delete topics.")
final class TopicDeleteCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ClientOptions client;

    @Mixin
    OutputOptions output;

    @Parameters(paramLabel = "NAME", arity = "1..*", description = "Topic names.")
    List<String> names;

    @Override
    public Integer call() throws Exception {
        Map<String, String> failures = new LinkedHashMap<>();
        try (Admin admin = client.admin()) {
            Map<String, KafkaFuture<Void>> results = admin.deleteTopics(names).topicNameValues();
            for (String name : names) {
                try {
                    results.get(name).get();
                } catch (ExecutionException e) {
                    failures.put(name, GregorCli.describe(TopicCommand.unknownTopicOr(name, e)));
                }
            }
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (output.json()) {
            List<Object> json = new ArrayList<>();
            for (String name : names) {
                Map<String, Object> t = new LinkedHashMap<>();
                t.put("name", name);
                t.put("deleted", !failures.containsKey(name));
                if (failures.containsKey(name)) {
                    t.put("error", failures.get(name));
                }
                json.add(t);
            }
            out.println(Json.write(json));
        } else {
            names.stream().filter(n -> !failures.containsKey(n)).forEach(n -> out.println("Deleted topic " + n));
        }
        out.flush();
        failures.forEach((name, why) -> err.println("error: " + why));
        err.flush();
        return failures.isEmpty() ? GregorCli.EXIT_OK : GregorCli.EXIT_FAILURE;
    }
}
