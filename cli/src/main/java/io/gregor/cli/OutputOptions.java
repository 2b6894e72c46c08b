package io.gregor.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;

/** The {@code --output} option shared by commands that print results for people or for scripts. */
final class OutputOptions {
    enum Format {
        table,
        json
    }

    @Option(
            names = {"-o", "--output"},
            paramLabel = "FORMAT",
            defaultValue = "table",
            description = "Output format: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
    Format format = Format.table;

    boolean json() {
        return format == Format.json;
    }

    /**
     * Prints the outcome of deleting each of {@code names} (topics, groups): a JSON list of {@code {key: name, deleted,
     * error}} or one "{@code deletedText} NAME" line per deleted name, then one "error: ..." line per failure on stderr.
     *
     * @return the exit code: failure when any deletion failed
     */
    int reportDeletions(CommandSpec spec, List<String> names, Map<String, String> failures, String key, String deletedText) {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (json()) {
            List<Object> json = new ArrayList<>();
            for (String name : names) {
                Map<String, Object> entry = new LinkedHashMap<>();
                entry.put(key, name);
                entry.put("deleted", !failures.containsKey(name));
                if (failures.containsKey(name)) {
                    entry.put("error", failures.get(name));
                }
                json.add(entry);
            }
            out.println(Json.write(json));
        } else {
            names.stream().filter(n -> !failures.containsKey(n)).distinct().forEach(n -> out.println(deletedText + " " + n));
        }
        out.flush();
        failures.forEach((name, why) -> err.println("error: " + why));
        err.flush();
        return failures.isEmpty() ? GregorCli.EXIT_OK : GregorCli.EXIT_FAILURE;
    }
}
