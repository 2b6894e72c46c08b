package io.gregor.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.gregor.testkit.GregorCluster;
import io.gregor.cli.GregorCli;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
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

/**
 * Kafka's own {@code kafka-consumer-groups.sh} (ConsumerGroupCommand of kafka-tools 4.2.0, in its own JVM) against
 * Gregor, checked against {@code gregor group}: both must show the same offsets, log-end offsets, lag and owners, and
 * what one tool changes the other must see. Topic {@code cg-orders} holds 10, 7 and 4 records in partitions 0-2.
 */
@Timeout(300)
class GroupCommandIT {
    private static final String TOOL = "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand";
    private static final String TOPIC = "cg-orders";
    private static final long[] LOG_END = {10, 7, 4};

    static GregorCluster gregor;
    static String bootstrap;
    static Admin admin;

    @BeforeAll
    static void startBroker() throws Exception {
        gregor = GregorCluster.single().with("group.initial.rebalance.delay.ms", "300").start();
        bootstrap = gregor.bootstrapServers();
        admin = Admin.create(Map.of("bootstrap.servers", bootstrap));
        admin.createTopics(List.of(new NewTopic(TOPIC, 3, (short) 1))).all().get();
        try (KafkaProducer<String, String> producer =
                new KafkaProducer<>(Map.of("bootstrap.servers", bootstrap), new StringSerializer(), new StringSerializer())) {
            for (int p = 0; p < LOG_END.length; p++) {
                for (int i = 0; i < LOG_END[p]; i++) {
                    producer.send(new ProducerRecord<>(TOPIC, p, null, "v" + p + "-" + i));
                }
            }
            producer.flush();
        }
    }

    @AfterAll
    static void stopBroker() {
        if (admin != null) {
            admin.close();
        }
        if (gregor != null) {
            gregor.close();
        }
    }

    /** Kafka's tool; it exits 0 even when it prints an error, so the output is what tells. */
    private static Subprocess.Result kafka(String... args) throws Exception {
        String[] full = Stream.concat(Stream.of("--bootstrap-server", bootstrap), Stream.of(args)).toArray(String[]::new);
        Subprocess.Result result = Subprocess.kafkaTool(TOOL, null, full).assertOk();
        System.out.println("$ kafka-consumer-groups.sh " + String.join(" ", args) + "\n" + result.stdout()
                + (result.stderr().isBlank() ? "" : "[stderr]\n" + result.stderr()));
        return result;
    }

    record Gregor(int exitCode, String out, String err) {}

    private static Gregor gregor(String... args) {
        var cli = GregorCli.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int code = cli.execute(Stream.concat(Stream.of(args), Stream.of("-b", bootstrap)).toArray(String[]::new));
        System.out.println("$ gregor " + String.join(" ", args) + "\n" + out + (err.toString().isBlank() ? "" : "[stderr]\n" + err));
        return new Gregor(code, out.toString(), err.toString());
    }

    /**
     * The rows of {@code --describe} by "topic-partition": CURRENT-OFFSET, LOG-END-OFFSET, LAG, CONSUMER-ID, HOST,
     * CLIENT-ID. Kafka's rows start with the group; Gregor's have a group line above the table instead.
     */
    private static Map<String, List<String>> kafkaRows(String group, String stdout) {
        Map<String, List<String>> rows = new TreeMap<>();
        stdout.lines().map(l -> l.trim().split("\\s+")).filter(f -> f.length == 9 && f[0].equals(group))
                .forEach(f -> rows.put(f[1] + "-" + f[2], List.of(f).subList(3, 9)));
        return rows;
    }

    private static Map<String, List<String>> gregorRows(String stdout) {
        Map<String, List<String>> rows = new TreeMap<>();
        stdout.lines().map(l -> l.trim().split("\\s+")).filter(f -> f.length == 8 && f[0].equals(TOPIC))
                .forEach(f -> rows.put(f[0] + "-" + f[1], List.of(f).subList(2, 8)));
        return rows;
    }

