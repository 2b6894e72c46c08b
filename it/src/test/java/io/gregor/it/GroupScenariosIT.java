package io.gregor.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.gregor.testkit.GregorCluster;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Queue;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.CommitFailedException;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.FencedInstanceIdException;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import org.apache.kafka.common.errors.RebalanceInProgressException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Consumer-group scenarios as users live them (issue 3), with real clients over real sockets: the kafka-python
 * programs of the tutorials in shared/seeds (kept in resources/seeds, changed only where a comment says so),
 * confluent-kafka (librdkafka) with cooperative-sticky, Java KafkaConsumer static membership, and a Java group that
 * keeps consuming while the broker process is restarted.
 *
 * <p>Timeouts are shortened on both sides to keep the class quick: the broker waits 300 ms for the first members of a
 * new group and accepts session timeouts from 1 s; the tutorial programs run with their sleeps capped and with
 * kafka-python's default consumer session timeout lowered from 10 s to 3 s, so that the place of a consumer the test
 * killed is freed sooner. Conditions are polled with bounded waits; the only fixed wait is the window in which the
 * static-membership test looks for a rebalance that must not happen.
 */
@Timeout(120)
class GroupScenariosIT {
    private static final Pattern NUM = Pattern.compile("\"num\": (\\d+)");
    /** A line of seed 002's customer.py: {@code topic:partition:offset: key=b'k' value=b'v'} (key may be None). */
    private static final Pattern PRINTED = Pattern.compile("(\\S+):(\\d+):(\\d+): key=(?:b'([^']*)'|None) value=b'([^']*)'");
    private static final Pattern EVENT = Pattern.compile("event (\\S+) (\\S+) (assign|revoke) ?(\\S*)");

    @TempDir
    static Path dir;
    static GregorCluster gregor;
    static String bootstrap;
    static Admin admin;
    static Path pythonPath;

