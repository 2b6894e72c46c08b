package io.gregor.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.gregor.testkit.Await;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A network partition between the nodes of a three-node cluster of `gregor start --config` processes, each in its own
 * network namespace (veth pairs on two bridges: one for the nodes, one for the clients). The node that leads a
 * partition and is the active controller is cut off from the other two while an acks=all producer writes: it stops
 * acknowledging (a producer that can only reach it gets nothing acknowledged), the majority elects a new controller
 * and a new leader, the producer goes on there, and once the network heals the old leader truncates what only it had
 * and catches up. Nothing acknowledged is lost: every acknowledged record is read back at its offset. Needs root
 * (`ip netns`); skipped with the reason otherwise.
 */
@Timeout(300)
class NetworkPartitionIT {
    private static final String TOPIC = "partitioned";
    private static final int CLIENT_PORT = 9092;
    private static final int INTERNAL_PORT = 9093;
    private static final int CONTROLLER_PORT = 9094;

    @TempDir
    Path dir;

    @BeforeAll
    static void needsNamespaces() {
        String reason = NetworkNamespaces.unavailableReason();
        Assumptions.assumeTrue(reason == null, () -> "NetworkPartitionIT skipped: " + reason);
    }

    @Test
    void aLeaderCutOffFromTheOtherNodesStopsAcknowledgingAndLosesNothingAcknowledged() throws Exception {
        try (NetworkNamespaces net = NetworkNamespaces.create(3)) {
            List<String> voters = new ArrayList<>();
            for (int id = 1; id <= 3; id++) {
                voters.add(id + "@" + net.nodeAddress(id) + ":" + CONTROLLER_PORT);
            }
            Map<Integer, GregorProcess> nodes = new ConcurrentHashMap<>();
            try {
                for (int id = 1; id <= 3; id++) {
                    Path config = dir.resolve("n" + id + ".properties");
                    KraftNodeConfig.write(config, id, String.join(",", voters),
                            "CLIENT://" + net.clientAddress(id) + ":" + CLIENT_PORT + ",INTERNAL://" + net.nodeAddress(id)
                                    + ":" + INTERNAL_PORT + ",CONTROLLER://" + net.nodeAddress(id) + ":" + CONTROLLER_PORT,
                            "CLIENT://" + net.clientAddress(id) + ":" + CLIENT_PORT + ",INTERNAL://" + net.nodeAddress(id)
                                    + ":" + INTERNAL_PORT,
                            "CLIENT:PLAINTEXT,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT", "INTERNAL", dir.resolve("n" + id),
                            "replica.lag.time.max.ms=4000");
                    nodes.put(id, GregorProcess.startInNamespace(net, id, config, dir.resolve("n" + id),
                            net.clientAddress(id), CLIENT_PORT));
                }
                String all = String.join(",", List.of(nodes.get(1).bootstrap(), nodes.get(2).bootstrap(),
                        nodes.get(3).bootstrap()));
                int isolated;
                try (Admin admin = Admin.create(Map.of("bootstrap.servers", all))) {
                    Await.until("three nodes in the cluster", Duration.ofSeconds(90),
                            () -> admin.describeCluster().nodes().get().size() == 3);
                    // The active controller is also the partition's leader: both fail over at once.
                    isolated = admin.describeCluster().controller().get().id();
                    List<Integer> replicas = new ArrayList<>(List.of(isolated));
                    for (int id = 1; id <= 3; id++) {
                        if (id != isolated) {
                            replicas.add(id);
                        }
                    }
                    admin.createTopics(List.of(new NewTopic(TOPIC, Map.of(0, replicas)))).all().get();
                    Await.until("the partition led by node " + isolated, Duration.ofSeconds(30),
                            () -> leaderOf(admin) == isolated);
                }
                int cutNode = isolated;
                String majority = String.join(",", nodes.entrySet().stream().filter(e -> e.getKey() != cutNode)
                        .map(e -> e.getValue().bootstrap()).toList());

                Map<String, Long> acknowledged = new ConcurrentHashMap<>();
                AtomicInteger failed = new AtomicInteger();
                AtomicBoolean producing = new AtomicBoolean(true);
                Thread producerThread = Thread.ofPlatform().start(() -> produce(all, producing, acknowledged, failed));
                try {
                    Await.until("300 acknowledged records", Duration.ofSeconds(60), () -> acknowledged.size() >= 300);

                    // Only a cut with every replica in the ISR tests failover: with an ISR of the leader alone
                    // (followers slow to start on a busy machine), no one may take over, and rightly so.
                    try (Admin admin = Admin.create(Map.of("bootstrap.servers", all))) {
                        Await.until("every replica in the ISR before the cut", Duration.ofSeconds(60),
                                () -> describe(admin).partitions().get(0).isr().size() == 3);
                    }
                    net.cut(isolated);
                    // An acks=all produce sent to the isolated leader itself is never acknowledged: its followers
                    // cannot fetch, and it cannot shrink the ISR without the controller. (A client library would
                    // retry elsewhere: the client network is not cut, so it would rightly reach the new leader.)
                    assertThat(produceDirectly(nodes.get(isolated), "lonely")).as("acks=all on the isolated leader")
                            .isNotEqualTo(Errors.NONE);
                    try (Admin admin = Admin.create(Map.of("bootstrap.servers", majority))) {
                        // Asked of a majority node itself (an Admin client may ask the isolated node, whose
                        // metadata is stale while it is cut off, as a Kafka broker's would be).
                        Await.until("a new leader on the majority side", Duration.ofSeconds(60), () -> {
                            int leader = leaderAccordingTo(nodes.get(cutNode == 1 ? 2 : 1));
                            return leader > 0 && leader != cutNode;
                        });
                        int before = acknowledged.size();
                        Await.until("acknowledgements from the new leader", Duration.ofSeconds(60),
                                () -> acknowledged.size() >= before + 300);
                    }

                    net.heal(isolated);
                    try (Admin admin = Admin.create(Map.of("bootstrap.servers", majority))) {
                        Await.until("node " + isolated + " back in the ISR", Duration.ofSeconds(90), () -> describe(admin)
                                .partitions().get(0).isr().size() == 3);
                    }
                    int before = acknowledged.size();
                    Await.until("acknowledgements after the heal", Duration.ofSeconds(60),
                            () -> acknowledged.size() >= before + 100);
                } finally {
                    producing.set(false);
                    producerThread.join(60_000);
                }
                // Every acknowledged record at its offset: from the new leader, and from the node that was cut off
                // once it leads again (it is the preferred replica), so from its own, truncated and refilled, log.
                assertThat(acknowledged.size()).isGreaterThan(700);
                assertEveryAcknowledgedRecordIsThere(all, acknowledged, "the new leader");
                try (Admin admin = Admin.create(Map.of("bootstrap.servers", all))) {
                    Await.until("node " + isolated + " leads again", Duration.ofSeconds(30), () -> {
                        admin.electLeaders(org.apache.kafka.common.ElectionType.PREFERRED,
                                java.util.Set.of(new TopicPartition(TOPIC, 0))).partitions().get();
                        return leaderOf(admin) == cutNode;
                    });
                }
                assertEveryAcknowledgedRecordIsThere(all, acknowledged, "node " + isolated);
                System.out.println("NetworkPartitionIT: " + acknowledged.size() + " acknowledged, " + failed.get()
                        + " failed sends (never acknowledged)");
                // For the record: what the node that was cut off logged about it.
                Files.readAllLines(dir.resolve("n" + isolated + "-broker.log")).stream()
                        .filter(l -> l.contains("truncat") || l.contains("Fenced") || l.contains("leader is now"))
                        .forEach(l -> System.out.println("  node " + cutNode + ": " + l));
            } catch (AssertionError | Exception e) {
                for (int id = 1; id <= 3; id++) {
                    java.nio.file.Path logFile = dir.resolve("n" + id + "-broker.log");
                    if (Files.exists(logFile)) {
                        List<String> lines = Files.readAllLines(logFile);
                        System.out.println("---- node " + id + " log, last 80 lines ----");
                        lines.subList(Math.max(0, lines.size() - 80), lines.size()).forEach(System.out::println);
                    }
                }
                throw e;
            } finally {
                for (GregorProcess p : nodes.values()) {
                    p.kill9();
                }
            }
        }
    }

