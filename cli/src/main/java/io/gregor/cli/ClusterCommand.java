package io.gregor.cli;

import picocli.CommandLine.Command;

/** {@code gregor cluster ...}: the nodes, the metadata quorum (and changes to its voters), the health of the partitions. */
@Command(
        name = "cluster",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = "Show the nodes, the metadata quorum and partitions without enough replicas; add or remove voters.",
        subcommands = {ClusterStatusCommand.class, ClusterVoterCommands.Add.class, ClusterVoterCommands.Remove.class})
final class ClusterCommand {
}