    @BeforeAll
    static void startBroker() throws IOException {
        gregor = GregorCluster.single().with("group.initial.rebalance.delay.ms", "300").with("group.min.session.timeout.ms", "1000").start();
        bootstrap = gregor.bootstrapServers();
        admin = Admin.create(Map.of("bootstrap.servers", bootstrap));
        pythonPath = Files.createDirectories(dir.resolve("pythonpath"));
        // Seed 001 stores what it consumes with pymongo, which cannot be installed here (no PyPI): a fake pymongo on
        // PYTHONPATH appends each insert_one document to the file named by FAKE_MONGO_FILE.
        Files.writeString(pythonPath.resolve("pymongo.py"), resource("/seeds/fakes/pymongo.py"));
        // Seed 003 takes its address and topic from a `config` module of the reader's own (`from config import config`).
        Files.createDirectories(pythonPath.resolve("config"));
        Files.writeString(pythonPath.resolve("config/__init__.py"), "");
        Files.writeString(pythonPath.resolve("config/config.py"), "SERVER = '" + bootstrap + "'\nTOPIC = 'seed003'\n");
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

    @Test
    void seed001ConsumerResumesAtTheLastAutoCommittedOffsetAfterBeingKilled() throws Exception {
        // consume.py of seed 001 (group my-group, kafka-python's default auto-commit every 5 s) stores the 500 numbers
        // of produce.py in the fake MongoDB while produce.py runs. Once all 500 are stored and the group's committed
        // offset reached 500 it is killed (SIGTERM), 100 more numbers are produced and consume.py is started again: it
        // stores exactly 500..599 in order, starting at the committed offset. Waiting for that auto-commit before the
        // kill is what makes "no duplicates" exact; killed earlier, the restart would repeat what was consumed after
        // the last auto-commit, at most one commit interval's worth.
        TopicPartition tp = new TopicPartition("testnum", 0);
        createTopic("testnum", 1);
        Path mongo = dir.resolve("seed001-mongo.jsonl");
        Map<String, String> env = Map.of("FAKE_MONGO_FILE", mongo.toString());
        Path consume = seedProgram("seed001_consume.py", 10, Map.of());
        try (Subprocess.Background consumer = startPython(consume, env)) {
            runPython(seedProgram("seed001_produce.py", 10, Map.of()));
            await("consume.py stored 500 numbers", 60, () -> stored(mongo).size() >= 500, consumer::describe);
            await("my-group auto-committed offset 500", 30, () -> committed(admin, "my-group", tp) == 500,
                    consumer::describe);
            consumer.terminate();
            assertThat(consumer.stdoutLines()).contains("{'num': 499} added to Collection(testnum.testnum)");
        }
        assertThat(stored(mongo)).as("first run").containsExactlyElementsOf(range(0, 500));
        long resumeAt = committed(admin, "my-group", tp);
        produceNumbers("testnum", 500, 600);
        try (Subprocess.Background consumer = startPython(consume, env)) {
            await("consume.py stored 600 numbers", 60, () -> stored(mongo).size() >= 600, consumer::describe);
            consumer.terminate();
        }
        List<Integer> all = stored(mongo);
        assertThat(resumeAt).isEqualTo(500);
        assertThat(all.subList(500, all.size())).as("second run, from committed offset %d", resumeAt)
                .containsExactlyElementsOf(range(500, 600));
    }

    @Test
    void seed002ProducerSeesThreePartitionsAndKeyedRecordsKeepTheirOrder() throws Exception {
        // producer.py of seed 002 prints partitions_for('test-topic1') of a 3-partition topic. customer.py (group
        // my-group2, kafka-python's default auto_offset_reset 'latest', so it reads what is produced once it joined)
        // receives 8 keys x 20 records from a kafka-python producer: each key stays on one partition, in order.
        createTopic("test-topic1", 3);
        try (Subprocess.Background customer = startPython(seedProgram("seed002_customer.py", 10, Map.of()), Map.of())) {
            awaitAssignment(admin, "my-group2", List.of(3));
            awaitFetching("test-topic1", 3, List.of(customer));
            Subprocess.Result producer = runPython(seedProgram("seed002_producer.py", 10, Map.of()));
            assertThat(producer.stdout()).contains("{0, 1, 2}");
            runPython(snippet("""
                    from kafka import KafkaProducer
                    p = KafkaProducer(bootstrap_servers='BOOTSTRAP')
                    for i in range(20):
                        for k in range(8):
                            p.send('test-topic1', key=b'key-%d' % k, value=b'key-%d:%d' % (k, i))
                    p.flush()
                    """));
            await("customer.py printed 160 keyed records", 60, () -> keyed(printed(customer)).size() >= 160,
                    customer::describe);
            customer.terminate();
            Map<String, List<Printed>> byKey = keyed(printed(customer)).stream()
                    .collect(Collectors.groupingBy(Printed::key, TreeMap::new, Collectors.toList()));
            assertThat(byKey).hasSize(8);
            byKey.forEach((key, records) -> {
                assertThat(records).as(key).extracting(Printed::partition).containsOnly(records.getFirst().partition());
                assertThat(records).as(key).extracting(Printed::value)
                        .containsExactlyElementsOf(IntStream.range(0, 20).mapToObj(i -> key + ":" + i).toList());
                assertThat(records).as(key).extracting(Printed::offset).isSorted().doesNotHaveDuplicates();
            });
            assertThat(byKey.values().stream().map(r -> r.getFirst().partition()).collect(Collectors.toSet()))
                    .as("partitions the keys went to").hasSizeGreaterThan(1);
        }
    }

    @Test
    void twoSeed002ConsumersOfOneGroupSplitAFourPartitionTopic() throws Exception {
        // Two customer.py processes run at once in one group (topic and group renamed to test-topic4 and my-group4 so
        // that this scenario does not depend on the one above). They share the 4-partition topic two partitions each
        // and, with no rebalance in between, each of 200 records is printed by exactly one of them.
        createTopic("test-topic4", 4);
        Path program = seedProgram("seed002_customer.py", 10,
                Map.of("'test-topic1'", "'test-topic4'", "'my-group2'", "'my-group4'"));
        try (Subprocess.Background a = startPython(program, Map.of()); Subprocess.Background b = startPython(program, Map.of())) {
            Map<String, Set<TopicPartition>> assignment = awaitAssignment(admin, "my-group4", List.of(2, 2));
            awaitFetching("test-topic4", 4, List.of(a, b));
            try (KafkaProducer<String, String> producer = producer(bootstrap)) {
                for (int i = 0; i < 50; i++) {
                    for (int partition = 0; partition < 4; partition++) {
                        producer.send(new ProducerRecord<>("test-topic4", partition, null, "r-" + partition + "-" + i));
                    }
                }
            }
            await("200 records printed", 60, () -> records(a).size() + records(b).size() >= 200,
                    () -> a.describe() + "\n" + b.describe());
            assertThat(stableAssignment(admin, "my-group4")).as("no rebalance in between").isEqualTo(assignment);
            a.terminate();
            b.terminate();
            Set<Integer> fromA = partitions(records(a));
            Set<Integer> fromB = partitions(records(b));
            assertThat(fromA).hasSize(2);
            assertThat(fromB).hasSize(2).doesNotContainAnyElementsOf(fromA);
            assertThat(Set.of(fromA, fromB)).isEqualTo(assignment.values().stream()
                    .map(tps -> tps.stream().map(TopicPartition::partition).collect(Collectors.toSet()))
                    .collect(Collectors.toSet()));
            List<String> values = new ArrayList<>();
            records(a).forEach(r -> values.add(r.value()));
            records(b).forEach(r -> values.add(r.value()));
            assertThat(values).hasSize(200).doesNotHaveDuplicates();
        }
    }

    @Test
    void seed003ManualCommitConsumerKilledMidwayMissesNothing() throws Exception {
        // Seed 003's consumer with the tutorial's at-least-once recipe (enable_auto_commit=False, commit_async after
        // printing each record) reads while producer.py sends 100 records, and is killed with SIGKILL after 30. The
        // committed offset is never past what it printed; a restarted consumer of group 'test' starts at the committed
        // offset (at or after the one read just after the kill: a commit sent just before it may still land) and
        // prints the rest: every record is seen, repeats are only those printed after the last commit that landed.
        TopicPartition tp = new TopicPartition("seed003", 0);
        createTopic("seed003", 1);
        Path consume = seedProgram("seed003_consumer_manual_commit.py", 10, Map.of());
        try (Subprocess.Background producer = startPython(seedProgram("seed003_producer.py", 30, Map.of()), Map.of())) {
            List<Integer> first;
            try (Subprocess.Background consumer = startPython(consume, Map.of())) {
                await("the consumer printed 30 records", 60, () -> numbers(consumer).size() >= 30, consumer::describe);
                consumer.kill9();
                first = numbers(consumer);
            }
            assertThat(first).as("first run").hasSizeLessThan(100).containsExactlyElementsOf(range(0, first.size()));
            long resumeAt = committed(admin, "test", tp);
            assertThat(resumeAt).as("committed offset after the kill").isBetween(1L, (long) first.size());
            List<Integer> second;
            try (Subprocess.Background consumer = startPython(consume, Map.of())) {
                await("the restarted consumer printed record 99", 60, () -> numbers(consumer).contains(99),
                        () -> consumer.describe() + "\n" + producer.describe());
                consumer.terminate();
                second = numbers(consumer);
            }
            producer.awaitExit(60).assertOk();
            assertThat(second).as("second run").isNotEmpty();
            int start = second.getFirst();
            assertThat(start).as("second run's first record").isBetween((int) resumeAt, first.size());
            assertThat(second).as("second run").containsExactlyElementsOf(range(start, 100));
            Set<Integer> seen = new TreeSet<>(first);
            seen.addAll(second);
            assertThat(seen).containsExactlyElementsOf(range(0, 100));
        }
    }

    @Test
    void confluentKafkaCooperativeStickyMovesOnlyThePartitionsThatChangeOwner() throws Exception {
        // librdkafka with cooperative-sticky: c2 and c3 join c1's group on a 6-partition topic, then c3 and c2 leave.
        // Each step is checked through the on_assign/on_revoke callbacks (empty incremental calls ignored): a member
        // gives up only the partitions that move, never everything, and gets nothing it already owns; in the end c1
        // owns all six and every record produced along the way was consumed.
        Subprocess.Result r = runPython(snippet("""
                import sys, time
                from confluent_kafka import Consumer, Producer
                from confluent_kafka.admin import AdminClient, NewTopic
                TOPIC = 'coop-six'
                admin = AdminClient({'bootstrap.servers': 'BOOTSTRAP'})
                for f in admin.create_topics([NewTopic(TOPIC, 6, 1)]).values():
                    f.result()
                producer = Producer({'bootstrap.servers': 'BOOTSTRAP'})
                consumers, produced, seen = {}, set(), set()
                phase = 'first'

                def join(name):
                    def on_assign(consumer, partitions):
                        print('event', phase, name, 'assign', ','.join(str(p.partition) for p in partitions), flush=True)
                    def on_revoke(consumer, partitions):
                        print('event', phase, name, 'revoke', ','.join(str(p.partition) for p in partitions), flush=True)
                    c = Consumer({'bootstrap.servers': 'BOOTSTRAP', 'group.id': 'coop-g', 'auto.offset.reset': 'earliest',
                                  'partition.assignment.strategy': 'cooperative-sticky', 'session.timeout.ms': 6000,
                                  'heartbeat.interval.ms': 500})
                    c.subscribe([TOPIC], on_assign=on_assign, on_revoke=on_revoke)
                    consumers[name] = c

                def settle(sizes):
                    # Polls every member until the assignment has these sizes and all records produced so far were consumed.
                    deadline = time.time() + 60
                    while time.time() < deadline:
                        for c in list(consumers.values()):
                            m = c.poll(0.05)
                            if m is not None and m.error() is None:
                                seen.add(m.value().decode())
                        owned = {n: sorted(tp.partition for tp in c.assignment()) for n, c in consumers.items()}
                        if sorted(len(p) for p in owned.values()) == sizes and produced <= seen:
                            for n in sorted(owned):
                                print('owned', phase, n, ','.join(map(str, owned[n])), flush=True)
                            return
                    sys.exit('phase %s did not settle: owned %s, %d records missing' % (phase, owned, len(produced - seen)))

                def produce():
                    for i in range(60):
                        value = '%s-%d' % (phase, i)
                        producer.produce(TOPIC, value=value, partition=i % 6)
                        produced.add(value)
                    assert producer.flush(30) == 0

                for phase, step, sizes in [('first', lambda: join('c1'), [6]), ('join2', lambda: join('c2'), [3, 3]),
                                           ('join3', lambda: join('c3'), [2, 2, 2]),
                                           ('leave3', lambda: consumers.pop('c3').close(), [3, 3]),
                                           ('leave2', lambda: consumers.pop('c2').close(), [6])]:
                    step()
                    settle(sizes)
                    produce()
                    settle(sizes)
                print('consumed', len(seen & produced), 'of', len(produced), flush=True)
                phase = 'end'
                consumers.pop('c1').close()
                """));
        List<String> lines = r.stdout().lines().toList();
        Map<String, Map<String, Set<Integer>>> assigned = new HashMap<>();
        Map<String, Map<String, Set<Integer>>> revoked = new HashMap<>();
        for (String line : lines) {
            Matcher m = EVENT.matcher(line);
            if (m.matches() && !m.group(4).isEmpty()) {
                var target = m.group(3).equals("assign") ? assigned : revoked;
                Set<Integer> partitions = target.computeIfAbsent(m.group(1), p -> new HashMap<>())
                        .computeIfAbsent(m.group(2), c -> new TreeSet<>());
                for (String p : m.group(4).split(",")) {
                    assertThat(partitions.add(Integer.parseInt(p))).as("%s: partition %s handed twice", line, p).isTrue();
                }
            }
        }
        String events = String.join("\n", lines);
        Set<Integer> all = Set.of(0, 1, 2, 3, 4, 5);
        assertThat(events(assigned, "first", "c1")).as(events).isEqualTo(all);
        // c2 joins: c1 gives up exactly the three that c2 gets and keeps the other three throughout.
        Set<Integer> toC2 = events(revoked, "join2", "c1");
        assertThat(toC2).as(events).hasSize(3);
        assertThat(events(assigned, "join2", "c2")).as(events).isEqualTo(toC2);
        assertThat(events(assigned, "join2", "c1")).as(events).isEmpty();
        // c3 joins: c1 and c2 give up one partition each, which c3 gets.
        Set<Integer> fromC1 = events(revoked, "join3", "c1");
        Set<Integer> fromC2 = events(revoked, "join3", "c2");
        assertThat(fromC1).as(events).hasSize(1);
        assertThat(fromC2).as(events).hasSize(1);
        Set<Integer> toC3 = new TreeSet<>(fromC1);
        toC3.addAll(fromC2);
        assertThat(events(assigned, "join3", "c3")).as(events).isEqualTo(toC3);
        assertThat(events(assigned, "join3", "c1")).as(events).isEmpty();
        assertThat(events(assigned, "join3", "c2")).as(events).isEmpty();
        // c3 leaves: its two partitions go one each to c1 and c2, which lose nothing.
        assertThat(events(assigned, "leave3", "c1")).as(events).hasSize(1);
        assertThat(events(assigned, "leave3", "c2")).as(events).hasSize(1);
        Set<Integer> fromC3 = new TreeSet<>(events(assigned, "leave3", "c1"));
        fromC3.addAll(events(assigned, "leave3", "c2"));
        assertThat(fromC3).as(events).isEqualTo(toC3);
        assertThat(events(revoked, "leave3", "c1")).as(events).isEmpty();
        assertThat(events(revoked, "leave3", "c2")).as(events).isEmpty();
        // c2 leaves: c1 takes its three and loses nothing.
        assertThat(events(revoked, "leave2", "c1")).as(events).isEmpty();
        assertThat(events(assigned, "leave2", "c1")).as(events).hasSize(3).doesNotContainAnyElementsOf(
                events(assigned, "leave3", "c1"));
        assertThat(lines).as(events).contains("owned leave2 c1 0,1,2,3,4,5", "consumed 300 of 300");
    }

    @ParameterizedTest(name = "restarting the {0}")
    @ValueSource(strings = {"leader", "follower"})
    void staticMemberRestartedWithinItsSessionTimeoutGetsItsPartitionsBackWithoutARebalance(String which) throws Exception {
        // Two static members (group.instance.id) share a 4-partition topic; the one that joined first leads the group.
        // The leader or the follower is closed, which for a static member sends no LeaveGroup, and a new consumer with
        // its instance id starts well within session.timeout.ms (10 s): it gets the same two partitions in the same
        // generation, and the other member sees no rebalance at all.
        String topic = "static-" + which;
        String group = "static-g-" + which;
        createTopic(topic, 4);
        KafkaConsumer<String, String> leader = staticConsumer(group, "leader");
        KafkaConsumer<String, String> follower = staticConsumer(group, "follower");
        KafkaConsumer<String, String> restarted = null;
        try {
            Callbacks leaderCalls = new Callbacks();
            Callbacks followerCalls = new Callbacks();
            leader.subscribe(List.of(topic), leaderCalls);
            pollUntil("the leader alone owns four partitions", List.of(leader), () -> leader.assignment().size() == 4);
            follower.subscribe(List.of(topic), followerCalls);
            pollUntil("both members own two partitions", List.of(leader, follower), () -> leader.assignment().size() == 2
                    && follower.assignment().size() == 2
                    && leader.groupMetadata().generationId() == follower.groupMetadata().generationId()
                    && stableAssignment(admin, group).size() == 2);
            KafkaConsumer<String, String> stopped = which.equals("leader") ? leader : follower;
            KafkaConsumer<String, String> other = which.equals("leader") ? follower : leader;
            Callbacks otherCalls = which.equals("leader") ? followerCalls : leaderCalls;
            int generation = other.groupMetadata().generationId();
            Set<TopicPartition> owned = Set.copyOf(stopped.assignment());
            List<String> otherBefore = List.copyOf(otherCalls.calls);
            stopped.close();
            restarted = staticConsumer(group, which);
            Callbacks restartedCalls = new Callbacks();
            restarted.subscribe(List.of(topic), restartedCalls);
            KafkaConsumer<String, String> again = restarted;
            pollUntil("the restarted member owns partitions", List.of(again, other), () -> !again.assignment().isEmpty());
            // A rebalance, if the broker started one, would reach the other member with its next heartbeat (every
            // 500 ms): keep both polling for three heartbeat intervals before checking that none happened.
            long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1500);
            pollUntil("three heartbeat intervals passed", List.of(again, other), () -> System.nanoTime() > until);
            SoftAssertions.assertSoftly(softly -> {
                softly.assertThat(again.assignment()).as("partitions of the restarted member").isEqualTo(owned);
                softly.assertThat(again.groupMetadata().generationId()).as("generation of the restarted member")
                        .isEqualTo(generation);
                softly.assertThat(other.groupMetadata().generationId()).as("generation of the other member")
                        .isEqualTo(generation);
                softly.assertThat(otherCalls.calls).as("rebalance callbacks of the other member").isEqualTo(otherBefore);
                softly.assertThat(restartedCalls.calls).as("callbacks of the restarted member")
                        .containsExactly("assigned " + sorted(owned));
            });
        } finally {
            closeQuietly(leader);
            closeQuietly(follower);
            closeQuietly(restarted);
        }
    }

