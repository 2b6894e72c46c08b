package io.gregor.broker;

import static org.assertj.core.api.Assertions.assertThat;

import io.gregor.broker.config.BrokerConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.ListGroupsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.SubscriptionPattern;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.GroupType;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The consumer group protocol of KIP-848 with the Java 4.2 consumer ({@code group.protocol=consumer}). */
@Timeout(120)
class ConsumerProtocolTest {
    @TempDir
    static Path dir;
    static Broker broker;
    static Admin admin;

    @BeforeAll
    static void start() throws Exception {
        broker = new Broker(BrokerConfig.of(Map.of("log.dirs", dir.toString(), "listeners", "PLAINTEXT://127.0.0.1:0",
                "group.initial.rebalance.delay.ms", "0", "group.consumer.heartbeat.interval.ms", "200")));
        broker.start();
        admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrapServers()));
    }

    @AfterAll
    static void stop() {
        if (admin != null) {
            admin.close();
        }
        if (broker != null) {
            broker.close();
        }
    }

    @Test
    void twoConsumersSplitATopicAndTheSurvivorTakesOverWhenOneLeaves() throws Exception {
        admin.createTopics(List.of(new NewTopic("kip848", 4, (short) 1))).all().get();
        Map<String, Integer> seen = new HashMap<>();
        try (KafkaConsumer<String, String> a = consumer("g848", Map.of());
             KafkaConsumer<String, String> b = consumer("g848", Map.of())) {
            a.subscribe(List.of("kip848"));
            b.subscribe(List.of("kip848"));
            await(() -> {
                pollInto(a, seen);
                pollInto(b, seen);
                return a.assignment().size() == 2 && b.assignment().size() == 2;
            }, "both members own two partitions");
            Set<TopicPartition> union = new HashSet<>(a.assignment());
            union.addAll(b.assignment());
            assertThat(union).hasSize(4);
            produce("kip848", 4, 25);

            ConsumerGroupDescription d = admin.describeConsumerGroups(List.of("g848")).describedGroups().get("g848").get();
            assertThat(d.type()).isEqualTo(GroupType.CONSUMER);
            assertThat(d.groupState()).isEqualTo(GroupState.STABLE);
            assertThat(d.members()).hasSize(2);
            assertThat(d.partitionAssignor()).isEqualTo("uniform");
            assertThat(d.members()).allSatisfy(m -> assertThat(m.assignment().topicPartitions()).hasSize(2));

            await(() -> {
                pollInto(a, seen);
                pollInto(b, seen);
                return seen.size() == 100;
            }, "every record consumed");
            a.commitSync();
            b.commitSync();
            b.close();
            await(() -> {
                pollInto(a, seen);
                return a.assignment().size() == 4;
            }, "the remaining member owns all four partitions");
        }
        assertThat(seen).hasSize(100).allSatisfy((k, n) -> assertThat(n).as(k).isEqualTo(1));
        Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets("g848")
                .partitionsToOffsetAndMetadata().get();
        assertThat(committed).hasSize(4).allSatisfy((tp, o) -> assertThat(o.offset()).isEqualTo(25));
        var listed = admin.listGroups(ListGroupsOptions.forConsumerGroups().withTypes(Set.of(GroupType.CONSUMER))).all().get();
        assertThat(listed).anySatisfy(g -> assertThat(g.groupId()).isEqualTo("g848"));
        var classicOnly = admin.listGroups(ListGroupsOptions.forConsumerGroups().withTypes(Set.of(GroupType.CLASSIC))).all().get();
        assertThat(classicOnly).noneSatisfy(g -> assertThat(g.groupId()).isEqualTo("g848"));
    }

    @Test
    void regexSubscriptionPicksUpNewTopicsAndTheRangeAssignorCanBeChosen() throws Exception {
        admin.createTopics(List.of(new NewTopic("rx-one", 2, (short) 1))).all().get();
        // SubscriptionPattern is evaluated by the coordinator (KIP-848), so a new matching topic is picked up at the
        // next heartbeat rather than at the client's next metadata refresh.
        try (KafkaConsumer<String, String> c = consumer("g-regex", Map.of("group.remote.assignor", "range"))) {
            c.subscribe(new SubscriptionPattern("rx-.*"));
            await(() -> {
                c.poll(Duration.ofMillis(50));
                return c.assignment().size() == 2;
            }, "assigned the two partitions of rx-one");
            admin.createTopics(List.of(new NewTopic("rx-two", 3, (short) 1))).all().get();
            await(() -> {
                c.poll(Duration.ofMillis(50));
                return c.assignment().size() == 5;
            }, "rx-two assigned too");
            ConsumerGroupDescription d = admin.describeConsumerGroups(List.of("g-regex")).describedGroups().get("g-regex").get();
            assertThat(d.partitionAssignor()).isEqualTo("range");
        }
    }

    @Test
    void anEmptyGroupMovesBetweenTheClassicAndConsumerProtocolsWithItsOffsets() throws Exception {
        admin.createTopics(List.of(new NewTopic("migrate", 2, (short) 1))).all().get();
        produce("migrate", 2, 10);
        Map<String, Integer> seen = new HashMap<>();
        try (KafkaConsumer<String, String> classic = consumer("g-move", Map.of("group.protocol", "classic"))) {
            classic.subscribe(List.of("migrate"));
            await(() -> {
                pollInto(classic, seen);
                return seen.size() == 20;
            }, "classic consumer reads everything");
            classic.commitSync();
        }
        produce("migrate", 2, 5);
        Map<String, Integer> later = new HashMap<>();
        try (KafkaConsumer<String, String> modern = consumer("g-move", Map.of())) {
            modern.subscribe(List.of("migrate"));
            await(() -> {
                pollInto(modern, later);
                return later.size() == 10;
            }, "consumer-protocol member resumes from the classic group's offsets");
            modern.commitSync();
        }
        assertThat(later.keySet()).allSatisfy(k -> assertThat(seen).doesNotContainKey(k));
        produce("migrate", 2, 1);
        Map<String, Integer> last = new HashMap<>();
        try (KafkaConsumer<String, String> classic = consumer("g-move", Map.of("group.protocol", "classic"))) {
            classic.subscribe(List.of("migrate"));
            await(() -> {
                pollInto(classic, last);
                return last.size() == 2;
            }, "and back to a classic member");
        }
        assertThat(last).hasSize(2);
    }

    @Test
    void rebalanceListenerSeesOnlyIncrementalChanges() throws Exception {
        admin.createTopics(List.of(new NewTopic("incremental", 6, (short) 1))).all().get();
        List<Collection<TopicPartition>> revokedByFirst = new ArrayList<>();
        try (KafkaConsumer<String, String> a = consumer("g-incr", Map.of());
             KafkaConsumer<String, String> b = consumer("g-incr", Map.of())) {
            a.subscribe(List.of("incremental"), new ConsumerRebalanceListener() {
                @Override
                public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                    if (!partitions.isEmpty()) {
                        revokedByFirst.add(List.copyOf(partitions));
                    }
                }

                @Override
                public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                }
            });
            await(() -> {
                a.poll(Duration.ofMillis(50));
                return a.assignment().size() == 6;
            }, "first member owns all six");
            b.subscribe(List.of("incremental"));
            await(() -> {
                a.poll(Duration.ofMillis(50));
                b.poll(Duration.ofMillis(50));
                return a.assignment().size() == 3 && b.assignment().size() == 3;
            }, "three each");
        }
        // The first member gave up exactly the three partitions that moved, never all six.
        assertThat(revokedByFirst.get(0)).hasSize(3);
    }

    @Test
    void aClassicGroupWithMembersMovesOnlineToTheConsumerProtocolAndBack() throws Exception {
        // A classic member owns all four partitions; a member of the consumer protocol joins the live group, which
        // becomes a consumer group holding both; they split the partitions. When the new member leaves, the group
        // goes back to the classic protocol and the classic member gets everything again.
        admin.createTopics(List.of(new NewTopic("online", 4, (short) 1))).all().get();
        for (String assignor : List.of("org.apache.kafka.clients.consumer.RangeAssignor",
                "org.apache.kafka.clients.consumer.CooperativeStickyAssignor")) {
            String group = "g-online-" + assignor.length();
            try (KafkaConsumer<String, String> classic = consumer(group, Map.of("group.protocol", "classic",
                    "partition.assignment.strategy", assignor, "heartbeat.interval.ms", "200"))) {
                classic.subscribe(List.of("online"));
                await(() -> {
                    classic.poll(Duration.ofMillis(20));
                    return classic.assignment().size() == 4;
                }, "classic member owns all four");
                try (KafkaConsumer<String, String> modern = consumer(group, Map.of())) {
                    modern.subscribe(List.of("online"));
                    await(() -> {
                        classic.poll(Duration.ofMillis(20));
                        modern.poll(Duration.ofMillis(20));
                        return classic.assignment().size() == 2 && modern.assignment().size() == 2;
                    }, "two each after the online upgrade (" + assignor + ")");
                    ConsumerGroupDescription d = admin.describeConsumerGroups(List.of(group)).describedGroups().get(group).get();
                    assertThat(d.type()).isEqualTo(GroupType.CONSUMER);
                    assertThat(d.members()).hasSize(2);
                    Set<TopicPartition> union = new HashSet<>(classic.assignment());
                    union.addAll(modern.assignment());
                    assertThat(union).hasSize(4);
                    // A new classic member joins the group while it uses the consumer protocol.
                    try (KafkaConsumer<String, String> late = consumer(group, Map.of("group.protocol", "classic",
                            "partition.assignment.strategy", assignor, "heartbeat.interval.ms", "200"))) {
                        late.subscribe(List.of("online"));
                        await(() -> {
                            classic.poll(Duration.ofMillis(20));
                            modern.poll(Duration.ofMillis(20));
                            late.poll(Duration.ofMillis(20));
                            Set<TopicPartition> all = new HashSet<>(classic.assignment());
                            all.addAll(modern.assignment());
                            all.addAll(late.assignment());
                            return !late.assignment().isEmpty() && !classic.assignment().isEmpty()
                                    && !modern.assignment().isEmpty() && all.size() == 4
                                    && classic.assignment().size() + modern.assignment().size() + late.assignment().size() == 4;
                        }, "three members share the four partitions (" + assignor + ")");
                    }
                    classic.commitSync();
                }
                await(() -> {
                    classic.poll(Duration.ofMillis(20));
                    return classic.assignment().size() == 4;
                }, "the classic member owns all four again");
                var listed = admin.listGroups(ListGroupsOptions.forConsumerGroups()).all().get();
                assertThat(listed).filteredOn(g -> g.groupId().equals(group))
                        .singleElement().satisfies(g -> assertThat(g.type()).contains(GroupType.CLASSIC));
            }
        }
    }

    @Test
    void aRestartedStaticMemberGetsItsPartitionsBackWithoutANewGroupEpoch() throws Exception {
        admin.createTopics(List.of(new NewTopic("static848", 4, (short) 1))).all().get();
        try (KafkaConsumer<String, String> a = consumer("g-static848", Map.of("group.instance.id", "a"))) {
            a.subscribe(List.of("static848"));
            Set<TopicPartition> before;
            int epoch;
            try (KafkaConsumer<String, String> b = consumer("g-static848", Map.of("group.instance.id", "b"))) {
                b.subscribe(List.of("static848"));
                await(() -> {
                    a.poll(Duration.ofMillis(20));
                    b.poll(Duration.ofMillis(20));
                    return a.assignment().size() == 2 && b.assignment().size() == 2;
                }, "two each");
                before = Set.copyOf(b.assignment());
                epoch = admin.describeConsumerGroups(List.of("g-static848")).describedGroups().get("g-static848").get()
                        .groupEpoch().orElseThrow();
            }
            try (KafkaConsumer<String, String> b2 = consumer("g-static848", Map.of("group.instance.id", "b"))) {
                b2.subscribe(List.of("static848"));
                await(() -> {
                    a.poll(Duration.ofMillis(20));
                    b2.poll(Duration.ofMillis(20));
                    return b2.assignment().equals(before);
                }, "the restarted member owns its partitions again");
                assertThat(a.assignment()).hasSize(2).doesNotContainAnyElementsOf(before);
                assertThat(admin.describeConsumerGroups(List.of("g-static848")).describedGroups().get("g-static848").get()
                        .groupEpoch().orElseThrow()).isEqualTo(epoch);
            }
        }
    }

    @Test
    void aDisabledMigrationPolicyKeepsALiveClassicGroupClassic(@TempDir Path own) throws Exception {
        // group.consumer.migration.policy=disabled: a KIP-848 heartbeat to a live classic group is refused with Kafka's
        // message, and the classic member keeps its partitions.
        try (Broker strict = new Broker(BrokerConfig.of(Map.of("log.dirs", own.toString(), "listeners", "PLAINTEXT://127.0.0.1:0",
                "group.initial.rebalance.delay.ms", "0", "group.consumer.migration.policy", "disabled")));
             Admin strictAdmin = Admin.create(Map.of("bootstrap.servers", startAndAddress(strict)))) {
            strictAdmin.createTopics(List.of(new NewTopic("strict", 2, (short) 1))).all().get();
            Properties p = new Properties();
            p.put("bootstrap.servers", strict.bootstrapServers());
            p.put("group.id", "g-strict");
            p.put("group.protocol", "classic");
            p.put("key.deserializer", StringDeserializer.class.getName());
            p.put("value.deserializer", StringDeserializer.class.getName());
            try (KafkaConsumer<String, String> classic = new KafkaConsumer<>(p)) {
                classic.subscribe(List.of("strict"));
                await(() -> {
                    classic.poll(Duration.ofMillis(20));
                    return classic.assignment().size() == 2;
                }, "classic member owns both partitions");
                var heartbeat = new org.apache.kafka.common.message.ConsumerGroupHeartbeatRequestData().setGroupId("g-strict")
                        .setMemberId(org.apache.kafka.common.Uuid.randomUuid().toString()).setMemberEpoch(0)
                        .setRebalanceTimeoutMs(30_000).setSubscribedTopicNames(List.of("strict")).setTopicPartitions(List.of());
                var response = (org.apache.kafka.common.message.ConsumerGroupHeartbeatResponseData) RawRequests.send(
                        strict.boundPort(), "strict-test", org.apache.kafka.common.protocol.ApiKeys.CONSUMER_GROUP_HEARTBEAT,
                        (short) 1, heartbeat);
                assertThat(response.errorCode()).isEqualTo(org.apache.kafka.common.protocol.Errors.GROUP_ID_NOT_FOUND.code());
                assertThat(response.errorMessage()).isEqualTo(
                        "Cannot upgrade classic group g-strict to consumer group because online upgrade is disabled.");
                classic.poll(Duration.ofMillis(200));
                assertThat(classic.assignment()).hasSize(2);
                assertThat(strictAdmin.describeConsumerGroups(List.of("g-strict")).describedGroups().get("g-strict").get()
                        .type()).isEqualTo(GroupType.CLASSIC);
            }
        }
    }

    private static String startAndAddress(Broker broker) throws Exception {
        broker.start();
        return broker.bootstrapServers();
    }

    private static KafkaConsumer<String, String> consumer(String group, Map<String, String> extra) {
        Properties p = new Properties();
        p.put("bootstrap.servers", broker.bootstrapServers());
        p.put("group.id", group);
        p.put("group.protocol", "consumer");
        p.put("auto.offset.reset", "earliest");
        p.put("enable.auto.commit", "false");
        p.put("key.deserializer", StringDeserializer.class.getName());
        p.put("value.deserializer", StringDeserializer.class.getName());
        p.putAll(extra);
        return new KafkaConsumer<>(p);
    }

    private static void pollInto(KafkaConsumer<String, String> c, Map<String, Integer> seen) {
        for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(50))) {
            seen.merge(r.value(), 1, Integer::sum);
        }
    }

    private static void produce(String topic, int partitions, int perPartition) throws Exception {
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of("bootstrap.servers", broker.bootstrapServers(),
                "key.serializer", StringSerializer.class.getName(), "value.serializer", StringSerializer.class.getName()))) {
            for (int p = 0; p < partitions; p++) {
                for (int i = 0; i < perPartition; i++) {
                    producer.send(new ProducerRecord<>(topic, p, null, topic + "-" + p + "-" + i + "-" + System.nanoTime()));
                }
            }
            producer.flush();
        }
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as(what).isLessThan(deadline);
            Thread.sleep(10);
        }
    }
}
