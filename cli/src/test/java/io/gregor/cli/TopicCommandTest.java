package io.gregor.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import picocli.CommandLine;

class TopicCommandTest {

    @Test
    void shouldParseCreateOptions() {
        CommandLine cli = GregorCli.commandLine();
        CommandLine.ParseResult result = cli.parseArgs(
                "topic", "create", "orders", "--partitions", "6", "--replication-factor", "3", "--config",
                "cleanup.policy=compact", "-c", "retention.ms=1000", "--if-not-exists", "-o", "json", "-b", "h:1");
        TopicCreateCommand create = (TopicCreateCommand) result.subcommand().subcommand().commandSpec().userObject();
        assertThat(create.name).isEqualTo("orders");
        assertThat(create.partitions).isEqualTo(6);
        assertThat(create.replicationFactor).isEqualTo((short) 3);
        assertThat(create.configs).containsExactly(Map.entry("cleanup.policy", "compact"), Map.entry("retention.ms", "1000"));
        assertThat(create.ifNotExists).isTrue();
        assertThat(create.output.json()).isTrue();
        assertThat(create.client.bootstrapServers).isEqualTo("h:1");
    }

    @Test
    void shouldDefaultToLocalBrokerAndTableOutput() {
        CommandLine.ParseResult result = GregorCli.commandLine().parseArgs("topic", "list");
        TopicListCommand list = (TopicListCommand) result.subcommand().subcommand().commandSpec().userObject();
        String expected = System.getenv().getOrDefault("GREGOR_BOOTSTRAP", ClientOptions.DEFAULT_BOOTSTRAP);
        assertThat(list.client.bootstrapServers).isEqualTo(expected);
        assertThat(list.output.json()).isFalse();
    }

    @Test
    void shouldParseDescribeDeleteAndAlterConfig() {
        TopicDescribeCommand describe = (TopicDescribeCommand) GregorCli.commandLine()
                .parseArgs("topic", "describe", "a", "b").subcommand().subcommand().commandSpec().userObject();
        assertThat(describe.names).containsExactly("a", "b");
        TopicDeleteCommand delete = (TopicDeleteCommand) GregorCli.commandLine()
                .parseArgs("topic", "delete", "a", "b").subcommand().subcommand().commandSpec().userObject();
        assertThat(delete.names).containsExactly("a", "b");
        TopicAlterConfigCommand alter = (TopicAlterConfigCommand) GregorCli.commandLine()
                .parseArgs("topic", "alter-config", "a", "--set", "retention.ms=5", "--delete", "cleanup.policy")
                .subcommand().subcommand().commandSpec().userObject();
        assertThat(alter.set).containsExactly(Map.entry("retention.ms", "5"));
        assertThat(alter.delete).containsExactly("cleanup.policy");
    }

    @Test
    void shouldRejectBadTopicArguments() {
        assertThat(CliRun.run("topic", "create").exitCode()).isEqualTo(GregorCli.EXIT_USAGE);
        assertThat(CliRun.run("topic", "create", "t", "--partitions", "x").exitCode()).isEqualTo(GregorCli.EXIT_USAGE);
        assertThat(CliRun.run("topic", "create", "t", "--partitions", "0").err()).contains("--partitions must be");
        assertThat(CliRun.run("topic", "create", "t", "--config", "novalue").exitCode()).isEqualTo(GregorCli.EXIT_USAGE);
        assertThat(CliRun.run("topic", "delete").exitCode()).isEqualTo(GregorCli.EXIT_USAGE);
        assertThat(CliRun.run("topic", "list", "-o", "xml").exitCode()).isEqualTo(GregorCli.EXIT_USAGE);
        CliRun alter = CliRun.run("topic", "alter-config", "t");
        assertThat(alter.exitCode()).isEqualTo(GregorCli.EXIT_USAGE);
        assertThat(alter.err()).contains("--set KEY=VALUE or --delete KEY");
    }

    @Test
    void shouldAcceptOutputFormatInAnyCase() {
        CommandLine.ParseResult result = GregorCli.commandLine().parseArgs("topic", "list", "--output", "JSON");
        assertThat(((TopicListCommand) result.subcommand().subcommand().commandSpec().userObject()).output.json())
                .isTrue();
    }

    // Every client command fails fast, with one line and exit code 1, when nothing listens.
    @Test
    @Timeout(30)
    void shouldReportUnreachableBrokerForEveryClientCommand() {
        String bootstrap = "127.0.0.1:" + CliRun.closedPort();
        List<String[]> commands = List.of(
                new String[] {"topic", "list"},
                new String[] {"topic", "describe", "t"},
                new String[] {"topic", "create", "t"},
                new String[] {"topic", "delete", "t"},
                new String[] {"topic", "alter-config", "t", "--set", "retention.ms=1"},
                new String[] {"group", "list"},
                new String[] {"group", "describe", "g"},
                new String[] {"group", "reset-offsets", "g", "--all-topics", "--to-earliest"},
                new String[] {"group", "delete", "g"},
                new String[] {"consume", "t"});
        for (String[] command : commands) {
            long start = System.nanoTime();
            String[] args = java.util.stream.Stream.concat(
                            java.util.Arrays.stream(command), java.util.stream.Stream.of("-b", bootstrap))
                    .toArray(String[]::new);
            CliRun run = CliRun.run(args);
            assertThat(run.exitCode()).as(String.join(" ", command)).isEqualTo(GregorCli.EXIT_FAILURE);
            assertThat(run.err())
                    .as(String.join(" ", command))
                    .isEqualTo("error: cannot reach broker at " + bootstrap + " (connection refused)"
                            + System.lineSeparator());
            assertThat(System.nanoTime() - start).isLessThan(3_000_000_000L);
        }
        CliRun produce = CliRun.runWithInput("a\n", "produce", "t", "-b", bootstrap);
        assertThat(produce.exitCode()).isEqualTo(GregorCli.EXIT_FAILURE);
        assertThat(produce.err()).contains("cannot reach broker at " + bootstrap);
    }

    @Test
    void shouldReportMissingCommandConfigFile() {
        CliRun run = CliRun.run("topic", "list", "--command-config", "/nonexistent/client.properties");
        assertThat(run.exitCode()).isEqualTo(GregorCli.EXIT_FAILURE);
        assertThat(run.err()).contains("command config file not found: /nonexistent/client.properties");
    }
}