    @Test
    void aSecondConsumerWithTheSameInstanceIdFencesTheFirst() throws Exception {
        // Two live consumers configured with the same group.instance.id: the one that joins second takes the place
        // (and the partitions); the first is fenced and its poll throws FencedInstanceIdException.
        createTopic("fence-two", 2);
        KafkaConsumer<String, String> first = staticConsumer("fence-g", "only-one");
        KafkaConsumer<String, String> second = staticConsumer("fence-g", "only-one");
        try {
            first.subscribe(List.of("fence-two"));
            pollUntil("the first consumer owns both partitions", List.of(first), () -> first.assignment().size() == 2);
            second.subscribe(List.of("fence-two"));
            FencedInstanceIdException fenced = null;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while ((fenced == null || second.assignment().size() != 2) && System.nanoTime() < deadline) {
                second.poll(Duration.ofMillis(100));
                if (fenced == null) {
                    try {
                        first.poll(Duration.ofMillis(100));
                    } catch (FencedInstanceIdException e) {
                        fenced = e;
                    }
                }
            }
            assertThat(fenced).as("the first consumer was fenced").isNotNull();
            assertThat(second.assignment()).hasSize(2);
            assertThat(stableAssignment(admin, "fence-g")).hasSize(1);
        } finally {
            closeQuietly(first);
            closeQuietly(second);
        }
    }

