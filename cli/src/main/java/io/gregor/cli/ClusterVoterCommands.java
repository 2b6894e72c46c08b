package io.gregor.cli;

import java.util.Set;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.RaftVoterEndpoint;
import org.apache.kafka.common.Uuid;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code gregor cluster add-voter ID HOST:PORT} and {@code gregor cluster remove-voter ID}: membership changes of the
 * metadata quorum (KIP-853's AddRaftVoter and RemoveRaftVoter, sent through any node to the active controller).
 */
final class ClusterVoterCommands {
    private ClusterVoterCommands() {
    }

    @Command(
            name = "add-voter",
            mixinStandardHelpOptions = true,
            versionProvider = VersionProvider.class,
            description = {"Make a node a voter of the metadata quorum.",
                "The node must be running and observing the quorum on its CONTROLLER listener: started with "
                        + "process.roles=broker,controller and controller.quorum.bootstrap.servers instead of "
                        + "controller.quorum.voters. Answers once the new configuration is committed."})
    static final class Add implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        ClientOptions client;

        @Parameters(index = "0", paramLabel = "NODE_ID", description = "The node.id of the node to add.")
        int nodeId;

        @Parameters(index = "1", paramLabel = "HOST:PORT", description = "Its CONTROLLER listener, as in its listeners.")
        String endpoint;

        @Option(names = "--listener-name", defaultValue = "CONTROLLER", description = "The controller listener's name "
                + "(default: ${DEFAULT-VALUE}).")
        String listenerName;

        @Override
        public Integer call() throws Exception {
            int colon = endpoint.lastIndexOf(':');
            int port;
            try {
                port = colon <= 0 ? -1 : Integer.parseInt(endpoint.substring(colon + 1));
            } catch (NumberFormatException e) {
                port = -1;
            }
            if (port < 1 || port > 65535) {
                throw new CliException("expected HOST:PORT with a port in 1-65535, not '" + endpoint + "'");
            }
            String host = endpoint.substring(0, colon);
            try (Admin admin = client.admin()) {
                admin.addRaftVoter(nodeId, Uuid.ZERO_UUID, Set.of(new RaftVoterEndpoint(listenerName, host, port)))
                        .all().get();
            }
            spec.commandLine().getOut().println("Node " + nodeId + " is a voter of the metadata quorum");
            return 0;
        }
    }

    @Command(
            name = "remove-voter",
            mixinStandardHelpOptions = true,
            versionProvider = VersionProvider.class,
            description = {"Remove a node from the voters of the metadata quorum.",
                "If it goes on running it keeps receiving the metadata log as an observer (and keeps its partitions). "
                        + "The last voter cannot be removed. Answers once the new configuration is committed."})
    static final class Remove implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        ClientOptions client;

        @Parameters(index = "0", paramLabel = "NODE_ID", description = "The node.id of the voter to remove.")
        int nodeId;

        @Override
        public Integer call() throws Exception {
            try (Admin admin = client.admin()) {
                admin.removeRaftVoter(nodeId, Uuid.ZERO_UUID).all().get();
            }
            spec.commandLine().getOut().println("Node " + nodeId + " is no longer a voter of the metadata quorum");
            return 0;
        }
    }
}
