package io.gregor.cli;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.GroupListing;
import org.apache.kafka.clients.admin.ListGroupsOptions;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.GroupType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code gregor group list}: every group with its type, state and protocol type, like {@code --list --state --type}. */
@Command(
        name = "list",
        aliases = "ls",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = "List groups with their type, state and protocol type.")
final class GroupListCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ClientOptions client;

    @Mixin
    OutputOptions output;

    @Option(
            names = {"-s", "--state"},
            paramLabel = "STATE",
            split = ",",
            description = "Only groups in these states, comma-separated or repeated: Empty, Stable, PreparingRebalance, "
                    + "CompletingRebalance, Dead (any case).")
    List<String> states = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        Set<GroupState> wanted = parseStates();
        List<GroupListing> groups;
        try (Admin admin = client.admin()) {
            groups = new ArrayList<>(admin.listGroups(new ListGroupsOptions().inGroupStates(wanted)).all().get());
        }
        groups.sort(Comparator.comparing(GroupListing::groupId));
        var out = spec.commandLine().getOut();
        if (output.json()) {
            List<Object> json = new ArrayList<>();
            for (GroupListing g : groups) {
                Map<String, Object> j = new LinkedHashMap<>();
                j.put("group", g.groupId());
                j.put("type", type(g));
                j.put("state", state(g));
                j.put("protocol_type", g.protocol());
                json.add(j);
            }
            out.println(Json.write(json));
            out.flush();
        } else {
            Table table = new Table("GROUP", "TYPE", "STATE", "PROTOCOL-TYPE");
            groups.forEach(g -> table.row(g.groupId(), type(g), state(g), g.protocol().isEmpty() ? null : g.protocol()));
            table.print(out);
        }
        return GregorCli.EXIT_OK;
    }

    private Set<GroupState> parseStates() {
        Set<GroupState> valid = new LinkedHashSet<>(GroupState.groupStatesForType(GroupType.CLASSIC));
        valid.addAll(GroupState.groupStatesForType(GroupType.CONSUMER));
        Set<GroupState> parsed = new LinkedHashSet<>();
        for (String s : states) {
            GroupState state = GroupState.parse(s.trim());
            if (!valid.contains(state)) {
                throw new ParameterException(spec.commandLine(), "Invalid state '" + s + "'. Valid states are: "
                        + valid.stream().map(GroupState::toString).collect(Collectors.joining(", ")));
            }
            parsed.add(state);
        }
        return parsed;
    }

    private static String type(GroupListing g) {
        return g.type().orElse(GroupType.UNKNOWN).toString();
    }

    private static String state(GroupListing g) {
        return g.groupState().orElse(GroupState.UNKNOWN).toString();
    }
}
