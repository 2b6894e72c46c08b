package io.gregor.cli;

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
        return output.reportDeletions(spec, names, failures, "name", "Deleted topic");
    }
}