    @Test
    void aGroupKeepsConsumingAcrossABrokerRestartAndItsCommittedOffsetsSurvive() throws Exception {
        // Two Java consumers of one group poll on their own threads, committing after each poll. Batch A is consumed
        // and committed; the broker process is stopped (SIGTERM), batch B is sent while it is down, and it is started
        // again on the same data directory and port; then batch C. The consumers carry on by themselves: every
        // acknowledged record is consumed, the committed offsets are there after the restart, and as all of A was
        // committed before the stop, none of A is consumed twice (lost offsets would replay it from the earliest).
        Path data = dir.resolve("restart-data");
        int port = GregorProcess.freePort();
        String[] settings = {"group.initial.rebalance.delay.ms=300", "group.min.session.timeout.ms=1000"};
        GregorProcess node = GregorProcess.start(data, port, settings);
        Queue<String> consumed = new ConcurrentLinkedQueue<>();
        List<PollLoop> loops = new ArrayList<>();
        try (Admin nodeAdmin = Admin.create(Map.of("bootstrap.servers", node.bootstrap(), "reconnect.backoff.max.ms", "500"));
             KafkaProducer<String, String> producer = producer(node.bootstrap())) {
            nodeAdmin.createTopics(List.of(new NewTopic("live", 4, (short) 1))).all().get();
            for (int i = 0; i < 2; i++) {
                loops.add(new PollLoop(node.bootstrap(), "live-g", "live", consumed));
            }
            awaitAssignment(nodeAdmin, "live-g", List.of(2, 2));
            List<String> batchA = values("A", 200);
            for (Future<RecordMetadata> f : sendAsync(producer, batchA)) {
                f.get(30, TimeUnit.SECONDS);
            }
            await("batch A consumed and committed", 60, () -> consumed.containsAll(batchA)
                    && committedSum(nodeAdmin, "live-g") == 200, () -> "consumed " + consumed.size());
            Map<TopicPartition, OffsetAndMetadata> before = nodeAdmin.listConsumerGroupOffsets("live-g")
                    .partitionsToOffsetAndMetadata().get();

            node.stop();
            // With its only broker unreachable a Kafka 4 client re-bootstraps and forgets the topic's partitions, so
            // send() blocks (up to max.block.ms) until the broker is back: B is sent from another thread.
            List<String> batchB = values("B", 100);
            CompletableFuture<List<Future<RecordMetadata>>> pendingB = CompletableFuture.supplyAsync(
                    () -> sendAsync(producer, batchB));
            node = GregorProcess.start(data, port, settings);
            for (Future<RecordMetadata> f : pendingB.get(60, TimeUnit.SECONDS)) {
                f.get(60, TimeUnit.SECONDS);
            }
            Map<TopicPartition, OffsetAndMetadata> after = nodeAdmin.listConsumerGroupOffsets("live-g")
                    .partitionsToOffsetAndMetadata().get();
            assertThat(after.keySet()).isEqualTo(before.keySet());
            before.forEach((tp, offset) -> assertThat(after.get(tp).offset()).as("committed offset of %s", tp)
                    .isGreaterThanOrEqualTo(offset.offset()));
            List<String> batchC = values("C", 100);
            for (Future<RecordMetadata> f : sendAsync(producer, batchC)) {
                f.get(30, TimeUnit.SECONDS);
            }
            await("batches B and C consumed and committed", 60, () -> consumed.containsAll(batchB)
                    && consumed.containsAll(batchC) && committedSum(nodeAdmin, "live-g") == 400,
                    () -> "consumed " + consumed.size() + ", failures " + loops.stream().map(l -> l.failures).toList());
            awaitAssignment(nodeAdmin, "live-g", List.of(2, 2));
            for (PollLoop loop : loops) {
                loop.close();
                assertThat(loop.failures).as("poll loop failures").isEmpty();
            }
            List<String> consumedA = consumed.stream().filter(v -> v.startsWith("A-")).toList();
            assertThat(consumedA).as("batch A after the restart").hasSize(200).doesNotHaveDuplicates();
        } finally {
            for (PollLoop loop : loops) {
                loop.close();
            }
            node.close();
        }
    }

