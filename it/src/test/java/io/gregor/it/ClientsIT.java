package io.gregor.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.gregor.testkit.GregorCluster;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Clients nobody on the team wrote, as subprocesses over real sockets: kafka-python 2.0.2 running the tutorial
 * programs of shared/seeds as written (only the address changed), kcat (librdkafka), confluent-kafka, and Kafka's
 * own CLI tool classes (kafka-tools 4.2.0).
 */
class ClientsIT {
    @TempDir
    static Path dir;
    static GregorCluster gregor;
    static String bootstrap;

    @BeforeAll
    static void startBroker() throws IOException {
        gregor = GregorCluster.single().start();
        bootstrap = gregor.bootstrapServers();
    }

    @AfterAll
    static void stopBroker() {
        if (gregor != null) {
            gregor.close();
        }
    }

    /**
     * Runs a seed program with the address changed to this broker's and its pauses shortened to 10 ms (seed 001
     * sleeps 5 s between 500 sends). Not to zero: kafka-python 2.0.2 drops records still buffered when a script that
     * never closes its producer exits, whichever broker it talks to.
     */
    private static Subprocess.Result runSeed(String name) throws Exception {
        String source;
        try (InputStream in = ClientsIT.class.getResourceAsStream("/seeds/" + name)) {
            source = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        String program = "import time as _t\n_real_sleep = _t.sleep\n_t.sleep = lambda s: _real_sleep(min(s, 0.01))\n"
                + source.replace("localhost:9092", bootstrap).replace("127.0.0.1:9092", bootstrap);
        Path file = dir.resolve(name);
        Files.writeString(file, program);
        return Subprocess.run(List.of(Subprocess.python(), file.toString()), null, 120).assertOk();
    }

    private static Subprocess.Result python(String program) throws Exception {
        Path file = Files.createTempFile(dir, "client", ".py");
        Files.writeString(file, program.replace("BOOTSTRAP", bootstrap));
        return Subprocess.run(List.of(Subprocess.python(), file.toString()), null, 120).assertOk();
    }

    private static List<ConsumerRecord<String, String>> readAll(String topic, int partition, int expected) {
        return ReadBack.partition(bootstrap, topic, partition, expected);
    }

    @Test
    void seed000ProducerAutoCreatesTopicAndConsumerListsIt() throws Exception {
        // The tutorial producer sends three messages to an unknown topic (auto-created), then KafkaConsumer.topics() lists it.
        Subprocess.Result produced = runSeed("seed000_producer.py");
        assertThat(produced.stdout()).contains("msg 0", "msg 2");
        Subprocess.Result topics = runSeed("seed000_topics.py");
        assertThat(topics.stdout()).contains("'test'");
        assertThat(readAll("test", 0, 3)).extracting(ConsumerRecord::value).containsExactly("msg 0", "msg 1", "msg 2");
    }

    @Test
    void seed001ProducerWritesFiveHundredJsonNumbersInOrder() throws Exception {
        // produce.py of seed 001 sends {"num": n} for n in 0..499 and exits without closing (atexit flushes).
        runSeed("seed001_produce.py");
        List<ConsumerRecord<String, String>> records = readAll("testnum", 0, 500);
        assertThat(records).hasSize(500);
        for (int n = 0; n < 500; n++) {
            assertThat(records.get(n).value()).isEqualTo("{\"num\": " + n + "}");
            assertThat(records.get(n).offset()).isEqualTo(n);
        }
    }

    @Test
    void seed004ProducersSendTenMessagesEachAndSeeOffsets() throws Exception {
        // Both producers of seed 004 write to test-topic; the enhanced one waits for each offset and prints it.
        runSeed("seed004_producer.py");
        Subprocess.Result enhanced = runSeed("seed004_producer_enhanced.py");
        assertThat(enhanced.stdout()).contains("with offset 10", "with offset 19").doesNotContain("Error sending");
        assertThat(readAll("test-topic", 0, 20)).hasSize(20).allSatisfy(r -> assertThat(r.value()).contains("\"id\": "));
    }

    @Test
    void kafkaPythonConsumerSeeksAndLooksUpOffsetsByTime() throws Exception {
        // kafka-python without a group: assign, seek_to_beginning, end_offsets, offsets_for_times, partitions_for.
        Subprocess.Result r = python("""
                import time
                from kafka import KafkaProducer, KafkaConsumer, TopicPartition
                p = KafkaProducer(bootstrap_servers='BOOTSTRAP', acks='all', compression_type='gzip')
                before = int(time.time() * 1000)
                for i in range(20):
                    p.send('kp-times', key=b'k%d' % i, value=b'v%d' % i, partition=0, timestamp_ms=before + i * 10)
                p.flush()
                print('partitions', sorted(p.partitions_for('kp-times')))
                c = KafkaConsumer(bootstrap_servers='BOOTSTRAP', consumer_timeout_ms=3000)
                tp = TopicPartition('kp-times', 0)
                c.assign([tp])
                c.seek_to_beginning(tp)
                print('values', [m.value.decode() for m in c])
                print('end', c.end_offsets([tp])[tp])
                print('begin', c.beginning_offsets([tp])[tp])
                print('at', c.offsets_for_times({tp: before + 55})[tp].offset)
                """);
        assertThat(r.stdout()).contains("partitions [0]", "end 20", "begin 0", "at 6");
        assertThat(r.stdout()).contains("'v0', 'v1'", "'v19']");
    }

    @Test
    void confluentKafkaIdempotentProducerAndConsumer() throws Exception {
        // librdkafka through confluent-kafka: admin create, idempotent zstd producer, assign-mode consumer, watermarks.
        Subprocess.Result r = python("""
                from confluent_kafka import Producer, Consumer, TopicPartition
                from confluent_kafka.admin import AdminClient, NewTopic
                a = AdminClient({'bootstrap.servers': 'BOOTSTRAP'})
                for t, f in a.create_topics([NewTopic('ck-topic', 3, 1)]).items(): f.result()
                p = Producer({'bootstrap.servers': 'BOOTSTRAP', 'enable.idempotence': True, 'compression.type': 'zstd'})
                for i in range(300): p.produce('ck-topic', key=str(i), value='v%d' % i)
                assert p.flush(20) == 0
                c = Consumer({'bootstrap.servers': 'BOOTSTRAP', 'group.id': 'unused', 'enable.auto.commit': False})
                got = 0
                for part in range(3):
                    c.assign([TopicPartition('ck-topic', part, 0)])
                    while True:
                        m = c.poll(2.0)
                        if m is None: break
                        assert m.error() is None, m.error()
                        got += 1
                print('got', got)
                print('hw', sum(c.get_watermark_offsets(TopicPartition('ck-topic', part))[1] for part in range(3)))
                """);
        assertThat(r.stdout()).contains("got 300", "hw 300");
    }

    @Test
    void kcatListsMetadata() throws Exception {
        // kcat -L shows this broker as controller and its topics.
        Subprocess.Result r = Subprocess.run(List.of("kcat", "-b", bootstrap, "-L"), null, 60).assertOk();
        assertThat(r.stdout()).contains("1 brokers:", "broker 1 at " + bootstrap + " (controller)");
    }

    @ParameterizedTest
    @ValueSource(strings = {"none", "gzip", "snappy", "lz4", "zstd"})
    void kcatProducesAndConsumesKeyedRecords(String codec) throws Exception {
        // kcat writes keyed lines with each compression codec and reads them back with keys, offsets intact.
        String topic = "kcat-" + codec;
        StringBuilder input = new StringBuilder();
        for (int i = 0; i < 50; i++) {
            input.append("key").append(i).append(':').append("value ").append(i).append('\n');
        }
        Subprocess.run(List.of("kcat", "-b", bootstrap, "-P", "-t", topic, "-K:", "-z", codec), input.toString(), 60).assertOk();
        Subprocess.Result r = Subprocess.run(List.of("kcat", "-b", bootstrap, "-C", "-t", topic, "-e", "-f", "%k=%s@%o\\n"),
                null, 60).assertOk();
        List<String> lines = r.stdout().lines().toList();
        assertThat(lines).hasSize(50);
        for (int i = 0; i < 50; i++) {
            assertThat(lines.get(i)).isEqualTo("key" + i + "=value " + i + "@" + i);
        }
    }

    @Test
    void kafkaToolsTopicCommandConsoleRoundTripAndGetOffsetShell() throws Exception {
        // Kafka's own tools: create and list with TopicCommand, ConsoleProducer -> ConsoleConsumer, GetOffsetShell.
        Subprocess.kafkaTool("org.apache.kafka.tools.TopicCommand", null, "--bootstrap-server", bootstrap,
                "--create", "--topic", "tools-topic", "--partitions", "1").assertOk();
        Subprocess.Result list = Subprocess.kafkaTool("org.apache.kafka.tools.TopicCommand", null,
                "--bootstrap-server", bootstrap, "--list").assertOk();
        assertThat(list.stdout().lines()).contains("tools-topic");
        Subprocess.kafkaTool("org.apache.kafka.tools.ConsoleProducer", "alpha\nbeta\ngamma\n",
                "--bootstrap-server", bootstrap, "--topic", "tools-topic").assertOk();
        Subprocess.Result consumed = Subprocess.kafkaTool("org.apache.kafka.tools.consumer.ConsoleConsumer", null,
                "--bootstrap-server", bootstrap, "--topic", "tools-topic", "--partition", "0", "--offset", "earliest",
                "--max-messages", "3", "--timeout-ms", "20000").assertOk();
        assertThat(consumed.stdout().lines()).containsExactly("alpha", "beta", "gamma");
        Subprocess.Result offsets = Subprocess.kafkaTool("org.apache.kafka.tools.GetOffsetShell", null,
                "--bootstrap-server", bootstrap, "--topic", "tools-topic").assertOk();
        assertThat(offsets.stdout().lines()).contains("tools-topic:0:3");
    }
}
