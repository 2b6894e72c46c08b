package io.gregor.cli;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code gregor group delete GROUP...}: deletes each group with its committed offsets; a group with active members
 * cannot be deleted (Kafka's NON_EMPTY_GROUP). Reports each failure and exits 1 if any failed.
 */
@Command(
        name = "delete",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = "Delete consumer groups that have no active members, with their committed offsets.")
final class GroupDeleteCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ClientOptions client;

    @Mixin
    OutputOptions output;

    @Parameters(paramLabel = "GROUP", arity = "1..*", description = "Group ids.")
    List<String> names;

    @Override
    public Integer call() throws Exception {
        Map<String, String> failures = new LinkedHashMap<>();
        try (Admin admin = client.admin()) {
            Map<String, KafkaFuture<Void>> results = admin.deleteConsumerGroups(names).deletedGroups();
            for (String name : names) {
                try {
                    results.get(name).get();
                } catch (ExecutionException e) {
                    failures.put(name, failure(name, e));
                }
            }
        }
        return output.reportDeletions(spec, names, failures, "group", "Deleted consumer group");
    }

    /** Kafka's message for the error code (e.g. "The group is not empty."), naming the group. */
    private static String failure(String group, ExecutionException e) {
        if (e.getCause() instanceof GroupIdNotFoundException) {
            return GroupCommand.noSuchGroup(group).getMessage();
        }
        return "Cannot delete consumer group '" + group + "': " + GregorCli.describe(e);
    }
}