    // ---- kafka-python programs ----

    /**
     * Writes a tutorial program from resources/seeds with this broker's address in place of the tutorial's, its sleeps
     * capped at {@code maxSleepMs} (seed 001 sleeps 5 s between sends, seed 003 1 s), kafka-python consumers' default
     * session timeout lowered to 3 s and the given renames applied.
     */
    private static Path seedProgram(String name, int maxSleepMs, Map<String, String> renames) throws IOException {
        String source = resource("/seeds/" + name)
                .replace("'localhost:9092','localhost:9093','localhost:9094'", "'" + bootstrap + "'")
                .replace("localhost : 9092", bootstrap)
                .replace("localhost:9092", bootstrap);
        for (Map.Entry<String, String> rename : renames.entrySet()) {
            source = source.replace(rename.getKey(), rename.getValue());
        }
        String preamble = """
                import time as _t
                _real_sleep = _t.sleep
                _t.sleep = lambda s: _real_sleep(min(s, %s))
                import kafka as _k
                _k.KafkaConsumer.DEFAULT_CONFIG.update(session_timeout_ms=3000, heartbeat_interval_ms=1000)
                """.formatted(maxSleepMs / 1000.0);
        Path file = Files.createTempFile(dir, name.replace(".py", "-"), ".py");
        Files.writeString(file, preamble + source);
        return file;
    }

