package io.gregor.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.gregor.testkit.Await;
import io.gregor.testkit.GregorCluster;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.ListGroupsOptions;
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
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The consumer group protocol of KIP-848 with the Java 4.2 consumer ({@code group.protocol=consumer}). */
@Timeout(120)
class ConsumerProtocolTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    static GregorCluster gregor;
    static Admin admin;

    @BeforeAll
    static void start() {
        gregor = GregorCluster.single().with("group.initial.rebalance.delay.ms", "0")
                .with("group.consumer.heartbeat.interval.ms", "200").start();
        admin = gregor.admin();
    }

    @AfterAll
    static void stop() {
        if (gregor != null) {
            gregor.close();
        }
    }

    @Test
    void twoConsumersSplitATopicAndTheSurvivorTakesOverWhenOneLeaves() throws Exception {
        gregor.createTopic("kip848", 4);
        Map<String, Integer> seen = new HashMap<>();
        try (KafkaConsumer<String, String> a = consumer("g848");
             KafkaConsumer<String, String> b = consumer("g848")) {
            a.subscribe(List.of("kip848"));
            b.subscribe(List.of("kip848"));
            Await.until("both members own two partitions", WAIT, () -> {
                pollInto(a, seen);
                pollInto(b, seen);
                return a.assignment().size() == 2 && b.assignment().size() == 2;
            });
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

            Await.until("every record consumed", WAIT, () -> {
                pollInto(a, seen);
                pollInto(b, seen);
                return seen.size() == 100;
            });
            a.commitSync();
            b.commitSync();
            b.close();
            Await.until("the remaining member owns all four partitions", WAIT, () -> {
                pollInto(a, seen);
                return a.assignment().size() == 4;
            });
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
        gregor.createTopic("rx-one", 2);
        // SubscriptionPattern is evaluated by the coordinator (KIP-848), so a new matching topic is picked up at the
        // next heartbeat rather than at the client's next metadata refresh.
        try (KafkaConsumer<String, String> c = consumer("g-regex", "group.remote.assignor", "range")) {
            c.subscribe(new SubscriptionPattern("rx-.*"));
            Await.until("assigned the two partitions of rx-one", WAIT, () -> {
                c.poll(Duration.ofMillis(50));
                return c.assignment().size() == 2;
            });
            gregor.createTopic("rx-two", 3);
            Await.until("rx-two assigned too", WAIT, () -> {
                c.poll(Duration.ofMillis(50));
                return c.assignment().size() == 5;
            });
            ConsumerGroupDescription d = admin.describeConsumerGroups(List.of("g-regex")).describedGroups().get("g-regex").get();
            assertThat(d.partitionAssignor()).isEqualTo("range");
        }
    }

    @Test
    void anEmptyGroupMovesBetweenTheClassicAndConsumerProtocolsWithItsOffsets() throws Exception {
        gregor.createTopic("migrate", 2);
        produce("migrate", 2, 10);
        Map<String, Integer> seen = new HashMap<>();
        try (KafkaConsumer<String, String> classic = consumer("g-move", "group.protocol", "classic")) {
            classic.subscribe(List.of("migrate"));
            Await.until("classic consumer reads everything", WAIT, () -> {
                pollInto(classic, seen);
                return seen.size() == 20;
            });
            classic.commitSync();
        }
        produce("migrate", 2, 5);
        Map<String, Integer> later = new HashMap<>();
        try (KafkaConsumer<String, String> modern = consumer("g-move")) {
            modern.subscribe(List.of("migrate"));
            Await.until("consumer-protocol member resumes from the classic group's offsets", WAIT, () -> {
                pollInto(modern, later);
                return later.size() == 10;
            });
            modern.commitSync();
        }
        assertThat(later.keySet()).allSatisfy(k -> assertThat(seen).doesNotContainKey(k));
        produce("migrate", 2, 1);
        Map<String, Integer> last = new HashMap<>();
        try (KafkaConsumer<String, String> classic = consumer("g-move", "group.protocol", "classic")) {
            classic.subscribe(List.of("migrate"));
            Await.until("and back to a classic member", WAIT, () -> {
                pollInto(classic, last);
                return last.size() == 2;
            });
        }
        assertThat(last).hasSize(2);
    }

    @Test
    void rebalanceListenerSeesOnlyIncrementalChanges() throws Exception {
        gregor.createTopic("incremental", 6);
        List<Collection<TopicPartition>> revokedByFirst = new ArrayList<>();
        try (KafkaConsumer<String, String> a = consumer("g-incr");
             KafkaConsumer<String, String> b = consumer("g-incr")) {
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
            Await.until("first member owns all six", WAIT, () -> {
                a.poll(Duration.ofMillis(50));
                return a.assignment().size() == 6;
            });
            b.subscribe(List.of("incremental"));
            Await.until("three each", WAIT, () -> {
                a.poll(Duration.ofMillis(50));
                b.poll(Duration.ofMillis(50));
                return a.assignment().size() == 3 && b.assignment().size() == 3;
            });
        }
        // The first member gave up exactly the three partitions that moved, never all six.
        assertThat(revokedByFirst.get(0)).hasSize(3);
    }

    @Test
    void aClassicGroupWithMembersMovesOnlineToTheConsumerProtocolAndBack() throws Exception {
        // A classic member owns all four partitions; a member of the consumer protocol joins the live group, which
        // becomes a consumer group holding both; they split the partitions. When the new member leaves, the group
        // goes back to the classic protocol and the classic member gets everything again.
        gregor.createTopic("online", 4);
        for (String assignor : List.of("org.apache.kafka.clients.consumer.RangeAssignor",
                "org.apache.kafka.clients.consumer.CooperativeStickyAssignor")) {
            String group = "g-online-" + assignor.length();
            try (KafkaConsumer<String, String> classic = consumer(group, "group.protocol", "classic",
                    "partition.assignment.strategy", assignor, "heartbeat.interval.ms", "200")) {
                classic.subscribe(List.of("online"));
                Await.until("classic member owns all four", WAIT, () -> {
                    classic.poll(Duration.ofMillis(20));
                    return classic.assignment().size() == 4;
                });
                try (KafkaConsumer<String, String> modern = consumer(group)) {
                    modern.subscribe(List.of("online"));
                    Await.until("two each after the online upgrade (" + assignor + ")", WAIT, () -> {
                        classic.poll(Duration.ofMillis(20));
                        modern.poll(Duration.ofMillis(20));
                        return classic.assignment().size() == 2 && modern.assignment().size() == 2;
                    });
                    ConsumerGroupDescription d = admin.describeConsumerGroups(List.of(group)).describedGroups().get(group).get();
                    assertThat(d.type()).isEqualTo(GroupType.CONSUMER);
                    assertThat(d.members()).hasSize(2);
                    Set<TopicPartition> union = new HashSet<>(classic.assignment());
                    union.addAll(modern.assignment());
                    assertThat(union).hasSize(4);
                    // A new classic member joins the group while it uses the consumer protocol.
                    try (KafkaConsumer<String, String> late = consumer(group, "group.protocol", "classic",
                            "partition.assignment.strategy", assignor, "heartbeat.interval.ms", "200")) {
                        late.subscribe(List.of("online"));
                        Await.until("three members share the four partitions (" + assignor + ")", WAIT, () -> {
                            classic.poll(Duration.ofMillis(20));
                            modern.poll(Duration.ofMillis(20));
                            late.poll(Duration.ofMillis(20));
                            Set<TopicPartition> all = new HashSet<>(classic.assignment());
                            all.addAll(modern.assignment());
                            all.addAll(late.assignment());
                            return !late.assignment().isEmpty() && !classic.assignment().isEmpty()
                                    && !modern.assignment().isEmpty() && all.size() == 4
                                    && classic.assignment().size() + modern.assignment().size() + late.assignment().size() == 4;
                        });
                    }
                    classic.commitSync();
                }
                Await.until("the classic member owns all four again", WAIT, () -> {
                    classic.poll(Duration.ofMillis(20));
                    return classic.assignment().size() == 4;
                });
                var listed = admin.listGroups(ListGroupsOptions.forConsumerGroups()).all().get();
                assertThat(listed).filteredOn(g -> g.groupId().equals(group))
                        .singleElement().satisfies(g -> assertThat(g.type()).contains(GroupType.CLASSIC));
            }
        }
    }

    @Test
    void aRestartedStaticMemberGetsItsPartitionsBackWithoutANewGroupEpoch() throws Exception {
        gregor.createTopic("static848", 4);
        try (KafkaConsumer<String, String> a = consumer("g-static848", "group.instance.id", "a")) {
            a.subscribe(List.of("static848"));
            Set<TopicPartition> before;
            int epoch;
            try (KafkaConsumer<String, String> b = consumer("g-static848", "group.instance.id", "b")) {
                b.subscribe(List.of("static848"));
                Await.until("two each", WAIT, () -> {
                    a.poll(Duration.ofMillis(20));
                    b.poll(Duration.ofMillis(20));
                    return a.assignment().size() == 2 && b.assignment().size() == 2;
                });
                before = Set.copyOf(b.assignment());
                epoch = admin.describeConsumerGroups(List.of("g-static848")).describedGroups().get("g-static848").get()
                        .groupEpoch().orElseThrow();
            }
            try (KafkaConsumer<String, String> b2 = consumer("g-static848", "group.instance.id", "b")) {
                b2.subscribe(List.of("static848"));
                Await.until("the restarted member owns its partitions again", WAIT, () -> {
                    a.poll(Duration.ofMillis(20));
                    b2.poll(Duration.ofMillis(20));
                    return b2.assignment().equals(before);
                });
                assertThat(a.assignment()).hasSize(2).doesNotContainAnyElementsOf(before);
                assertThat(admin.describeConsumerGroups(List.of("g-static848")).describedGroups().get("g-static848").get()
                        .groupEpoch().orElseThrow()).isEqualTo(epoch);
            }
        }
    }

    @Test
    void aDisabledMigrationPolicyKeepsALiveClassicGroupClassic() throws Exception {
        // group.consumer.migration.policy=disabled: a KIP-848 heartbeat to a live classic group is refused with Kafka's
        // message, and the classic member keeps its partitions.
        try (GregorCluster strict = GregorCluster.single().with("group.initial.rebalance.delay.ms", "0")
                .with("group.consumer.migration.policy", "disabled").start()) {
            Admin strictAdmin = strict.admin();
            strict.createTopic("strict", 2);
            try (KafkaConsumer<String, String> classic = strict.consumer("group.id", "g-strict", "group.protocol", "classic")) {
                classic.subscribe(List.of("strict"));
                Await.until("classic member owns both partitions", WAIT, () -> {
                    classic.poll(Duration.ofMillis(20));
                    return classic.assignment().size() == 2;
                });
                var heartbeat = new org.apache.kafka.common.message.ConsumerGroupHeartbeatRequestData().setGroupId("g-strict")
                        .setMemberId(org.apache.kafka.common.Uuid.randomUuid().toString()).setMemberEpoch(0)
                        .setRebalanceTimeoutMs(30_000).setSubscribedTopicNames(List.of("strict")).setTopicPartitions(List.of());
                org.apache.kafka.common.message.ConsumerGroupHeartbeatResponseData response = RawKafkaClient.sendOnce(
                        new InetSocketAddress("127.0.0.1", strict.broker().boundPort()), heartbeat, (short) 1);
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

    /** A member of {@code group} with the consumer protocol, reading from the earliest offset, committing by hand. */
    private static KafkaConsumer<String, String> consumer(String group, String... overrides) {
        List<String> settings = new ArrayList<>(List.of("group.id", group, "group.protocol", "consumer",
                "auto.offset.reset", "earliest", "enable.auto.commit", "false"));
        settings.addAll(List.of(overrides));
        return gregor.consumer(settings.toArray(String[]::new));
    }

    private static void pollInto(KafkaConsumer<String, String> c, Map<String, Integer> seen) {
        for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(50))) {
            seen.merge(r.value(), 1, Integer::sum);
        }
    }

    private static void produce(String topic, int partitions, int perPartition) throws Exception {
        try (KafkaProducer<String, String> producer = gregor.producer()) {
            for (int p = 0; p < partitions; p++) {
                for (int i = 0; i < perPartition; i++) {
                    producer.send(new ProducerRecord<>(topic, p, null, topic + "-" + p + "-" + i + "-" + System.nanoTime()));
                }
            }
            producer.flush();
        }
    }
}
