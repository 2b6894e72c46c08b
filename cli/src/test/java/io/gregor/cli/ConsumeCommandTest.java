package io.gregor.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.Properties;
import org.junit.jupiter.api.Test;

class ConsumeCommandTest {

    private static ConsumeCommand parse(String... args) {
        return (ConsumeCommand) GregorCli.commandLine().parseArgs(args).subcommand().commandSpec().userObject();
    }

    @Test
    void shouldParseStartPositionsAndLimits() {
        ConsumeCommand c = parse("consume", "t", "--from-beginning", "-n", "10", "-p", "1", "--print-key",
                "--timeout-ms", "500");
        assertThat(c.start.fromBeginning).isTrue();
        assertThat(c.maxRecords).isEqualTo(10);
        assertThat(c.partition).isEqualTo(1);
        assertThat(c.printKey).isTrue();
        assertThat(c.timeoutMs).isEqualTo(500);
        assertThat(parse("consume", "t", "--offset", "42").start.offset).isEqualTo(42);
        assertThat(parse("consume", "t", "--from-time", "2024-05-01T12:00:00Z").start.fromTimeMs)
                .isEqualTo(Instant.parse("2024-05-01T12:00:00Z").toEpochMilli());
        assertThat(parse("consume", "t", "--from-time", "1700000000000").start.fromTimeMs).isEqualTo(1700000000000L);
        assertThat(parse("consume", "t").start).isNull();
    }

    @Test
    void shouldReadWithoutGroupAndWithoutCreatingTopics() {
        Properties props = parse("consume", "t").consumerProperties();
        assertThat(props.getProperty("group.id")).isNull();
        assertThat(props.getProperty("enable.auto.commit")).isEqualTo("false");
        assertThat(props.getProperty("allow.auto.create.topics")).isEqualTo("false");
    }

    @Test
    void shouldRejectConflictingOrBadConsumeArguments() {
        CliRun both = CliRun.run("consume", "t", "--from-beginning", "--offset", "3");
        assertThat(both.exitCode()).isEqualTo(GregorCli.EXIT_USAGE);
        assertThat(both.err()).contains("mutually exclusive");
        CliRun time = CliRun.run("consume", "t", "--from-time", "yesterday");
        assertThat(time.exitCode()).isEqualTo(GregorCli.EXIT_USAGE);
        assertThat(time.err()).contains("neither epoch milliseconds nor an ISO-8601");
        assertThat(CliRun.run("consume", "t", "-n", "0").exitCode()).isEqualTo(GregorCli.EXIT_USAGE);
        assertThat(CliRun.run("consume", "t", "--offset", "-5").exitCode()).isEqualTo(GregorCli.EXIT_USAGE);
        assertThat(CliRun.run("consume", "t", "--timeout-ms", "abc").exitCode()).isEqualTo(GregorCli.EXIT_USAGE);
        assertThat(CliRun.run("consume").exitCode()).isEqualTo(GregorCli.EXIT_USAGE);
    }
}