    /** Writes a program of the test's own, with BOOTSTRAP replaced by this broker's address. */
    private static Path snippet(String program) throws IOException {
        Path file = Files.createTempFile(dir, "snippet-", ".py");
        Files.writeString(file, program.replace("BOOTSTRAP", bootstrap));
        return file;
    }

    private static Subprocess.Background startPython(Path program, Map<String, String> environment) throws IOException {
        Map<String, String> env = new HashMap<>(environment);
        env.put("PYTHONPATH", pythonPath.toString());
        // The test reads the output while the program runs.
        env.put("PYTHONUNBUFFERED", "1");
        return Subprocess.start(List.of(Subprocess.python(), program.toString()), env, dir);
    }

    private static Subprocess.Result runPython(Path program) throws Exception {
        try (Subprocess.Background process = startPython(program, Map.of())) {
            return process.awaitExit(90).assertOk();
        }
    }

    /**
     * Produces a "probe" record to each partition of the topic whose probe no consumer printed yet, every 500 ms,
     * until every partition's probe was printed: kafka-python consumers starting from 'latest' have then looked up
     * their positions, and no record produced afterwards is skipped.
     */
    private static void awaitFetching(String topic, int partitions, List<Subprocess.Background> consumers) throws Exception {
        long[] lastSent = {0};
        try (KafkaProducer<String, String> producer = producer(bootstrap)) {
            await("every partition's probe printed", 30, () -> {
                Set<Integer> seen = new HashSet<>();
                for (Subprocess.Background consumer : consumers) {
                    printed(consumer).stream().filter(p -> p.value().equals("probe")).forEach(p -> seen.add(p.partition()));
                }
                if (seen.size() < partitions && System.nanoTime() - lastSent[0] > TimeUnit.MILLISECONDS.toNanos(500)) {
                    for (int partition = 0; partition < partitions; partition++) {
                        if (!seen.contains(partition)) {
                            producer.send(new ProducerRecord<>(topic, partition, null, "probe"));
                        }
                    }
                    producer.flush();
                    lastSent[0] = System.nanoTime();
                }
                return seen.size() == partitions;
            }, () -> consumers.get(0).describe());
        }
    }