    /** acks=all, one record at a time in flight order, until {@code producing} goes false. */
    private static void produce(String bootstrap, AtomicBoolean producing, Map<String, Long> acknowledged,
                                AtomicInteger failed) {
        try (KafkaProducer<String, String> producer = producer(bootstrap, "120000")) {
            int i = 0;
            while (producing.get()) {
                String value = "v" + i++;
                producer.send(new ProducerRecord<>(TOPIC, 0, "k", value), (metadata, error) -> {
                    if (error == null) {
                        acknowledged.put(value, metadata.offset());
                    } else {
                        failed.incrementAndGet();
                    }
                });
                Thread.sleep(5);
            }
            producer.flush();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static KafkaProducer<String, String> producer(String bootstrap, String deliveryTimeoutMs) {
        return new KafkaProducer<>(Map.of("bootstrap.servers", bootstrap, "acks", "all",
                "delivery.timeout.ms", deliveryTimeoutMs, "request.timeout.ms", "5000", "linger.ms", "5",
                "max.block.ms", "30000"), new StringSerializer(), new StringSerializer());
    }

    private static void assertEveryAcknowledgedRecordIsThere(String bootstrap, Map<String, Long> acknowledged, String from) {
        Map<String, Long> read = readAll(bootstrap, acknowledged.size());
        assertThat(read).as("the record sent only to the isolated leader, read from %s", from).doesNotContainKey("lonely");
        for (Map.Entry<String, Long> a : acknowledged.entrySet()) {
            assertThat(read.get(a.getKey())).as("offset of acknowledged %s read from %s", a.getKey(), from)
                    .isEqualTo(a.getValue());
        }
    }

    /** Value to offset of every record of the partition (read from its leader). */
    private static Map<String, Long> readAll(String bootstrap, int atLeast) {
        Map<String, Long> read = new ConcurrentHashMap<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(Map.of("bootstrap.servers", bootstrap),
                new StringDeserializer(), new StringDeserializer())) {
            TopicPartition tp = new TopicPartition(TOPIC, 0);
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            Await.until(atLeast + " records read from " + bootstrap, Duration.ofSeconds(60), () -> {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    read.put(r.value(), r.offset());
                }
                return read.size() >= atLeast;
            });
        }
        return read;
    }

