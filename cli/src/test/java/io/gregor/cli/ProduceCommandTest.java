package io.gregor.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Properties;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

class ProduceCommandTest {

    private static ProduceCommand parse(String... args) {
        return (ProduceCommand) GregorCli.commandLine().parseArgs(args).subcommand().commandSpec().userObject();
    }

    @Test
    void shouldSplitKeyAtFirstSeparator() {
        ProduceCommand produce = parse("produce", "t", "--key-separator", "::");
        ProducerRecord<byte[], byte[]> record = produce.toRecord("k::v::w");
        assertThat(new String(record.key(), StandardCharsets.UTF_8)).isEqualTo("k");
        assertThat(new String(record.value(), StandardCharsets.UTF_8)).isEqualTo("v::w");
        assertThat(record.partition()).isNull();
    }

    @Test
    void shouldSendLineWithoutSeparatorWithoutKey() {
        ProducerRecord<byte[], byte[]> record = parse("produce", "t", "-k", ":", "-p", "2").toRecord("plain");
        assertThat(record.key()).isNull();
        assertThat(new String(record.value(), StandardCharsets.UTF_8)).isEqualTo("plain");
        assertThat(record.partition()).isEqualTo(2);
    }

    @Test
    void shouldTreatWholeLineAsValueWithoutKeySeparator() {
        ProducerRecord<byte[], byte[]> record = parse("produce", "t").toRecord("a:b");
        assertThat(record.key()).isNull();
        assertThat(new String(record.value(), StandardCharsets.UTF_8)).isEqualTo("a:b");
    }

    @Test
    void shouldDefaultToAcksAllWithoutCompression() {
        Properties props = parse("produce", "t").producerProperties();
        assertThat(props.getProperty("acks")).isEqualTo("all");
        assertThat(props.getProperty("compression.type")).isEqualTo("none");
        assertThat(props.getProperty("enable.idempotence")).isNull();
        assertThat(props.getProperty("request.timeout.ms")).isEqualTo("10000");
    }

    // Kafka refuses idempotence with acks other than all, so the CLI turns it off for acks 1 and 0.
    @Test
    void shouldDisableIdempotenceForAcksOneAndZero() {
        Properties props = parse("produce", "t", "--acks", "1", "--compression", "zstd").producerProperties();
        assertThat(props.getProperty("acks")).isEqualTo("1");
        assertThat(props.getProperty("enable.idempotence")).isEqualTo("false");
        assertThat(props.getProperty("compression.type")).isEqualTo("zstd");
        assertThat(parse("produce", "t", "--acks", "0").producerProperties().getProperty("acks")).isEqualTo("0");
        assertThat(parse("produce", "t", "--acks", "-1").producerProperties().getProperty("acks")).isEqualTo("all");
    }

    @Test
    void shouldRejectBadProduceArguments() {
        assertThat(CliRun.run("produce").exitCode()).isEqualTo(GregorCli.EXIT_USAGE);
        CliRun acks = CliRun.run("produce", "t", "--acks", "2");
        assertThat(acks.exitCode()).isEqualTo(GregorCli.EXIT_USAGE);
        assertThat(acks.err()).contains("'2' is not all, 1 or 0");
        assertThat(CliRun.run("produce", "t", "--compression", "brotli").exitCode()).isEqualTo(GregorCli.EXIT_USAGE);
        assertThat(CliRun.run("produce", "t", "--partition", "-1").exitCode()).isEqualTo(GregorCli.EXIT_USAGE);
        assertThat(CliRun.run("produce", "t", "--key-separator", "").exitCode()).isEqualTo(GregorCli.EXIT_USAGE);
    }
}
