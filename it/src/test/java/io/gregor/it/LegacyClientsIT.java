package io.gregor.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.gregor.testkit.Await;
import io.gregor.testkit.GregorCluster;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Python clients that speak the protocol Kafka 4.0 removed, unmodified, as subprocesses against a fresh in-process
 * broker: pykafka 2.8.0 (seed 000's three programs as written, the sync and async producers, the simple consumer
 * committing and resuming, the managed balanced consumer, {@code broker_version='0.10.0'}) and kafka-python 2.0.2
 * pinned to {@code api_version} (0, 9), (0, 10), (0, 10, 1) and (0, 11). Records cross between them and 4.2 clients.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LegacyClientsIT {
    /** pykafka 2.8.0, kept unmodified in the repository (no reachable registry carries it). */
    private static final Path PYKAFKA = Path.of("src", "test", "python").toAbsolutePath();
    private static final Pattern GOT = Pattern.compile("got (\\S+) (\\d+) (\\d+) (\\S+)");

    @TempDir
    static Path dir;
    static GregorCluster gregor;
    static String bootstrap;

    @BeforeAll
    static void startBroker() throws IOException {
        // A fresh broker: seed 000's consumer must find its topic created on first use.
        gregor = GregorCluster.single().with("group.initial.rebalance.delay.ms", "0").start();
        bootstrap = gregor.bootstrapServers();
    }

    @AfterAll
    static void stopBroker() {
        if (gregor != null) {
            gregor.close();
        }
    }

    @Test
    @Order(1) // first: the broker is fresh, with no topic at all
    void seed000PykafkaProgramsRunAsWrittenOnAFreshBroker() throws Exception {
        // The topics program on a broker with no topic prints nothing and exits cleanly.
        Subprocess.Result topics = run(seed("seed000_pykafka_topics.py"));
        assertThat(topics.stdout().strip()).isEmpty();
        Subprocess.Result brokers = run(seed("seed000_pykafka_brokers.py"));
        assertThat(brokers.stdout()).contains("b'127.0.0.1' " + gregor.broker().boundPort() + " 1");
        // The consumer asks for 'test' (created on first use) and iterates forever; the tutorial's producer fills it.
        try (Subprocess.Background consumer = start(seed("seed000_pykafka_consume.py"))) {
            await("the consumer to fetch", () -> gregor.broker().partitions().partition("test", 0) != null, consumer);
            Subprocess.Result produced = run(seed("seed000_producer.py"));
            assertThat(produced.stdout()).contains("msg 2");
            await("three messages printed", () -> lines(consumer).stream().filter(l -> l.startsWith("message.value")).count() == 3,
                    consumer);
            assertThat(lines(consumer)).contains("message.offset 0", "message.value b'msg 0'", "message.offset 2",
                    "message.value b'msg 2'");
            consumer.terminate();
        }
        Subprocess.Result listed = run(seed("seed000_pykafka_topics.py"));
        assertThat(listed.stdout()).contains("b'test'");
    }

    @ParameterizedTest(name = "broker_version={0}")
    @ValueSource(strings = {"0.9.0", "0.10.0"})
    void pykafkaProducersAndASimpleConsumerThatCommitsAndResumes(String brokerVersion) throws Exception {
        String topic = "pykafka-" + brokerVersion.replace('.', '-');
        String group = "pykafka-group-" + brokerVersion.replace('.', '-');
        Path producer = program("""
                from pykafka import KafkaClient
                client = KafkaClient(hosts="BOOTSTRAP", broker_version="VERSION")
                topic = client.topics[b"TOPIC"]
                with topic.get_sync_producer() as p:
                    for i in range(5):
                        p.produce(b"sync-%d" % i, partition_key=b"k%d" % i)
                with topic.get_producer(linger_ms=50, min_queued_messages=3, sync=False) as p:
                    for i in range(5):
                        p.produce(b"async-%d" % i)
                print("produced")
                """, Map.of("VERSION", brokerVersion, "TOPIC", topic));
        assertThat(run(producer).stdout()).contains("produced");
        // The first consumer reads four messages, commits, and exits; the second resumes at the fifth.
        Path consume = program("""
                import sys
                from pykafka import KafkaClient
                from pykafka.common import OffsetType
                client = KafkaClient(hosts="BOOTSTRAP", broker_version="VERSION")
                topic = client.topics[b"TOPIC"]
                c = topic.get_simple_consumer(consumer_group=b"GROUP", auto_offset_reset=OffsetType.EARLIEST,
                                              auto_commit_enable=False, consumer_timeout_ms=5000)
                limit = int(sys.argv[1])
                n = 0
                for m in c:
                    print("got", m.offset, m.value.decode())
                    n += 1
                    if n == limit:
                        break
                c.commit_offsets()
                c.stop()
                """, Map.of("VERSION", brokerVersion, "TOPIC", topic, "GROUP", group));
        Subprocess.Result first = run(consume, "4");
        assertThat(first.stdout().lines().filter(l -> l.startsWith("got")).toList())
                .containsExactly("got 0 sync-0", "got 1 sync-1", "got 2 sync-2", "got 3 sync-3");
        Subprocess.Result second = run(consume, "100");
        assertThat(second.stdout().lines().filter(l -> l.startsWith("got")).toList())
                .containsExactly("got 4 sync-4", "got 5 async-0", "got 6 async-1", "got 7 async-2", "got 8 async-3", "got 9 async-4");
        // Kafka's own view of the group's offsets is the same: a 4.2 Admin sees what pykafka committed.
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            var offsets = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
            assertThat(offsets.get(new TopicPartition(topic, 0)).offset()).isEqualTo(10);
        }
        // And a 4.2 consumer, kcat and Kafka's ConsoleConsumer read what pykafka produced.
        assertThat(readAll(topic, 10)).extracting(ConsumerRecord::value).startsWith("sync-0").endsWith("async-4");
        Subprocess.Result kcat = Subprocess.run(List.of("kcat", "-b", bootstrap, "-C", "-t", topic, "-e", "-f", "%k=%s\\n"),
                null, 60).assertOk();
        assertThat(kcat.stdout().lines().toList()).hasSize(10).startsWith("k0=sync-0").endsWith("=async-4");
        Subprocess.Result console = Subprocess.kafkaTool("org.apache.kafka.tools.consumer.ConsoleConsumer", null,
                "--bootstrap-server", bootstrap, "--topic", topic, "--from-beginning", "--max-messages", "10",
                "--timeout-ms", "30000");
        assertThat(console.stdout().lines().toList()).hasSize(10).startsWith("sync-0").endsWith("async-4");
    }

    @Test
    void pykafkaManagedBalancedConsumersSplitThePartitions() throws Exception {
        String topic = "pykafka-balanced";
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            admin.createTopics(List.of(new NewTopic(topic, 4, (short) 1))).all().get();
        }
        Path member = program("""
                import sys
                from pykafka import KafkaClient
                from pykafka.common import OffsetType
                client = KafkaClient(hosts="BOOTSTRAP")
                topic = client.topics[b"TOPIC"]
                c = topic.get_balanced_consumer(consumer_group=b"pykafka-balanced-group", managed=True,
                                                auto_offset_reset=OffsetType.EARLIEST, consumer_timeout_ms=-1)
                for m in c:
                    if m is not None:
                        print("got", sys.argv[1], m.partition_id, m.offset, m.value.decode(), flush=True)
                """, Map.of("TOPIC", topic));
        try (Subprocess.Background a = start(member, "A"); KafkaProducer<String, String> producer = producer()) {
            // B joins once A reads: the broker runs with group.initial.rebalance.delay.ms=0, and two members joining
            // the group's first generation milliseconds apart is a race pykafka does not survive (the SyncGroup of
            // the first one is answered REBALANCE_IN_PROGRESS, as Kafka answers it, and its consumer stops), which
            // Kafka's default 3 s delay hides.
            Await.until("A reads its first records", Duration.ofSeconds(60), () -> {
                for (int partition = 0; partition < 4; partition++) {
                    producer.send(new ProducerRecord<>(topic, partition, null, "warm-up")).get();
                }
                Thread.sleep(200);
                return !partitionsOf("warm-up", a).isEmpty();
            });
            try (Subprocess.Background b = start(member, "B")) {
                splitBetween(topic, producer, a, b);
            }
        }
    }

    /** Rounds of one record per partition until, in a round, A and B each read a disjoint, non-empty share. */
    private static void splitBetween(String topic, KafkaProducer<String, String> producer, Subprocess.Background a,
                                     Subprocess.Background b) throws Exception {
        int round = 0;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        Map<String, Set<Integer>> lastRound = Map.of();
        while (System.nanoTime() < deadline) {
            String tag = "round" + round;
            for (int partition = 0; partition < 4; partition++) {
                producer.send(new ProducerRecord<>(topic, partition, null, tag)).get();
            }
            long roundEnd = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            Map<String, Set<Integer>> seen = new HashMap<>();
            while (System.nanoTime() < roundEnd && seen.values().stream().mapToInt(Set::size).sum() < 4) {
                seen = partitionsOf(tag, a, b);
                Thread.sleep(50);
            }
            lastRound = seen;
            Set<Integer> ofA = seen.getOrDefault("A", Set.of());
            Set<Integer> ofB = seen.getOrDefault("B", Set.of());
            Set<Integer> union = new HashSet<>(ofA);
            union.addAll(ofB);
            if (!ofA.isEmpty() && !ofB.isEmpty() && union.size() == 4 && ofA.size() + ofB.size() == 4) {
                return;
            }
            round++;
        }
        throw new AssertionError("the two members never split the partitions; last round: " + lastRound
                + "\n" + a.describe() + "\n" + b.describe());
    }

    private static Map<String, Set<Integer>> partitionsOf(String value, Subprocess.Background... members) throws IOException {
        Map<String, Set<Integer>> result = new HashMap<>();
        for (Subprocess.Background member : members) {
            for (String line : member.stdoutLines()) {
                Matcher m = GOT.matcher(line);
                if (m.matches() && m.group(4).equals(value)) {
                    result.computeIfAbsent(m.group(1), k -> new HashSet<>()).add(Integer.parseInt(m.group(2)));
                }
            }
        }
        return result;
    }

    @ParameterizedTest(name = "api_version={0}")
    @ValueSource(strings = {"0, 9", "0, 10", "0, 10, 1", "0, 11"})
    void kafkaPythonPinnedToAnOldApiVersionProducesConsumesCommitsAndResumes(String apiVersion) throws Exception {
        String topic = "kp-" + apiVersion.replace(", ", "-");
        Path program = program("""
                from kafka import KafkaProducer, KafkaConsumer
                v = (API,)
                p = KafkaProducer(bootstrap_servers="BOOTSTRAP", api_version=v, acks="all")
                for i in range(10):
                    p.send("TOPIC", key=b"k%d" % i, value=b"v%d" % i)
                p.flush()
                p.close()
                def consumer():
                    return KafkaConsumer("TOPIC", bootstrap_servers="BOOTSTRAP", api_version=v, group_id="g-TOPIC",
                                         auto_offset_reset="earliest", enable_auto_commit=False, consumer_timeout_ms=10000,
                                         session_timeout_ms=6000, heartbeat_interval_ms=1000)
                c = consumer()
                got = []
                for m in c:
                    got.append(m)
                    if len(got) == 4:
                        c.commit()
                        break
                c.close()
                print("first", [(m.offset, m.key.decode(), m.value.decode()) for m in got])
                c = consumer()
                rest = [m.offset for m in c]
                print("rest", rest)
                c.close()
                """, Map.of("API", apiVersion, "TOPIC", topic));
        Subprocess.Result r = run(program);
        assertThat(r.stdout()).contains("first [(0, 'k0', 'v0'), (1, 'k1', 'v1'), (2, 'k2', 'v2'), (3, 'k3', 'v3')]")
                .contains("rest [4, 5, 6, 7, 8, 9]");
        assertThat(readAll(topic, 10)).extracting(ConsumerRecord::key).containsExactly("k0", "k1", "k2", "k3", "k4", "k5",
                "k6", "k7", "k8", "k9");
    }

    @Test
    void recordsOfA42ProducerAreReadByPykafkaAndOldKafkaPython() throws Exception {
        // Every codec pykafka can read, headers on every record (dropped for the old formats), one partition each.
        for (String codec : List.of("none", "gzip", "snappy", "lz4")) {
            String topic = "from-42-" + codec;
            try (KafkaProducer<String, String> producer = producer(codec)) {
                for (int i = 0; i < 6; i++) {
                    var record = new ProducerRecord<>(topic, 0, "key-" + i, "value-" + i);
                    record.headers().add(new RecordHeader("trace", new byte[] {1, 2}));
                    producer.send(record);
                }
                producer.flush();
            }
            Path pykafka = program("""
                    from pykafka import KafkaClient
                    from pykafka.common import OffsetType
                    client = KafkaClient(hosts="BOOTSTRAP")
                    c = client.topics[b"TOPIC"].get_simple_consumer(auto_offset_reset=OffsetType.EARLIEST, consumer_timeout_ms=3000)
                    print("pykafka", [(m.offset, m.partition_key.decode(), m.value.decode()) for m in c])
                    """, Map.of("TOPIC", topic));
            assertThat(run(pykafka).stdout()).as(codec).contains("pykafka [(0, 'key-0', 'value-0'), (1, 'key-1', 'value-1'), "
                    + "(2, 'key-2', 'value-2'), (3, 'key-3', 'value-3'), (4, 'key-4', 'value-4'), (5, 'key-5', 'value-5')]");
            Path old = program("""
                    from kafka import KafkaConsumer
                    for v in [(0, 9), (0, 10)]:
                        c = KafkaConsumer("TOPIC", bootstrap_servers="BOOTSTRAP", api_version=v, auto_offset_reset="earliest",
                                          consumer_timeout_ms=3000)
                        print("kafka-python", v, [m.value.decode() for m in c])
                        c.close()
                    """, Map.of("TOPIC", topic));
            String out = run(old).stdout();
            String values = "['value-0', 'value-1', 'value-2', 'value-3', 'value-4', 'value-5']";
            assertThat(out).as(codec).contains("kafka-python (0, 9) " + values).contains("kafka-python (0, 10) " + values);
        }
    }

    @Test
    void answersConvertedInManyChunksReachPykafkaAndOldKafkaPythonWhole() throws Exception {
        // 4 MiB of 1 KiB records: every fetch is converted in several chunks, cut at its size and filled after.
        int count = 4000;
        for (String codec : List.of("none", "lz4")) {
            String topic = "chunked-" + codec;
            try (KafkaProducer<String, String> producer = producer(codec)) {
                for (int i = 0; i < count; i++) {
                    producer.send(new ProducerRecord<>(topic, 0, "key-" + i, String.format("%06d", i) + "x".repeat(1018)));
                }
                producer.flush();
            }
            Path reader = program("""
                    from pykafka import KafkaClient
                    from pykafka.common import OffsetType
                    from kafka import KafkaConsumer
                    def check(name, pairs):
                        bad = [(o, v[:6]) for o, v in pairs if v[:6] != "%06d" % o or len(v) != 1024]
                        offsets = [o for o, _ in pairs]
                        print(name, len(pairs), offsets == list(range(COUNT)), bad[:3])
                    client = KafkaClient(hosts="BOOTSTRAP")
                    c = client.topics[b"TOPIC"].get_simple_consumer(auto_offset_reset=OffsetType.EARLIEST, consumer_timeout_ms=5000)
                    check("pykafka", [(m.offset, m.value.decode()) for m in c])
                    k = KafkaConsumer("TOPIC", bootstrap_servers="BOOTSTRAP", api_version=(0, 10), auto_offset_reset="earliest",
                                      consumer_timeout_ms=5000)
                    check("kafka-python", [(m.offset, m.value.decode()) for m in k])
                    k.close()
                    """.replace("COUNT", Integer.toString(count)), Map.of("TOPIC", topic));
            String out = run(reader).stdout();
            assertThat(out).as(codec).contains("pykafka " + count + " True []").contains("kafka-python " + count + " True []");
        }
    }

    @ParameterizedTest(name = "broker.version.fallback={0}")
    @ValueSource(strings = {"0.8.2.2", "0.9.0.1", "0.10.0.1"})
    void librdkafkaWithoutApiVersionsSpeaksTheOldVersions(String fallback) throws Exception {
        // kcat told not to ask for ApiVersions falls back to the protocol of that Kafka release (Produce v0-2, Fetch
        // v0-2, message formats v0/v1), with every codec it can write in them.
        String topic = "kcat-fallback-" + fallback;
        List<String> options = List.of("-X", "api.version.request=false", "-X", "broker.version.fallback=" + fallback);
        List<String> expected = new ArrayList<>();
        for (String codec : List.of("none", "gzip", "snappy", "lz4")) {
            List<String> produce = new ArrayList<>(List.of("kcat", "-b", bootstrap, "-P", "-t", topic, "-K:", "-z", codec));
            produce.addAll(options);
            Subprocess.run(produce, codec + "-a:1\n" + codec + "-b:2\n", 60).assertOk();
            expected.add(codec + "-a=1");
            expected.add(codec + "-b=2");
        }
        List<String> consume = new ArrayList<>(List.of("kcat", "-b", bootstrap, "-C", "-t", topic, "-e", "-f", "%k=%s\\n"));
        consume.addAll(options);
        assertThat(Subprocess.run(consume, null, 60).assertOk().stdout().lines().toList()).containsExactlyElementsOf(expected);
        assertThat(readAll(topic, 8)).extracting(r -> r.key() + "=" + r.value()).containsExactlyElementsOf(expected);
    }

    // ---- helpers ----

    private static Path seed(String name) throws IOException {
        String source;
        try (InputStream in = LegacyClientsIT.class.getResourceAsStream("/seeds/" + name)) {
            source = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        Path file = dir.resolve(name);
        Files.writeString(file, source.replace("localhost:9092", bootstrap).replace("127.0.0.1:9092", bootstrap));
        return file;
    }

    private static Path program(String source, Map<String, String> replacements) throws IOException {
        String text = source.replace("BOOTSTRAP", bootstrap);
        for (var e : replacements.entrySet()) {
            text = text.replace(e.getKey(), e.getValue());
        }
        Path file = Files.createTempFile(dir, "legacy-client-", ".py");
        Files.writeString(file, text);
        return file;
    }

    private static Map<String, String> environment() {
        return Map.of("PYTHONPATH", PYKAFKA.toString(), "PYTHONUNBUFFERED", "1");
    }

    private static Subprocess.Background start(Path program, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(Subprocess.python(), program.toString()));
        command.addAll(List.of(args));
        return Subprocess.start(command, environment(), dir);
    }

    private static Subprocess.Result run(Path program, String... args) throws Exception {
        try (Subprocess.Background process = start(program, args)) {
            return process.awaitExit(120).assertOk();
        }
    }

    private static List<String> lines(Subprocess.Background process) throws IOException {
        return process.stdoutLines();
    }

    /** A condition that may read a process's output. */
    private interface Check {
        boolean holds() throws IOException;
    }

    private static void await(String what, Check condition, Subprocess.Background process) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!condition.holds()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what + "\n" + process.describe());
            }
            Thread.sleep(50);
        }
    }

    private static KafkaProducer<String, String> producer() {
        return producer("none");
    }

    private static KafkaProducer<String, String> producer(String codec) {
        Properties props = new Properties();
        props.put("bootstrap.servers", bootstrap);
        props.put("compression.type", codec);
        return new KafkaProducer<>(props, new StringSerializer(), new StringSerializer());
    }

    private static List<ConsumerRecord<String, String>> readAll(String topic, int expected) {
        return ReadBack.partition(bootstrap, topic, 0, expected);
    }
}