    /** The NEW-OFFSET of each "topic-partition" in a reset plan (Kafka's rows start with the group, as Gregor's do). */
    private static Map<String, String> planRows(String group, String stdout) {
        Map<String, String> rows = new TreeMap<>();
        stdout.lines().map(l -> l.trim().split("\\s+")).filter(f -> f.length == 4 && f[0].equals(group))
                .forEach(f -> rows.put(f[1] + "-" + f[2], f[3]));
        return rows;
    }

    /** The line Kafka's tool prints after "Error: ". */
    private static String kafkaError(Subprocess.Result r) {
        return r.stdout().lines().filter(l -> l.startsWith("Error: ")).findFirst().orElseThrow().substring(7);
    }

    private static void assertSameDescribe(String group) throws Exception {
        Map<String, List<String>> expected = kafkaRows(group, kafka("--describe", "--group", group).stdout());
        Gregor ours = gregor("group", "describe", group);
        assertThat(ours.exitCode()).as(ours.err()).isZero();
        assertThat(gregorRows(ours.out())).isEqualTo(expected).isNotEmpty();
    }

    private static void commit(String group, long p0, long p1, long p2) throws Exception {
        admin.alterConsumerGroupOffsets(group, Map.of(new TopicPartition(TOPIC, 0), new OffsetAndMetadata(p0),
                new TopicPartition(TOPIC, 1), new OffsetAndMetadata(p1), new TopicPartition(TOPIC, 2),
                new OffsetAndMetadata(p2))).all().get();
    }

