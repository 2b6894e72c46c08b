package io.gregor.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gregor.testkit.GregorCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.ConsumerGroupListing;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.GroupNotEmptyException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Consumer groups with real clients: Java KafkaConsumer, kafka-python 2.0.2, confluent-kafka, and the Admin client. */
@Timeout(180)
class GroupsIT {
    @TempDir
    static Path dir;
    static GregorCluster gregor;
    static String bootstrap;
    static Admin admin;

    @BeforeAll
    static void startBroker() {
        gregor = cluster().start();
        bootstrap = gregor.bootstrapServers();
        admin = gregor.admin();
    }

    @AfterAll
    static void stopBroker() {
        if (gregor != null) {
            gregor.close();
        }
    }

    /** A shorter initial rebalance delay than Kafka's 3 s keeps the tests quick; the barrier logic is the same. */
    private static GregorCluster.Builder cluster() {
        return GregorCluster.single().with("group.initial.rebalance.delay.ms", "300");
    }

    @ParameterizedTest
    @ValueSource(strings = {"range", "roundrobin", "sticky", "cooperative-sticky"})
    void javaConsumersSplitATopicAndANewConsumerResumesFromCommittedOffsets(String assignor) throws Exception {
        // Two consumers of one group share a 4-partition topic, commit, leave; a third resumes after the commits.
        String topic = "split-" + assignor;
        String group = "g-" + assignor;
        admin.createTopics(List.of(new NewTopic(topic, 4, (short) 1))).all().get();
        produce(topic, 4, 10, "first");
        try (KafkaConsumer<String, String> a = consumer(group, assignor); KafkaConsumer<String, String> b = consumer(group, assignor)) {
            a.subscribe(List.of(topic));
            b.subscribe(List.of(topic));
            List<ConsumerRecord<String, String>> seen = new ArrayList<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while ((seen.size() < 40 || a.assignment().size() != 2 || b.assignment().size() != 2)
                    && System.nanoTime() < deadline) {
                a.poll(Duration.ofMillis(100)).forEach(seen::add);
                b.poll(Duration.ofMillis(100)).forEach(seen::add);
            }
            assertThat(a.assignment()).hasSize(2);
            assertThat(b.assignment()).hasSize(2).doesNotContainAnyElementsOf(a.assignment());
            assertThat(seen).extracting(ConsumerRecord::value).doesNotHaveDuplicates().hasSize(40);
            a.commitSync();
            b.commitSync();
        }
        Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group)
                .partitionsToOffsetAndMetadata().get();
        assertThat(committed).hasSize(4).allSatisfy((tp, o) -> assertThat(o.offset()).isEqualTo(10));

