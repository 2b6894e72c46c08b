package io.gregor.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.gregor.testkit.GregorCluster;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code gregor group ...} against a real in-process broker, with group state made by a real KafkaConsumer and the
 * Admin client. Topic {@code orders} has 5 records in partition 0 and 3 in partition 1.
 */
@Timeout(120)
class GroupCommandTest {
    private static final String NL = System.lineSeparator();
    private static final TopicPartition P0 = new TopicPartition("orders", 0);
    private static final TopicPartition P1 = new TopicPartition("orders", 1);

    @TempDir
    static Path dir;

    static GregorCluster broker;
    static Admin admin;

    @BeforeAll
    static void startBroker() throws Exception {
        broker = GregorCluster.single().dataDir(dir.resolve("data")).with("group.initial.rebalance.delay.ms", "100").start();
        admin = broker.admin();
        admin.createTopics(List.of(new NewTopic("orders", 2, (short) 1))).all().get();
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(
                Map.of("bootstrap.servers", broker.bootstrapServers()), new StringSerializer(), new StringSerializer())) {
            for (int i = 0; i < 5; i++) {
                producer.send(new ProducerRecord<>("orders", 0, null, "a" + i));
            }
            for (int i = 0; i < 3; i++) {
                producer.send(new ProducerRecord<>("orders", 1, null, "b" + i));
            }
            producer.flush();
        }
    }

    @AfterAll
    static void stopBroker() {
        if (broker != null) {
            broker.close();
        }
    }

    private static CliRun run(String... args) {
        return CliRun.run(Stream.concat(Stream.of(args), Stream.of("-b", broker.bootstrapServers()))
                .toArray(String[]::new));
    }

    /** A group with no members and these committed offsets, as AlterConsumerGroupOffsets leaves it. */
    private static void commit(String group, long p0, long p1) throws Exception {
        admin.alterConsumerGroupOffsets(group, Map.of(P0, new OffsetAndMetadata(p0), P1, new OffsetAndMetadata(p1)))
                .all().get();
    }

    private static Map<TopicPartition, Long> committed(String group) throws Exception {
        return admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get().entrySet().stream()
                .collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().offset()));
    }

    private static KafkaConsumer<String, String> joinedConsumer(String group) {
        Properties props = new Properties();
        props.put("bootstrap.servers", broker.bootstrapServers());
        props.put("group.id", group);
        props.put("client.id", "cli-test-" + group);
        props.put("enable.auto.commit", "false");
        props.put("auto.offset.reset", "earliest");
        KafkaConsumer<String, String> consumer =
                new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer());
        consumer.subscribe(List.of("orders"));
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (consumer.assignment().size() < 2 && System.nanoTime() < deadline) {
            consumer.poll(Duration.ofMillis(100));
        }
        assertThat(consumer.assignment()).containsExactlyInAnyOrder(P0, P1);
        return consumer;
    }

    // A running consumer that committed 3 of 5 records in partition 0 and nothing in partition 1: both partitions
    // show its member, partition 0 a lag of 2, partition 1 '-' for the offset and lag. The active group can neither
    // be reset nor deleted, with Kafka's messages; once the consumer leaves, the rows keep their offsets without owner.
    @Test
    void shouldDescribeActiveGroupAndRefuseToResetOrDeleteIt() throws Exception {
        try (KafkaConsumer<String, String> consumer = joinedConsumer("active")) {
            consumer.commitSync(Map.of(P0, new OffsetAndMetadata(3)));
            String member = admin.describeConsumerGroups(List.of("active")).all().get().get("active").members()
                    .iterator().next().consumerId();

            CliRun describe = run("group", "describe", "active");
            assertThat(describe.exitCode()).as(describe.err()).isZero();
            List<String> lines = describe.out().lines().toList();
            assertThat(lines.get(0)).startsWith("Group: active  state: Stable  assignor: range  members: 1  coordinator: ");
            assertThat(lines.get(1).split(" +")).containsExactly("TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET",
                    "LAG", "CONSUMER-ID", "HOST", "CLIENT-ID");
            assertThat(lines.get(2).split(" +")).containsExactly("orders", "0", "3", "5", "2", member, "/127.0.0.1",
                    "cli-test-active");
            assertThat(lines.get(3).split(" +")).containsExactly("orders", "1", "-", "3", "-", member, "/127.0.0.1",
                    "cli-test-active");
            assertThat(lines).hasSize(4);

            CliRun json = run("group", "describe", "active", "-o", "json");
            assertThat(json.out()).startsWith("[{\"group\":\"active\",\"type\":\"Classic\",\"state\":\"Stable\","
                    + "\"assignor\":\"range\",\"member_count\":1,\"coordinator\":{\"id\":1,")
                    .contains("\"partitions\":[{\"topic\":\"orders\",\"partition\":0,\"current_offset\":3,"
                            + "\"log_end_offset\":5,\"lag\":2,\"consumer_id\":\"" + member + "\",\"host\":\"/127.0.0.1\","
                            + "\"client_id\":\"cli-test-active\"},{\"topic\":\"orders\",\"partition\":1,"
                            + "\"current_offset\":null,\"log_end_offset\":3,\"lag\":null,");

            CliRun members = run("group", "describe", "active", "--members");
            assertThat(members.out().lines().skip(1).toList()).containsExactly(
                    "CONSUMER-ID" + " ".repeat(member.length() - 9) + "HOST        CLIENT-ID        PARTITIONS  ASSIGNMENT",
                    member + "  /127.0.0.1  cli-test-active  2           orders:0,1");
            CliRun state = run("group", "describe", "active", "--state");
            assertThat(state.out().lines().toList().get(1)).startsWith("active  Classic  Stable  range     1        ");

            CliRun reset = run("group", "reset-offsets", "active", "--all-topics", "--to-earliest", "--execute");
            assertThat(reset.exitCode()).isEqualTo(GregorCli.EXIT_FAILURE);
            assertThat(reset.err()).isEqualTo("error: Assignments can only be reset if the group 'active' is inactive, "
                    + "but the current state is Stable." + NL);
            assertThat(committed("active")).containsExactly(Map.entry(P0, 3L));

            CliRun delete = run("group", "delete", "active");
            assertThat(delete.exitCode()).isEqualTo(GregorCli.EXIT_FAILURE);
            assertThat(delete.err()).isEqualTo("error: Cannot delete consumer group 'active': The group is not empty." + NL);
        }
        CliRun after = run("group", "describe", "active");
        assertThat(after.out().lines().toList()).containsExactly(
                after.out().lines().findFirst().orElseThrow(),
                "TOPIC   PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG  CONSUMER-ID  HOST  CLIENT-ID",
                "orders  0          3               5               2    -            -     -");
        assertThat(after.out()).startsWith("Group: active  state: Empty  assignor: -  members: 0  coordinator: ");
    }

    @Test
    void shouldListGroupsWithTypeStateAndProtocolType() throws Exception {
        commit("listed-idle", 1, 1);
        try (KafkaConsumer<String, String> consumer = joinedConsumer("listed-active")) {
            CliRun list = run("group", "list");
            assertThat(list.exitCode()).isZero();
            assertThat(list.out().lines().findFirst().orElseThrow().split(" +"))
                    .containsExactly("GROUP", "TYPE", "STATE", "PROTOCOL-TYPE");
            assertThat(list.out().lines().map(l -> List.of(l.split(" +"))))
                    .contains(List.of("listed-active", "Classic", "Stable", "consumer"),
                            List.of("listed-idle", "Classic", "Empty", "-"));

            CliRun empty = run("group", "list", "--state", "empty");
            assertThat(empty.out()).contains("listed-idle").doesNotContain("listed-active");
            assertThat(run("group", "list", "--state", "Stable,PreparingRebalance").out())
                    .contains("listed-active").doesNotContain("listed-idle");
            assertThat(run("group", "list", "-o", "json", "--state", "Stable").out())
                    .contains("{\"group\":\"listed-active\",\"type\":\"Classic\",\"state\":\"Stable\","
                            + "\"protocol_type\":\"consumer\"}");
        }
        CliRun bad = run("group", "list", "--state", "Sleepy");
        assertThat(bad.exitCode()).isEqualTo(GregorCli.EXIT_USAGE);
        assertThat(bad.err()).contains("Invalid state 'Sleepy'. Valid states are: ");
    }

    // The dry run prints the plan and changes nothing; --execute commits exactly the plan.
    @Test
    void shouldResetOffsetsOnlyWithExecute() throws Exception {
        commit("resettable", 1, 1);
        CliRun dry = run("group", "reset-offsets", "resettable", "--all-topics", "--to-latest");
        assertThat(dry.exitCode()).as(dry.err()).isZero();
        assertThat(dry.out()).isEqualTo("GROUP       TOPIC   PARTITION  NEW-OFFSET" + NL
                + "resettable  orders  0          5" + NL
                + "resettable  orders  1          3" + NL);
        assertThat(dry.err()).isEqualTo("Dry run: offsets of 2 partitions not changed; add --execute to commit them." + NL);
        assertThat(committed("resettable")).containsOnly(Map.entry(P0, 1L), Map.entry(P1, 1L));

        CliRun executed = run("group", "reset-offsets", "resettable", "--all-topics", "--to-latest", "--execute");
        assertThat(executed.out()).isEqualTo(dry.out());
        assertThat(executed.err()).isEqualTo("Committed new offsets for 2 partitions of group resettable." + NL);
        assertThat(committed("resettable")).containsOnly(Map.entry(P0, 5L), Map.entry(P1, 3L));

        CliRun json = run("group", "reset-offsets", "resettable", "--topic", "orders:1", "--to-earliest", "--execute",
                "-o", "json");
        assertThat(json.out()).isEqualTo("{\"group\":\"resettable\",\"executed\":true,\"partitions\":"
                + "[{\"topic\":\"orders\",\"partition\":1,\"new_offset\":0}]}" + NL);
        assertThat(committed("resettable")).containsOnly(Map.entry(P0, 5L), Map.entry(P1, 0L));
    }

    // --to-offset and --shift-by are clamped to [earliest, log-end] with a note; --to-datetime picks the first record
    // at or after the time, or the log-end offset when there is none.
    @Test
    void shouldComputeEachKindOfTarget() throws Exception {
        commit("targets", 2, 2);
        CliRun toOffset = run("group", "reset-offsets", "targets", "--topic", "orders", "--to-offset", "4");
        assertThat(toOffset.out()).contains("targets  orders  0          4", "targets  orders  1          3");
        assertThat(toOffset.err()).startsWith(
                "Offset 4 is past the end of orders-1; using its log-end offset 3." + NL + "Dry run: ");

        CliRun shift = run("group", "reset-offsets", "targets", "--topic", "orders:0,1", "--shift-by", "-5");
        assertThat(shift.out()).contains("targets  orders  0          0", "targets  orders  1          0");
        assertThat(shift.err()).contains("Offset -3 is before the start of orders-0; using its earliest offset 0.");
        assertThat(run("group", "reset-offsets", "targets", "--topic", "orders:0", "--shift-by", "+2").out())
                .contains("targets  orders  0          4");

        CliRun past = run("group", "reset-offsets", "targets", "--all-topics", "--to-datetime", "2000-01-01T00:00:00.000");
        assertThat(past.out()).contains("targets  orders  0          0", "targets  orders  1          0");
        CliRun future = run("group", "reset-offsets", "targets", "--all-topics", "--to-datetime", "2999-01-01T00:00:00Z");
        assertThat(future.out()).contains("targets  orders  0          5", "targets  orders  1          3");
        assertThat(future.err()).contains(
                "No record in orders-0 at or after 2999-01-01T00:00:00Z; using its log-end offset 5.");
        assertThat(committed("targets")).containsOnly(Map.entry(P0, 2L), Map.entry(P1, 2L));
    }

    // Kafka's tool resets a group the coordinator does not know yet (state Dead), which creates its offsets.
    @Test
    void shouldResetAnUnknownGroupAndReportBadScopes() throws Exception {
        CliRun fresh = run("group", "reset-offsets", "fresh", "--topic", "orders", "--to-earliest", "--execute");
        assertThat(fresh.exitCode()).as(fresh.err()).isZero();
        assertThat(committed("fresh")).containsOnly(Map.entry(P0, 0L), Map.entry(P1, 0L));

        CliRun nothing = run("group", "reset-offsets", "never-committed", "--all-topics", "--to-earliest");
        assertThat(nothing.exitCode()).isZero();
        assertThat(nothing.out()).isEmpty();
        assertThat(nothing.err()).isEqualTo("Nothing to reset: group never-committed has no committed offsets." + NL);

        CliRun noTopic = run("group", "reset-offsets", "fresh", "--topic", "nope", "--to-earliest");
        assertThat(noTopic.exitCode()).isEqualTo(GregorCli.EXIT_FAILURE);
        assertThat(noTopic.err()).isEqualTo("error: Topic 'nope' does not exist." + NL);
        CliRun noPartition = run("group", "reset-offsets", "fresh", "--topic", "orders:0,9", "--to-earliest");
        assertThat(noPartition.err())
                .isEqualTo("error: Partition 9 of topic 'orders' does not exist (it has 2 partitions)." + NL);
        CliRun noCommit = run("group", "reset-offsets", "never-committed", "--topic", "orders:1", "--shift-by", "1");
        assertThat(noCommit.err()).isEqualTo(
                "error: Cannot shift the offset of orders-1: group 'never-committed' has no committed offset for it." + NL);
    }

    @Test
    void shouldDeleteInactiveGroupsAndReportUnknownOnes() throws Exception {
        commit("doomed", 1, 1);
        commit("doomed-too", 1, 1);
        CliRun delete = run("group", "delete", "doomed", "missing");
        assertThat(delete.exitCode()).isEqualTo(GregorCli.EXIT_FAILURE);
        assertThat(delete.out()).isEqualTo("Deleted consumer group doomed" + NL);
        assertThat(delete.err()).isEqualTo("error: Consumer group 'missing' does not exist." + NL);
        assertThat(committed("doomed")).isEmpty();

        CliRun json = run("group", "delete", "doomed-too", "doomed", "-o", "json");
        assertThat(json.out()).isEqualTo("[{\"group\":\"doomed-too\",\"deleted\":true},{\"group\":\"doomed\","
                + "\"deleted\":false,\"error\":\"Consumer group 'doomed' does not exist.\"}]" + NL);
        assertThat(run("group", "list").out()).doesNotContain("doomed");

        CliRun describe = run("group", "describe", "doomed");
        assertThat(describe.exitCode()).isEqualTo(GregorCli.EXIT_FAILURE);
        assertThat(describe.err()).isEqualTo("error: Consumer group 'doomed' does not exist." + NL);
        assertThat(describe.out()).isEmpty();
    }

    @Test
    void shouldParseResetOffsetsOptions() {
        CommandLine.ParseResult result = GregorCli.commandLine().parseArgs("group", "reset-offsets", "g", "--topic",
                "a", "--topic", "b:1,2", "--shift-by", "-2", "--execute");
        GroupResetOffsetsCommand reset =
                (GroupResetOffsetsCommand) result.subcommand().subcommand().commandSpec().userObject();
        assertThat(reset.group).isEqualTo("g");
        assertThat(reset.scope.topics).containsExactly("a", "b:1,2");
        assertThat(reset.parseTopics()).containsExactly(Map.entry("a", List.of()), Map.entry("b", List.of(1, 2)));
        assertThat(reset.target.shiftBy).isEqualTo(-2);
        assertThat(reset.execute).isTrue();
    }

    @Test
    void shouldRejectBadGroupArguments() {
        List<String[]> usage = List.of(
                new String[] {"group", "reset-offsets", "g", "--to-earliest"},
                new String[] {"group", "reset-offsets", "g", "--all-topics"},
                new String[] {"group", "reset-offsets", "g", "--all-topics", "--topic", "t", "--to-earliest"},
                new String[] {"group", "reset-offsets", "g", "--all-topics", "--to-earliest", "--to-latest"},
                new String[] {"group", "reset-offsets", "g", "--all-topics", "--to-datetime", "yesterday"},
                new String[] {"group", "reset-offsets", "g", "--all-topics", "--to-offset", "x"},
                new String[] {"group", "reset-offsets", "g", "--topic", "t:x", "--to-earliest"},
                new String[] {"group", "describe", "g", "--members", "--state"},
                new String[] {"group", "delete"});
        for (String[] args : usage) {
            assertThat(CliRun.run(args).exitCode()).as(String.join(" ", args)).isEqualTo(GregorCli.EXIT_USAGE);
        }
        assertThat(CliRun.run("group", "reset-offsets", "g", "--topic", "t:x", "--to-earliest").err())
                .contains("Invalid partition 'x' in --topic t:x");
    }
}