    // A running consumer committed 6 of 10 in partition 0, all 7 in partition 1 and nothing in partition 2: both
    // tools show the same rows (partition 2 with '-' offset and lag), refuse to reset or delete the active group with
    // the same message, and agree again once the consumer has left (partition 2 then has no row at all).
    @Test
    void describeAgreesWhileTheGroupIsActiveAndAfterItEmpties() throws Exception {
        String group = "cg-active";
        Properties props = new Properties();
        props.put("bootstrap.servers", bootstrap);
        props.put("group.id", group);
        props.put("client.id", "it-consumer");
        props.put("enable.auto.commit", "false");
        props.put("auto.offset.reset", "earliest");
        try (KafkaConsumer<String, String> consumer =
                new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer())) {
            consumer.subscribe(List.of(TOPIC));
            int seen = 0;
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (seen < 21 && System.nanoTime() < deadline) {
                seen += consumer.poll(Duration.ofMillis(100)).count();
            }
            assertThat(seen).isEqualTo(21);
            consumer.commitSync(Map.of(new TopicPartition(TOPIC, 0), new OffsetAndMetadata(6),
                    new TopicPartition(TOPIC, 1), new OffsetAndMetadata(7)));
            String member = admin.describeConsumerGroups(List.of(group)).all().get().get(group).members().iterator()
                    .next().consumerId();

            Map<String, List<String>> kafkaRows = kafkaRows(group, kafka("--describe", "--group", group).stdout());
            assertThat(kafkaRows).containsExactly(
                    Map.entry(TOPIC + "-0", List.of("6", "10", "4", member, "/127.0.0.1", "it-consumer")),
                    Map.entry(TOPIC + "-1", List.of("7", "7", "0", member, "/127.0.0.1", "it-consumer")),
                    Map.entry(TOPIC + "-2", List.of("-", "4", "-", member, "/127.0.0.1", "it-consumer")));
            assertThat(gregorRows(gregor("group", "describe", group).out())).isEqualTo(kafkaRows);

            assertThat(kafka("--describe", "--group", group, "--state").stdout()).contains("range", "Stable");
            assertThat(gregor("group", "describe", group, "--state").out()).contains("range", "Stable");
            assertThat(kafka("--describe", "--group", group, "--members").stdout()).contains(member, "it-consumer");
            assertThat(gregor("group", "describe", group, "--members").out())
                    .contains(member, "it-consumer", TOPIC + ":0,1,2");

            Subprocess.Result kafkaReset = kafka("--reset-offsets", "--group", group, "--all-topics", "--to-earliest",
                    "--execute");
            Gregor ourReset = gregor("group", "reset-offsets", group, "--all-topics", "--to-earliest", "--execute");
            assertThat(kafkaError(kafkaReset)).isEqualTo("Assignments can only be reset if the group '" + group
                    + "' is inactive, but the current state is Stable.");
            assertThat(ourReset.exitCode()).isEqualTo(GregorCli.EXIT_FAILURE);
            assertThat(ourReset.err().trim()).isEqualTo("error: " + kafkaError(kafkaReset));

            Subprocess.Result kafkaDelete = kafka("--delete", "--group", group);
            assertThat(kafkaDelete.stdout()).contains("Deletion of some consumer groups failed",
                    "GroupNotEmptyException: The group is not empty.");
            Gregor ourDelete = gregor("group", "delete", group);
            assertThat(ourDelete.exitCode()).isEqualTo(GregorCli.EXIT_FAILURE);
            assertThat(ourDelete.err()).contains("The group is not empty.");
        }
        Subprocess.Result empty = kafka("--describe", "--group", group);
        assertThat(empty.stderr()).contains("Consumer group '" + group + "' has no active members.");
        assertThat(kafkaRows(group, empty.stdout())).containsExactly(
                Map.entry(TOPIC + "-0", List.of("6", "10", "4", "-", "-", "-")),
                Map.entry(TOPIC + "-1", List.of("7", "7", "0", "-", "-", "-")));
        assertSameDescribe(group);
    }

    // For every kind of target, Kafka's dry-run plan and Gregor's are the same, clamping included; a reset executed
    // by either tool is what the other then describes.
    @Test
    void resetPlansAgreeAndEachToolSeesTheOthersReset() throws Exception {
        String group = "cg-reset";
        commit(group, 8, 2, 3);
        List<List<String>> targets = List.of(
                List.of("--to-earliest"),
                List.of("--to-latest"),
                List.of("--to-offset", "5"),
                List.of("--shift-by", "-3"),
                List.of("--shift-by", "3"),
                List.of("--to-datetime", "2000-01-01T00:00:00.000"),
                List.of("--to-datetime", "2999-01-01T00:00:00.000+01:00"));
        for (List<String> target : targets) {
            List<String> kafkaArgs = new ArrayList<>(List.of("--reset-offsets", "--group", group, "--topic", TOPIC));
            kafkaArgs.addAll(target);
            List<String> ourArgs = new ArrayList<>(List.of("group", "reset-offsets", group, "--topic", TOPIC));
            ourArgs.addAll(target);
            Map<String, String> kafkaPlan = planRows(group, kafka(kafkaArgs.toArray(String[]::new)).stdout());
            assertThat(kafkaPlan).as(String.join(" ", target)).hasSize(3);
            assertThat(planRows(group, gregor(ourArgs.toArray(String[]::new)).out()))
                    .as(String.join(" ", target)).isEqualTo(kafkaPlan);
        }
        assertSameDescribe(group);

        Subprocess.Result reset = kafka("--reset-offsets", "--group", group, "--all-topics", "--to-earliest", "--execute");
        assertThat(planRows(group, reset.stdout())).containsOnly(
                Map.entry(TOPIC + "-0", "0"), Map.entry(TOPIC + "-1", "0"), Map.entry(TOPIC + "-2", "0"));
        Map<String, List<String>> afterKafkaReset = gregorRows(gregor("group", "describe", group).out());
        assertThat(afterKafkaReset).containsExactly(
                Map.entry(TOPIC + "-0", List.of("0", "10", "10", "-", "-", "-")),
                Map.entry(TOPIC + "-1", List.of("0", "7", "7", "-", "-", "-")),
                Map.entry(TOPIC + "-2", List.of("0", "4", "4", "-", "-", "-")));
        assertSameDescribe(group);

        assertThat(gregor("group", "reset-offsets", group, "--topic", TOPIC + ":0,2", "--to-latest", "--execute")
                .exitCode()).isZero();
        assertThat(kafkaRows(group, kafka("--describe", "--group", group).stdout())).containsExactly(
                Map.entry(TOPIC + "-0", List.of("10", "10", "0", "-", "-", "-")),
                Map.entry(TOPIC + "-1", List.of("0", "7", "7", "-", "-", "-")),
                Map.entry(TOPIC + "-2", List.of("4", "4", "0", "-", "-", "-")));
        assertSameDescribe(group);
    }

    // Groups listed by one tool are listed by the other with the same state; a group deleted by either is gone for both.
    @Test
    void listAndDeleteAgree() throws Exception {
        commit("cg-delete-by-kafka", 1, 1, 1);
        commit("cg-delete-by-gregor", 1, 1, 1);
        assertThat(kafka("--list").stdout().lines()).contains("cg-delete-by-kafka", "cg-delete-by-gregor");
        assertThat(kafka("--list", "--state", "--type").stdout().lines().map(l -> List.of(l.trim().split("\\s+"))))
                .contains(List.of("cg-delete-by-kafka", "Classic", "Empty"));
        assertThat(gregor("group", "list").out().lines().map(l -> List.of(l.trim().split("\\s+"))))
                .contains(List.of("cg-delete-by-kafka", "Classic", "Empty", "-"));

        assertThat(kafka("--delete", "--group", "cg-delete-by-kafka").stdout())
                .contains("Deletion of requested consumer groups ('cg-delete-by-kafka') was successful.");
        Gregor gone = gregor("group", "describe", "cg-delete-by-kafka");
        assertThat(gone.exitCode()).isEqualTo(GregorCli.EXIT_FAILURE);
        assertThat(gone.err().trim()).isEqualTo("error: Consumer group 'cg-delete-by-kafka' does not exist.");

        assertThat(gregor("group", "delete", "cg-delete-by-gregor").out().trim())
                .isEqualTo("Deleted consumer group cg-delete-by-gregor");
        List<String> listed = kafka("--list").stdout().lines().toList();
        assertThat(listed).doesNotContain("cg-delete-by-kafka", "cg-delete-by-gregor");
        assertThat(gregor("group", "list").out()).doesNotContain("cg-delete-by-");
    }

    // --delete-offsets (OffsetDelete) of a partition the empty group no longer reads; then a consumer of the KIP-848
    // protocol (group.protocol=consumer): both tools show the same rows, its member id and the uniform assignor.
    @Test
    void deleteOffsetsAndAConsumerProtocolGroupAgree() throws Exception {
        commit("cg-offsets", 3, 4, 2);
        assertThat(kafka("--delete-offsets", "--group", "cg-offsets", "--topic", TOPIC + ":1").stdout())
                .containsPattern(TOPIC + "\\s+1\\s+Successful");
        assertThat(admin.listConsumerGroupOffsets("cg-offsets").partitionsToOffsetAndMetadata().get())
                .containsOnlyKeys(new TopicPartition(TOPIC, 0), new TopicPartition(TOPIC, 2));
        assertSameDescribe("cg-offsets");

        String group = "cg-kip848";
        Properties props = new Properties();
        props.put("bootstrap.servers", bootstrap);
        props.put("group.id", group);
        props.put("group.protocol", "consumer");
        props.put("client.id", "it-kip848");
        props.put("enable.auto.commit", "false");
        props.put("auto.offset.reset", "earliest");
        try (KafkaConsumer<String, String> consumer =
                new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer())) {
            consumer.subscribe(List.of(TOPIC));
            int seen = 0;
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (seen < 21 && System.nanoTime() < deadline) {
                seen += consumer.poll(Duration.ofMillis(100)).count();
            }
            assertThat(seen).isEqualTo(21);
            consumer.commitSync(Map.of(new TopicPartition(TOPIC, 0), new OffsetAndMetadata(9)));
            Map<String, List<String>> rows = kafkaRows(group, kafka("--describe", "--group", group).stdout());
            assertThat(rows).hasSize(3);
            assertThat(rows.get(TOPIC + "-0").subList(0, 3)).containsExactly("9", "10", "1");
            assertThat(rows.get(TOPIC + "-0").get(5)).isEqualTo("it-kip848");
            assertThat(gregorRows(gregor("group", "describe", group).out())).isEqualTo(rows);
            assertThat(kafka("--describe", "--group", group, "--state").stdout()).contains("uniform", "Stable");
            assertThat(kafka("--list", "--type").stdout().lines().map(l -> List.of(l.trim().split("\\s+"))))
                    .contains(List.of(group, "Consumer"));
        }
    }
}
