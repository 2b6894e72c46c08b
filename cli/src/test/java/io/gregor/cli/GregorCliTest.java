package io.gregor.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class GregorCliTest {

    @Test
    void shouldListSubcommandsInTopLevelHelp() {
        CliRun run = CliRun.run("--help");
        assertThat(run.exitCode()).isZero();
        assertThat(run.out()).contains("Usage: gregor", "start", "topic", "group", "produce", "consume");
    }

    @Test
    void shouldPrintVersions() {
        CliRun run = CliRun.run("--version");
        assertThat(run.exitCode()).isZero();
        assertThat(run.out()).startsWith("gregor ").contains("kafka-clients 4.2.0", "Java ");
    }

    // Every command and subcommand documents itself and accepts --help and --version.
    @ParameterizedTest
    @ValueSource(strings = {
        "start", "topic", "topic create", "topic list", "topic describe", "topic delete", "topic alter-config",
        "group", "group list", "group describe", "group reset-offsets", "group delete", "produce", "consume"
    })
    void shouldPrintHelpForEveryCommand(String command) {
        CliRun run = CliRun.run((command + " --help").split(" "));
        assertThat(run.exitCode()).isZero();
        assertThat(run.out()).startsWith("Usage: gregor " + command);
        assertThat(run.err()).isEmpty();
        assertThat(CliRun.run((command + " --version").split(" ")).exitCode()).isZero();
    }

    @Test
    void shouldShowClientOptionsInClientCommandHelp() {
        for (String command : new String[] {"topic list", "topic create", "group list", "group reset-offsets", "produce",
            "consume", "cluster status"}) {
            String help = CliRun.run((command + " --help").split(" ")).out();
            assertThat(help).as(command).contains("--bootstrap-server", "--command-config", "GREGOR_BOOTSTRAP");
        }
        assertThat(CliRun.run("topic", "list", "--help").out()).contains("--output", "table, json");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "topic", "bogus", "topic bogus", "--bogus", "topic list --bogus", "start --bogus"})
    void shouldExitWithUsageErrorForMissingOrUnknownCommandsAndOptions(String args) {
        CliRun run = CliRun.run(args.isEmpty() ? new String[0] : args.split(" "));
        assertThat(run.exitCode()).isEqualTo(GregorCli.EXIT_USAGE);
        // picocli prints the usage, or for a near miss only the suggestions.
        assertThat(run.err()).containsAnyOf("Usage: gregor", "Possible solutions", "Did you mean");
        assertThat(run.out()).isEmpty();
    }

    @Test
    void shouldNameTheTopicWhenKafkaSaysUnknownTopicOrPartition() {
        Exception e = TopicCommand.unknownTopicOr(
                "t1",
                new java.util.concurrent.ExecutionException(
                        new org.apache.kafka.common.errors.UnknownTopicOrPartitionException("not hosted")));
        assertThat(GregorCli.describe(e)).isEqualTo("Topic 't1' does not exist.");
    }

    @Test
    void shouldPrintKafkaErrorMessagesAsTheyAre() {
        Exception e = new java.util.concurrent.ExecutionException(
                new org.apache.kafka.common.errors.TopicExistsException("Topic 'x' already exists."));
        assertThat(GregorCli.describe(e)).isEqualTo("Topic 'x' already exists.");
    }
}
