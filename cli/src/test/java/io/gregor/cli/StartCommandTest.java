package io.gregor.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.gregor.broker.config.BrokerConfig;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StartCommandTest {

    private static StartCommand parse(String... args) {
        return (StartCommand) GregorCli.commandLine().parseArgs(args).subcommand().commandSpec().userObject();
    }

    @Test
    void shouldMapDataDirAndListenersOverSetOptions() {
        StartCommand start = parse("start", "--set", "num.partitions=3", "--set", "log.dirs=/ignored",
                "--data-dir", "/var/gregor", "--listeners", "PLAINTEXT://0.0.0.0:9092,PLAINTEXT://[::1]:9093");
        assertThat(start.effectiveOverrides())
                .containsEntry("num.partitions", "3")
                .containsEntry("log.dirs", "/var/gregor")
                .containsEntry("listeners", "PLAINTEXT://0.0.0.0:9092,PLAINTEXT://[::1]:9093");
    }

    @Test
    void shouldLeaveDefaultsToBrokerConfig() {
        StartCommand start = parse("start");
        assertThat(start.effectiveOverrides()).isEmpty();
        BrokerConfig config = start.loadConfig();
        assertThat(StartCommand.startedLine(config, config.listeners()))
                .isEqualTo("Gregor started: PLAINTEXT://127.0.0.1:9092, data in ./data (node 1)");
    }

    @Test
    void shouldReadConfigFileUnderOverrides(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("server.properties");
        Files.writeString(file, "node.id=7\nlog.dirs=/from/file\n");
        BrokerConfig config = parse("start", "--config", file.toString(), "--data-dir", "/from/flag").loadConfig();
        assertThat(config.nodeId()).isEqualTo(7);
        assertThat(config.logDirs()).containsExactly(Path.of("/from/flag"));
    }

    @Test
    void shouldReportBoundPortsInStartedLine() {
        BrokerConfig config = BrokerConfig.of(Map.of("listeners", "PLAINTEXT://127.0.0.1:0", "log.dirs", "/d"));
        var listeners = StartCommand.boundListeners(config, List.of(new InetSocketAddress("127.0.0.1", 40123)));
        assertThat(StartCommand.startedLine(config, listeners))
                .isEqualTo("Gregor started: PLAINTEXT://127.0.0.1:40123, data in /d (node 1)");
    }

    @Test
    void shouldExitOneWithOneLineOnBadConfig() {
        CliRun run = CliRun.run("start", "--listeners", "bogus");
        assertThat(run.exitCode()).isEqualTo(GregorCli.EXIT_FAILURE);
        assertThat(run.err()).isEqualTo("error: Invalid value bogus for configuration listeners: expected NAME://host:port"
                + System.lineSeparator());
        CliRun missing = CliRun.run("start", "--config", "/nonexistent/server.properties");
        assertThat(missing.exitCode()).isEqualTo(GregorCli.EXIT_FAILURE);
        assertThat(missing.err()).contains("config file not found: /nonexistent/server.properties");
    }

    @Test
    void shouldRejectMalformedSet() {
        assertThat(CliRun.run("start", "--set", "novalue").exitCode()).isEqualTo(GregorCli.EXIT_USAGE);
    }
}