        produce(topic, 4, 1, "second");
        try (KafkaConsumer<String, String> c = consumer(group, assignor)) {
            c.subscribe(List.of(topic));
            List<String> values = poll(c, 4);
            assertThat(values).hasSize(4).allSatisfy(v -> assertThat(v).startsWith("second"));
        }
    }

    @Test
    void kafkaPythonGroupConsumerWithAutoCommitResumesAfterRestart() throws Exception {
        // Seed 001 style: 500 JSON numbers read by a kafka-python group consumer with auto-commit; after it stops and
        // 10 more are produced, a restarted consumer of the group reads exactly the 10 new ones.
        Subprocess.Result r = python("""
                from json import dumps, loads
                from kafka import KafkaProducer, KafkaConsumer
                p = KafkaProducer(bootstrap_servers=['BOOTSTRAP'], value_serializer=lambda x: dumps(x).encode('utf-8'))
                for n in range(500):
                    p.send('kp-group-num', value={'num': n})
                p.flush()
                def consume(expected):
                    c = KafkaConsumer('kp-group-num', bootstrap_servers=['BOOTSTRAP'], auto_offset_reset='earliest',
                                      enable_auto_commit=True, group_id='kp-group', consumer_timeout_ms=5000,
                                      value_deserializer=lambda x: loads(x.decode('utf-8')))
                    got = []
                    for m in c:
                        got.append(m.value['num'])
                        if len(got) >= expected:
                            break
                    c.close()
                    return got
                first = consume(500)
                print('first', len(first), first[0], first[-1])
                for n in range(500, 510):
                    p.send('kp-group-num', value={'num': n})
                p.flush()
                second = consume(10)
                print('second', second)
                """);
        assertThat(r.stdout()).contains("first 500 0 499", "second [500, 501, 502, 503, 504, 505, 506, 507, 508, 509]");
    }

    @Test
    void confluentKafkaGroupConsumerReadsEverything() throws Exception {
        // librdkafka's group consumer (subscribe) reads all of a 3-partition topic and commits.
        Subprocess.Result r = python("""
                from confluent_kafka import Producer, Consumer
                from confluent_kafka.admin import AdminClient, NewTopic
                a = AdminClient({'bootstrap.servers': 'BOOTSTRAP'})
                for t, f in a.create_topics([NewTopic('ck-group', 3, 1)]).items(): f.result()
                p = Producer({'bootstrap.servers': 'BOOTSTRAP'})
                for i in range(300): p.produce('ck-group', key=str(i), value='v%d' % i)
                assert p.flush(20) == 0
                c = Consumer({'bootstrap.servers': 'BOOTSTRAP', 'group.id': 'ck-g', 'auto.offset.reset': 'earliest'})
                c.subscribe(['ck-group'])
                got = set()
                import time
                deadline = time.time() + 60
                while len(got) < 300 and time.time() < deadline:
                    m = c.poll(1.0)
                    if m is None: continue
                    assert m.error() is None, m.error()
                    got.add(m.value())
                c.commit(asynchronous=False)
                print('got', len(got))
                c.close()
                """);
        assertThat(r.stdout()).contains("got 300");
        Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets("ck-g").partitionsToOffsetAndMetadata().get();
        assertThat(committed.values().stream().mapToLong(OffsetAndMetadata::offset).sum()).isEqualTo(300);
    }

    @Test
    void adminListsDescribesAndDeletesGroups() throws Exception {
        // An active group is listed and described as Stable with its member; it cannot be deleted until it is empty.
        admin.createTopics(List.of(new NewTopic("admin-groups", 2, (short) 1))).all().get();
        produce("admin-groups", 2, 3, "x");
        try (KafkaConsumer<String, String> c = consumer("admin-g", "range")) {
            c.subscribe(List.of("admin-groups"));
            assertThat(poll(c, 6)).hasSize(6);
            c.commitSync();
            Set<String> listed = new HashSet<>();
            for (ConsumerGroupListing l : admin.listConsumerGroups().all().get()) {
                listed.add(l.groupId());
            }
            assertThat(listed).contains("admin-g");
            ConsumerGroupDescription d = admin.describeConsumerGroups(List.of("admin-g")).all().get().get("admin-g");
            assertThat(d.groupState()).isEqualTo(GroupState.STABLE);
            assertThat(d.members()).hasSize(1);
            assertThat(d.members().iterator().next().assignment().topicPartitions()).hasSize(2);
            assertThatThrownBy(() -> admin.deleteConsumerGroups(List.of("admin-g")).all().get())
                    .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(GroupNotEmptyException.class);
        }
        admin.deleteConsumerGroups(List.of("admin-g")).all().get();
        assertThat(admin.listConsumerGroups().all().get()).extracting(ConsumerGroupListing::groupId).doesNotContain("admin-g");
        assertThat(admin.listConsumerGroupOffsets("admin-g").partitionsToOffsetAndMetadata().get()).isEmpty();
    }

    @Test
    void committedOffsetsSurviveABrokerRestart() throws Exception {
        // Offsets committed (with metadata and leader epoch) are replayed from __consumer_offsets after a restart.
        Path data = dir.resolve("restart");
        Files.createDirectories(data);
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        offsets.put(new TopicPartition("kept", 0), new OffsetAndMetadata(7, Optional.of(0), "meta-0"));
        offsets.put(new TopicPartition("kept", 1), new OffsetAndMetadata(9, Optional.empty(), ""));
        try (GregorCluster node = cluster().dataDir(data).start()) {
            node.createTopic("kept", 2);
            node.admin().alterConsumerGroupOffsets("restart-g", offsets).all().get();
            node.restart();
            Admin a = node.admin();
            assertThat(a.listConsumerGroupOffsets("restart-g").partitionsToOffsetAndMetadata().get())
                    .isEqualTo(offsets);
            assertThat(a.listConsumerGroups().all().get()).extracting(ConsumerGroupListing::groupId).contains("restart-g");
            var internal = new org.apache.kafka.common.config.ConfigResource(
                    org.apache.kafka.common.config.ConfigResource.Type.TOPIC, "__consumer_offsets");
            var configs = a.describeConfigs(List.of(internal)).all().get().get(internal);
            assertThat(configs.get("cleanup.policy").value()).as("compacted: the latest commit of each key stays")
                    .isEqualTo("compact");
            assertThat(configs.get("retention.ms").value()).as("never deleted by time").isEqualTo("-1");
            var described = a.describeTopics(List.of("__consumer_offsets")).allTopicNames().get().get("__consumer_offsets");
            assertThat(described.isInternal()).isTrue();
            assertThat(described.partitions()).hasSize(50);
        }
    }

    @Test
    void aConsumerProtocolMemberCarriesOnAcrossABrokerRestart() throws Exception {
        // The live consumer rides out a restart of the node (same address): its member comes back from
        // __consumer_offsets with its epoch and partitions, and it goes on from the committed offsets; nothing is lost
        // and nothing read twice.
        Path data = dir.resolve("restart-848");
        Files.createDirectories(data);
        GregorCluster node = GregorCluster.single().dataDir(data).with("group.consumer.heartbeat.interval.ms", "200").start();
        String address = node.bootstrapServers();
        List<String> seen = new ArrayList<>();
        Properties cp = new Properties();
        cp.put("bootstrap.servers", address);
        cp.put("group.id", "restart-848");
        cp.put("group.protocol", "consumer");
        cp.put("auto.offset.reset", "earliest");
        cp.put("enable.auto.commit", "false");
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(cp, new StringDeserializer(), new StringDeserializer())) {
            try (Admin a = Admin.create(Map.of("bootstrap.servers", address));
                 KafkaProducer<String, String> p = new KafkaProducer<>(Map.of("bootstrap.servers", address),
                         new StringSerializer(), new StringSerializer())) {
                a.createTopics(List.of(new NewTopic("k848", 2, (short) 1))).all().get();
                for (int i = 0; i < 10; i++) {
                    p.send(new ProducerRecord<>("k848", i % 2, null, "before-" + i)).get();
                }
            }
            consumer.subscribe(List.of("k848"));
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (seen.size() < 10 && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(100)).forEach(r -> seen.add(r.value()));
            }
            consumer.commitSync();
            node.restart();
            try (node) {
                try (KafkaProducer<String, String> p = new KafkaProducer<>(Map.of("bootstrap.servers", address),
                        new StringSerializer(), new StringSerializer())) {
                    for (int i = 0; i < 10; i++) {
                        p.send(new ProducerRecord<>("k848", i % 2, null, "after-" + i)).get();
                    }
                }
                deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                while (seen.size() < 20 && System.nanoTime() < deadline) {
                    consumer.poll(Duration.ofMillis(100)).forEach(r -> seen.add(r.value()));
                }
                consumer.commitSync();
                try (Admin a = Admin.create(Map.of("bootstrap.servers", address))) {
                    var d = a.describeConsumerGroups(List.of("restart-848")).all().get().get("restart-848");
                    assertThat(d.members()).hasSize(1);
                    assertThat(a.listConsumerGroupOffsets("restart-848").partitionsToOffsetAndMetadata().get().values())
                            .extracting(OffsetAndMetadata::offset).containsOnly(10L);
                }
                // Leave while the broker is up (a close after it would wait for the leave heartbeat in vain).
                consumer.close();
            }
        }
        assertThat(seen).hasSize(20).doesNotHaveDuplicates();
    }

    private static KafkaConsumer<String, String> consumer(String group, String assignor) {
        Properties props = new Properties();
        props.put("bootstrap.servers", bootstrap);
        props.put("group.id", group);
        props.put("auto.offset.reset", "earliest");
        props.put("enable.auto.commit", "false");
        props.put("partition.assignment.strategy", switch (assignor) {
            case "range" -> "org.apache.kafka.clients.consumer.RangeAssignor";
            case "roundrobin" -> "org.apache.kafka.clients.consumer.RoundRobinAssignor";
            case "sticky" -> "org.apache.kafka.clients.consumer.StickyAssignor";
            default -> "org.apache.kafka.clients.consumer.CooperativeStickyAssignor";
        });
        return new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer());
    }

    private static List<String> poll(KafkaConsumer<String, String> consumer, int expected) {
        List<String> values = new ArrayList<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (values.size() < expected && System.nanoTime() < deadline) {
            consumer.poll(Duration.ofMillis(200)).forEach(r -> values.add(r.value()));
        }
        // Anything beyond the expected records would show up in a short extra poll.
        consumer.poll(Duration.ofMillis(500)).forEach(r -> values.add(r.value()));
        return values;
    }

    private static void produce(String topic, int partitions, int perPartition, String prefix) throws Exception {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
            for (int partition = 0; partition < partitions; partition++) {
                for (int i = 0; i < perPartition; i++) {
                    producer.send(new ProducerRecord<>(topic, partition, null, prefix + "-" + partition + "-" + i));
                }
            }
            producer.flush();
        }
    }

    private static Subprocess.Result python(String program) throws Exception {
        Path file = Files.createTempFile(dir, "client", ".py");
        Files.writeString(file, program.replace("BOOTSTRAP", bootstrap));
        return Subprocess.run(List.of(Subprocess.python(), file.toString()), null, 150).assertOk();
    }
}
