package io.gregor.cli;

import picocli.CommandLine.Command;

/** {@code gregor cluster ...}: the nodes, the metadata quorum and the health of the partitions. */
@Command(
        name = "cluster",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = "Show the nodes, the metadata quorum and partitions without enough replicas.",
        subcommands = {ClusterStatusCommand.class})
final class ClusterCommand {
}
