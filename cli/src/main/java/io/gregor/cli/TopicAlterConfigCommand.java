package io.gregor.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.config.ConfigResource;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code gregor topic alter-config NAME --set k=v --delete k}: one incremental AlterConfigs request. */
@Command(
        name = "alter-config",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = "Set or remove topic configs (removed ones fall back to the broker default).")
final class TopicAlterConfigCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ClientOptions client;

    @Mixin
    OutputOptions output;

    @Parameters(index = "0", paramLabel = "NAME", description = "Topic name.")
    String name;

    @Option(names = {"-s", "--set"}, paramLabel = "KEY=VALUE", description = "Config to set (repeatable).")
    Map<String, String> set = new LinkedHashMap<>();

    @Option(names = {"-d", "--delete"}, paramLabel = "KEY", description = "Config to remove (repeatable).")
    List<String> delete = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        if (set.isEmpty() && delete.isEmpty()) {
            throw new ParameterException(spec.commandLine(), "Give at least one --set KEY=VALUE or --delete KEY");
        }
        List<AlterConfigOp> ops = new ArrayList<>();
        set.forEach((k, v) -> ops.add(new AlterConfigOp(new ConfigEntry(k, v), AlterConfigOp.OpType.SET)));
        delete.forEach(k -> ops.add(new AlterConfigOp(new ConfigEntry(k, null), AlterConfigOp.OpType.DELETE)));
        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, name);
        try (Admin admin = client.admin()) {
            try {
                admin.incrementalAlterConfigs(Map.of(resource, ops)).all().get();
            } catch (ExecutionException e) {
                throw TopicCommand.unknownTopicOr(name, e);
            }
        }
        var out = spec.commandLine().getOut();
        if (output.json()) {
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("name", name);
            json.put("set", new LinkedHashMap<Object, Object>(set));
            json.put("deleted", delete);
            out.println(Json.write(json));
        } else {
            set.forEach((k, v) -> out.println("Set " + k + "=" + v + " on topic " + name));
            delete.forEach(k -> out.println("Removed " + k + " from topic " + name));
        }
        out.flush();
        return GregorCli.EXIT_OK;
    }
}