    /** A line printed by seed 002's customer.py. */
    private record Printed(String topic, int partition, long offset, String key, String value) {
    }

    private static List<Printed> printed(Subprocess.Background consumer) throws IOException {
        List<Printed> result = new ArrayList<>();
        for (String line : consumer.stdoutLines()) {
            Matcher m = PRINTED.matcher(line);
            if (m.matches()) {
                result.add(new Printed(m.group(1), Integer.parseInt(m.group(2)), Long.parseLong(m.group(3)), m.group(4),
                        m.group(5)));
            }
        }
        return result;
    }

    private static List<Printed> keyed(List<Printed> printed) {
        return printed.stream().filter(p -> p.key() != null && p.key().startsWith("key-")).toList();
    }

    /** The records of the split test, without probes. */
    private static List<Printed> records(Subprocess.Background consumer) throws IOException {
        return printed(consumer).stream().filter(p -> p.value().startsWith("r-")).toList();
    }

    private static Set<Integer> partitions(List<Printed> printed) {
        return printed.stream().map(Printed::partition).collect(Collectors.toSet());
    }

    /** The numbers printed by a consumer, in order. */
    private static List<Integer> numbers(Subprocess.Background consumer) throws IOException {
        return numbers(consumer.stdoutLines());
    }

    /** The numbers the fake pymongo stored, in order. */
    private static List<Integer> stored(Path mongo) throws IOException {
        if (!Files.exists(mongo)) {
            return List.of();
        }
        return numbers(Subprocess.completeLines(Files.readString(mongo)));
    }

    private static List<Integer> numbers(List<String> lines) {
        List<Integer> result = new ArrayList<>();
        for (String line : lines) {
            Matcher m = NUM.matcher(line);
            if (m.find()) {
                result.add(Integer.parseInt(m.group(1)));
            }
        }
        return result;
    }

    // ---- Java clients ----

