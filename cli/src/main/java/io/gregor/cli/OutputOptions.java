package io.gregor.cli;

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
}