    /** The leader of partition 0 in the Metadata answer of {@code node} itself (a raw Metadata v12 request). */
    /** One acks=all Produce (v9, 3 s timeout) of {@code value} to partition 0, sent to {@code node} only; its error. */
    private static Errors produceDirectly(GregorProcess node, String value) throws Exception {
        String[] hostPort = node.bootstrap().split(":");
        var records = org.apache.kafka.common.record.MemoryRecords.withRecords(
                org.apache.kafka.common.compress.Compression.NONE,
                new org.apache.kafka.common.record.SimpleRecord("k".getBytes(), value.getBytes()));
        var request = new org.apache.kafka.common.message.ProduceRequestData().setAcks((short) -1).setTimeoutMs(3000);
        request.topicData().add(new org.apache.kafka.common.message.ProduceRequestData.TopicProduceData().setName(TOPIC)
                .setPartitionData(List.of(new org.apache.kafka.common.message.ProduceRequestData.PartitionProduceData()
                        .setIndex(0).setRecords(records))));
        try (RawKafkaClient client = new RawKafkaClient(new java.net.InetSocketAddress(hostPort[0],
                Integer.parseInt(hostPort[1])), Duration.ofSeconds(30))) {
            int id = client.write(request, (short) 9, (short) 9);
            var response = (org.apache.kafka.common.message.ProduceResponseData) client.receive(ApiKeys.PRODUCE, (short) 9, id);
            return Errors.forCode(response.responses().iterator().next().partitionResponses().get(0).errorCode());
        }
    }

    private static int leaderAccordingTo(GregorProcess node) throws Exception {
        String[] hostPort = node.bootstrap().split(":");
        org.apache.kafka.common.message.MetadataRequestData request = new org.apache.kafka.common.message.MetadataRequestData();
        request.topics().add(new org.apache.kafka.common.message.MetadataRequestData.MetadataRequestTopic().setName(TOPIC));
        org.apache.kafka.common.message.MetadataResponseData response = RawKafkaClient.sendOnce(
                new java.net.InetSocketAddress(hostPort[0], Integer.parseInt(hostPort[1])), request, (short) 12);
        var topic = response.topics().find(TOPIC);
        return topic == null || topic.partitions().isEmpty() ? -1 : topic.partitions().get(0).leaderId();
    }

    private static TopicDescription describe(Admin admin) throws Exception {
        return admin.describeTopics(List.of(TOPIC)).allTopicNames().get().get(TOPIC);
    }

    private static int leaderOf(Admin admin) throws Exception {
        TopicPartitionInfo p = describe(admin).partitions().get(0);
        return p.leader() == null ? -1 : p.leader().id();
    }
}