    private static KafkaConsumer<String, String> staticConsumer(String group, String instanceId) {
        Properties props = new Properties();
        props.put("bootstrap.servers", bootstrap);
        props.put("group.id", group);
        props.put("group.instance.id", instanceId);
        props.put("auto.offset.reset", "earliest");
        props.put("enable.auto.commit", "false");
        props.put("session.timeout.ms", "10000");
        props.put("heartbeat.interval.ms", "500");
        return new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer());
    }

    /** Polls the consumers in turn until the condition holds. */
    private static void pollUntil(String what, List<KafkaConsumer<String, String>> consumers, Condition condition)
            throws Exception {
        await(what, 60, () -> {
            for (KafkaConsumer<String, String> consumer : consumers) {
                consumer.poll(Duration.ofMillis(50));
            }
            return condition.holds();
        }, () -> consumers.stream().map(c -> c.assignment().toString()).toList().toString());
    }

    private static void closeQuietly(KafkaConsumer<String, String> consumer) {
        if (consumer != null) {
            try {
                consumer.close(Duration.ofSeconds(5));
            } catch (RuntimeException e) {
                // A fenced consumer may refuse to close cleanly; the test has already checked what it needed.
            }
        }
    }

    /** Records the rebalance callbacks a consumer receives, empty ones included. */
    private static final class Callbacks implements ConsumerRebalanceListener {
        final List<String> calls = new CopyOnWriteArrayList<>();

        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            calls.add("revoked " + sorted(partitions));
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            calls.add("assigned " + sorted(partitions));
        }
    }

    private static List<String> sorted(Collection<TopicPartition> partitions) {
        return partitions.stream().map(TopicPartition::toString).sorted().toList();
    }

    /**
     * A consumer of a group polling on its own thread and committing synchronously after each poll that returned
     * records. Commits that fail because the broker is away or the group is rebalancing are skipped: those records
     * may be read again (at least once). Any other failure ends the loop and is kept for the test to report.
     */
    private static final class PollLoop implements AutoCloseable {
        final List<Throwable> failures = new CopyOnWriteArrayList<>();
        private final Thread thread;
        private volatile boolean running = true;

        PollLoop(String bootstrap, String group, String topic, Queue<String> consumed) {
            Properties props = new Properties();
            props.put("bootstrap.servers", bootstrap);
            props.put("group.id", group);
            props.put("auto.offset.reset", "earliest");
            props.put("enable.auto.commit", "false");
            props.put("session.timeout.ms", "6000");
            props.put("heartbeat.interval.ms", "500");
            props.put("reconnect.backoff.max.ms", "500");
            props.put("max.poll.records", "20");
            thread = new Thread(() -> {
                try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props, new StringDeserializer(),
                        new StringDeserializer())) {
                    consumer.subscribe(List.of(topic));
                    while (running) {
                        ConsumerRecords<String, String> records = consumer.poll(Duration.ofMillis(100));
                        records.forEach(r -> consumed.add(r.value()));
                        if (!records.isEmpty()) {
                            try {
                                consumer.commitSync(Duration.ofSeconds(5));
                            } catch (RetriableException | CommitFailedException | RebalanceInProgressException e) {
                                // Skipped; see the class comment.
                            }
                        }
                    }
                } catch (Throwable t) {
                    failures.add(t);
                }
            }, "poll-loop-" + group);
            thread.start();
        }

        @Override
        public void close() throws InterruptedException {
            running = false;
            thread.join(TimeUnit.SECONDS.toMillis(30));
        }
    }

    private static KafkaProducer<String, String> producer(String bootstrapServers) {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrapServers);
        p.put("acks", "all");
        p.put("reconnect.backoff.max.ms", "500");
        return new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
    }

    /** Values {@code <batch>-<partition>-<i>} spread evenly over the four partitions of the restart test's topic. */
    private static List<String> values(String batch, int count) {
        List<String> values = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            values.add(batch + "-" + (i % 4) + "-" + i);
        }
        return values;
    }

    private static List<Future<RecordMetadata>> sendAsync(KafkaProducer<String, String> producer, List<String> values) {
        List<Future<RecordMetadata>> futures = new ArrayList<>();
        for (String value : values) {
            int partition = Integer.parseInt(value.split("-")[1]);
            futures.add(producer.send(new ProducerRecord<>("live", partition, null, value)));
        }
        return futures;
    }

    /** {"num": n} for n in [from, to), as seed 001's producer writes them (json.dumps). */
    private static void produceNumbers(String topic, int from, int to) {
        try (KafkaProducer<String, String> producer = producer(bootstrap)) {
            for (int n = from; n < to; n++) {
                producer.send(new ProducerRecord<>(topic, "{\"num\": " + n + "}"));
            }
        }
    }

    // ---- groups and waiting ----

    private static void createTopic(String name, int partitions) throws Exception {
        admin.createTopics(List.of(new NewTopic(name, partitions, (short) 1))).all().get();
    }

    private static long committed(Admin client, String group, TopicPartition tp) throws Exception {
        OffsetAndMetadata offset = client.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get().get(tp);
        return offset == null ? -1 : offset.offset();
    }

    private static long committedSum(Admin client, String group) throws Exception {
        return client.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get().values().stream()
                .mapToLong(OffsetAndMetadata::offset).sum();
    }

    /** Member id to partitions while the group is Stable; empty otherwise (also while the group does not exist yet). */
    private static Map<String, Set<TopicPartition>> stableAssignment(Admin client, String group) throws Exception {
        Map<String, Set<TopicPartition>> result = new LinkedHashMap<>();
        ConsumerGroupDescription d;
        try {
            d = client.describeConsumerGroups(List.of(group)).all().get().get(group);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof GroupIdNotFoundException) {
                return result;
            }
            throw e;
        }
        if (d.groupState() == GroupState.STABLE) {
            for (MemberDescription m : d.members()) {
                result.put(m.consumerId(), Set.copyOf(m.assignment().topicPartitions()));
            }
        }
        return result;
    }

    /** Waits until the group is Stable with members owning these numbers of partitions (in ascending order). */
    private static Map<String, Set<TopicPartition>> awaitAssignment(Admin client, String group, List<Integer> sizes)
            throws Exception {
        await(group + " stable with partitions per member " + sizes, 60, () -> stableAssignment(client, group).values()
                .stream().map(Set::size).sorted().toList().equals(sizes), () -> stableAssignment(client, group).toString());
        return stableAssignment(client, group);
    }

    @FunctionalInterface
    private interface Condition {
        boolean holds() throws Exception;
    }

    @FunctionalInterface
    private interface Diagnosis {
        String describe() throws Exception;
    }

    private static void await(String what, int timeoutSeconds, Condition condition, Diagnosis diagnosis) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
        while (!condition.holds()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("not within " + timeoutSeconds + " s: " + what + "\n" + diagnosis.describe());
            }
            Thread.sleep(50);
        }
    }

    private static Set<Integer> events(Map<String, Map<String, Set<Integer>>> byPhase, String phase, String consumer) {
        return byPhase.getOrDefault(phase, Map.of()).getOrDefault(consumer, Set.of());
    }

    private static List<Integer> range(int from, int to) {
        return IntStream.range(from, to).boxed().toList();
    }

    private static String resource(String name) throws IOException {
        try (InputStream in = GroupScenariosIT.class.getResourceAsStream(name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
