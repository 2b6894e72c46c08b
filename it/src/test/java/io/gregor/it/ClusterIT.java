package io.gregor.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gregor.testkit.Await;
import io.gregor.testkit.GregorCluster;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.errors.InvalidReplicationFactorException;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Three in-process nodes, each a voter of the metadata quorum (Kafka's combined mode), with the Java clients: one
 * cluster id, every node in Metadata, partitions spread over the nodes, requests that change metadata accepted by
 * any node, and a new active controller when the old one stops.
 */
@Timeout(240)
class ClusterIT {

    private static Admin adminOf(GregorCluster cluster, int node) {
        return Admin.create(Map.of("bootstrap.servers", cluster.broker(node).bootstrapServers()));
    }

    @Test
    void threeNodesFormOneClusterAndServeClientsOnEveryNode() throws Exception {
        try (GregorCluster cluster = GregorCluster.nodes(3).start()) {
            // Every node tells the same story: three brokers, one controller, one cluster id.
            Set<String> clusterIds = new HashSet<>();
            Set<Integer> controllers = new HashSet<>();
            for (int id = 1; id <= 3; id++) {
                try (Admin admin = adminOf(cluster, id)) {
                    DescribeClusterResult described = admin.describeCluster();
                    clusterIds.add(described.clusterId().get());
                    controllers.add(described.controller().get().id());
                    assertThat(described.nodes().get()).extracting(Node::id).containsExactlyInAnyOrder(1, 2, 3);
                }
            }
            assertThat(clusterIds).hasSize(1).doesNotContainNull();
            assertThat(controllers).hasSize(1).containsExactly(cluster.broker(1).activeControllerId());

            // Partitions spread over the nodes: 6 partitions, two led by each.
            cluster.createTopic("spread", 6);
            Map<Integer, Integer> ledBy = new HashMap<>();
            TopicDescription spread = cluster.admin().describeTopics(List.of("spread")).allTopicNames().get().get("spread");
            for (TopicPartitionInfo p : spread.partitions()) {
                assertThat(p.replicas()).hasSize(1).containsExactly(p.leader());
                ledBy.merge(p.leader().id(), 1, Integer::sum);
            }
            assertThat(ledBy).containsOnlyKeys(1, 2, 3).containsValues(2, 2, 2);

            // A producer writes to every partition (that is, to every node); a group consumer reads it all back.
            int count = 600;
            Set<Integer> partitionsWritten = new HashSet<>();
            try (KafkaProducer<String, String> producer = cluster.producer("acks", "all")) {
                List<Future<RecordMetadata>> sent = new ArrayList<>();
                for (int i = 0; i < count; i++) {
                    sent.add(producer.send(new ProducerRecord<>("spread", "k" + i, "v" + i)));
                }
                for (Future<RecordMetadata> f : sent) {
                    partitionsWritten.add(f.get().partition());
                }
            }
            assertThat(partitionsWritten).hasSize(6);
            Set<String> values = new HashSet<>();
            try (KafkaConsumer<String, String> consumer = cluster.consumer("group.id", "spread-readers",
                    "auto.offset.reset", "earliest")) {
                consumer.subscribe(List.of("spread"));
                Await.until(count + " records consumed", Duration.ofSeconds(60), () -> {
                    for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                        values.add(r.value());
                    }
                    return values.size() >= count;
                });
                consumer.commitSync();
            }
            assertThat(values).hasSize(count).contains("v0", "v599");

            // A node that is not the controller creates an unknown topic on request (auto-creation), and hands out
            // producer ids (an idempotent producer), both through the active controller.
            int follower = controllers.iterator().next() == 1 ? 2 : 1;
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of("bootstrap.servers",
                    cluster.broker(follower).bootstrapServers(), "enable.idempotence", "true", "acks", "all"),
                    new StringSerializer(), new StringSerializer())) {
                RecordMetadata written = producer.send(new ProducerRecord<>("auto-created", "k", "v")).get();
                assertThat(written.offset()).isZero();
            }
            try (Admin admin = adminOf(cluster, follower)) {
                admin.createTopics(List.of(new NewTopic("via-follower", 3, (short) 1))).all().get();
                assertThat(admin.describeTopics(List.of("via-follower")).allTopicNames().get().get("via-follower")
                        .partitions()).hasSize(3);
                // More replicas than nodes: Kafka's error.
                assertThatThrownBy(() -> admin.createTopics(List.of(new NewTopic("too-many", 1, (short) 4))).all().get())
                        .isInstanceOf(ExecutionException.class).cause().isInstanceOf(InvalidReplicationFactorException.class);
            }
        }
    }

    @Test
    void anotherNodeTakesOverAsControllerWhenTheControllerStops() throws Exception {
        try (GregorCluster cluster = GregorCluster.nodes(3).start()) {
            cluster.createTopic("before", 3);
            int first = cluster.broker(1).activeControllerId();
            assertThat(first).isBetween(1, 3);
            cluster.stop(first);
            int survivor = first == 1 ? 2 : 1;
            Await.until("a new active controller", Duration.ofSeconds(30), () -> {
                int now = cluster.broker(survivor).activeControllerId();
                return now > 0 && now != first;
            });
            int second = cluster.broker(survivor).activeControllerId();
            try (Admin admin = adminOf(cluster, survivor)) {
                Await.until("the new controller in DescribeCluster", Duration.ofSeconds(30),
                        () -> admin.describeCluster().controller().get().id() == second);
                admin.createTopics(List.of(new NewTopic("after", 2, (short) 1))).all().get();
                // CreateTopics answers once the controller committed it; the node that serves the listing may apply
                // the entry a moment later (as in Kafka).
                Await.until("every node lists the new topic", Duration.ofSeconds(10),
                        () -> admin.listTopics().names().get().contains("after"));
                assertThat(admin.listTopics().names().get()).contains("before", "after");
            }
            // The stopped node comes back, registers again and sees everything created meanwhile.
            cluster.start(first);
            Await.until("the restarted node knows the new topic", Duration.ofSeconds(30),
                    () -> cluster.broker(first).metadata().image().topic("after") != null);
            assertThat(cluster.broker(first).activeControllerId()).isEqualTo(second);
        }
    }

    @Test
    void aSilentNodeIsFencedAndLeadsAgainWhenItIsBack() throws Exception {
        try (GregorCluster cluster = GregorCluster.nodes(3).with("broker.session.timeout.ms", "1500")
                .with("broker.heartbeat.interval.ms", "300").start()) {
            cluster.createTopic("fenced", 3);
            Map<Integer, Integer> leaderOf = leaders(cluster.admin(), "fenced");
            assertThat(leaderOf.values()).containsExactlyInAnyOrder(1, 2, 3);
            int controller = cluster.broker(1).activeControllerId();
            int silent = controller == 3 ? 2 : 3;
            int partitionOfSilent = leaderOf.entrySet().stream().filter(e -> e.getValue() == silent).findFirst()
                    .orElseThrow().getKey();
            try (KafkaProducer<String, String> producer = cluster.producer("acks", "all")) {
                for (int p = 0; p < 3; p++) {
                    producer.send(new ProducerRecord<>("fenced", p, "k", "before-" + p)).get();
                }
            }
            cluster.halt(silent);
            try (Admin admin = adminOf(cluster, controller)) {
                Await.until("node " + silent + " fenced", Duration.ofSeconds(20),
                        () -> admin.describeCluster().nodes().get().stream().noneMatch(n -> n.id() == silent));
                Await.until("its partition without a leader", Duration.ofSeconds(10),
                        () -> !leaders(admin, "fenced").containsKey(partitionOfSilent));
            }
            // gregor cluster status names the fenced node and the partition without a leader.
            String status = clusterStatus(cluster.broker(controller).bootstrapServers());
            assertThat(status).contains("\"id\":" + silent + ",\"host\"")
                    .contains("\"state\":\"fenced\"")
                    .contains("\"offline\":[{\"topic\":\"fenced\",\"partition\":" + partitionOfSilent + ",");
            // The partitions of the live nodes go on.
            try (KafkaProducer<String, String> producer = cluster.producer("acks", "all", "delivery.timeout.ms", "20000",
                    "request.timeout.ms", "10000")) {
                for (int p = 0; p < 3; p++) {
                    if (p != partitionOfSilent) {
                        producer.send(new ProducerRecord<>("fenced", p, "k", "during-" + p)).get();
                    }
                }
            }
            cluster.start(silent);
            try (Admin admin = adminOf(cluster, controller)) {
                Await.until("node " + silent + " leads its partition again", Duration.ofSeconds(20),
                        () -> Integer.valueOf(silent).equals(leaders(admin, "fenced").get(partitionOfSilent)));
            }
            List<String> read = new ArrayList<>();
            try (KafkaConsumer<String, String> consumer = cluster.consumer()) {
                List<org.apache.kafka.common.TopicPartition> all = List.of(new org.apache.kafka.common.TopicPartition("fenced", 0),
                        new org.apache.kafka.common.TopicPartition("fenced", 1), new org.apache.kafka.common.TopicPartition("fenced", 2));
                consumer.assign(all);
                consumer.seekToBeginning(all);
                Await.until("5 records read back", Duration.ofSeconds(30), () -> {
                    consumer.poll(Duration.ofMillis(200)).forEach(r -> read.add(r.value()));
                    return read.size() >= 5;
                });
            }
            assertThat(read).hasSize(5).contains("before-" + partitionOfSilent).doesNotContain("during-" + partitionOfSilent);
        }
    }

    @Test
    void aNodeThatShutsDownLeavesAtOnce() throws Exception {
        // The default session timeout (9 s) would take longer than the wait below: the controlled shutdown fences it.
        try (GregorCluster cluster = GregorCluster.nodes(3).start()) {
            int controller = cluster.broker(1).activeControllerId();
            int leaving = controller == 1 ? 2 : 1;
            long startNs = System.nanoTime();
            cluster.stop(leaving);
            try (Admin admin = adminOf(cluster, controller)) {
                Await.until("node " + leaving + " gone from DescribeCluster", Duration.ofSeconds(5),
                        () -> admin.describeCluster().nodes().get().stream().noneMatch(n -> n.id() == leaving));
            }
            assertThat(Duration.ofNanos(System.nanoTime() - startNs)).isLessThan(Duration.ofSeconds(9));
        }
    }

    @Test
    void replicatedPartitionsLoseNothingAcknowledgedWhenTheirLeaderDies() throws Exception {
        try (GregorCluster cluster = GregorCluster.nodes(3).with("broker.session.timeout.ms", "1500")
                .with("broker.heartbeat.interval.ms", "300").with("replica.lag.time.max.ms", "3000").start()) {
            cluster.admin().createTopics(List.of(new NewTopic("replicated", 2, (short) 3)
                    .configs(Map.of("min.insync.replicas", "2")))).all().get();
            TopicDescription described = cluster.admin().describeTopics(List.of("replicated")).allTopicNames().get()
                    .get("replicated");
            for (TopicPartitionInfo p : described.partitions()) {
                assertThat(p.replicas()).extracting(Node::id).containsExactlyInAnyOrder(1, 2, 3);
                assertThat(p.isr()).hasSize(3);
            }
            List<String> acknowledged = new ArrayList<>();
            try (KafkaProducer<String, String> producer = cluster.producer("acks", "all")) {
                for (int i = 0; i < 200; i++) {
                    producer.send(new ProducerRecord<>("replicated", i % 2, "k" + i, "first-" + i)).get();
                    acknowledged.add("first-" + i);
                }
            }
            // Every replica holds every acknowledged record.
            for (int id = 1; id <= 3; id++) {
                int node = id;
                Await.until("node " + id + " has both partitions' records", Duration.ofSeconds(30), () ->
                        cluster.broker(node).partitions().partition("replicated", 0).logEndOffset() == 100
                                && cluster.broker(node).partitions().partition("replicated", 1).logEndOffset() == 100);
            }
            int leader = leaders(cluster.admin(), "replicated").get(0);
            // The followers copy through incremental fetch sessions (KIP-227) with the leader.
            Await.until("both followers fetch in a session with node " + leader, Duration.ofSeconds(30), () ->
                    cluster.broker(leader).fetchSessions().followerSessions() == 2);
            cluster.halt(leader);
            int survivor = leader == 1 ? 2 : 1;
            try (Admin admin = adminOf(cluster, survivor)) {
                Await.until("a new leader for partition 0", Duration.ofSeconds(30), () -> {
                    Integer now = leaders(admin, "replicated").get(0);
                    return now != null && now != leader;
                });
            }
            try (KafkaProducer<String, String> producer = cluster.producer("acks", "all", "delivery.timeout.ms", "60000",
                    "request.timeout.ms", "10000")) {
                for (int i = 0; i < 100; i++) {
                    producer.send(new ProducerRecord<>("replicated", i % 2, "k" + i, "second-" + i)).get();
                    acknowledged.add("second-" + i);
                }
            }
            // The old leader comes back, truncates to what the new leader has, catches up and rejoins the ISR.
            cluster.start(leader);
            try (Admin admin = adminOf(cluster, survivor)) {
                Await.until("node " + leader + " back in every ISR", Duration.ofSeconds(60), () ->
                        admin.describeTopics(List.of("replicated")).allTopicNames().get().get("replicated").partitions()
                                .stream().allMatch(p -> p.isr().size() == 3));
            }
            List<String> read = new ArrayList<>();
            try (KafkaConsumer<String, String> consumer = cluster.consumer()) {
                List<org.apache.kafka.common.TopicPartition> both = List.of(
                        new org.apache.kafka.common.TopicPartition("replicated", 0),
                        new org.apache.kafka.common.TopicPartition("replicated", 1));
                consumer.assign(both);
                consumer.seekToBeginning(both);
                Await.until("300 records read back", Duration.ofSeconds(30), () -> {
                    consumer.poll(Duration.ofMillis(200)).forEach(r -> read.add(r.value()));
                    return read.size() >= 300;
                });
            }
            assertThat(read).hasSize(300).containsExactlyInAnyOrderElementsOf(acknowledged);
            assertThat(cluster.broker(leader).partitions().partition("replicated", 0).logEndOffset()).isEqualTo(150);
        }
    }

    @Test
    void anOfflinePartitionGetsAnUncleanLeaderOnlyWhenItsTopicAllowsIt() throws Exception {
        // A session long enough that a loaded machine does not fence a live node by mistake (that node would leave
        // the ISR first and the partition would stay with the other); halted nodes get the 3 s short grace anyway.
        try (GregorCluster cluster = GregorCluster.nodes(3).with("broker.session.timeout.ms", "6000")
                .with("broker.heartbeat.interval.ms", "500").start()) {
            // Replicas on a voter that is not the controller and on a broker-only node: both can stop while the
            // metadata quorum keeps a majority.
            int four = cluster.addBrokerNode();
            int controller = cluster.broker(1).activeControllerId();
            int voter = controller == 3 ? 2 : 3;
            cluster.admin().createTopics(List.of(new NewTopic("unclean", Map.of(0, List.of(voter, four)))
                    .configs(Map.of("min.insync.replicas", "1")))).all().get();
            Admin admin = adminOf(cluster, controller);
            try (admin; KafkaProducer<String, String> producer = cluster.producer("acks", "all", "delivery.timeout.ms",
                    "20000", "request.timeout.ms", "10000")) {
                for (int i = 0; i < 10; i++) {
                    producer.send(new ProducerRecord<>("unclean", 0, "k", "kept-" + i)).get();
                }
                Await.until("both replicas in sync", Duration.ofSeconds(30), () -> isr(admin, "unclean").size() == 2);
                cluster.halt(four);
                Await.until("node " + four + " out of the ISR", Duration.ofSeconds(20),
                        () -> isr(admin, "unclean").equals(List.of(voter)));
                // Acknowledged by the one ISR member: an unclean election to node 4 loses these.
                for (int i = 0; i < 5; i++) {
                    producer.send(new ProducerRecord<>("unclean", 0, "k", "lost-" + i)).get();
                }
            }
            try (Admin admin2 = adminOf(cluster, controller)) {
                cluster.halt(voter);
                Await.until("the partition offline", Duration.ofSeconds(20), () -> leaders(admin2, "unclean").isEmpty());
                // Node 4 comes back outside the ISR: with unclean elections off (the default) it does not lead.
                cluster.start(four);
                Await.until("node 4 unfenced", Duration.ofSeconds(20), () -> admin2.describeCluster().nodes().get()
                        .stream().anyMatch(n -> n.id() == four));
                assertThat(leaders(admin2, "unclean")).isEmpty();
                assertThat(isr(admin2, "unclean")).containsExactly(voter);

                // Turned on for the topic: node 4 leads at once, with only what it has.
                admin2.incrementalAlterConfigs(Map.of(new org.apache.kafka.common.config.ConfigResource(
                        org.apache.kafka.common.config.ConfigResource.Type.TOPIC, "unclean"), List.of(
                        new org.apache.kafka.clients.admin.AlterConfigOp(new org.apache.kafka.clients.admin.ConfigEntry(
                                "unclean.leader.election.enable", "true"),
                                org.apache.kafka.clients.admin.AlterConfigOp.OpType.SET)))).all().get();
                Await.until("node 4 leads from outside the ISR", Duration.ofSeconds(20),
                        () -> Integer.valueOf(four).equals(leaders(admin2, "unclean").get(0)));
                assertThat(isr(admin2, "unclean")).containsExactly(four);
            }
            List<String> read = new ArrayList<>();
            try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(Map.of("bootstrap.servers",
                    cluster.broker(four).bootstrapServers()), new org.apache.kafka.common.serialization.StringDeserializer(),
                    new org.apache.kafka.common.serialization.StringDeserializer())) {
                var tp = new org.apache.kafka.common.TopicPartition("unclean", 0);
                consumer.assign(List.of(tp));
                consumer.seekToBeginning(List.of(tp));
                Await.until("10 records read", Duration.ofSeconds(30), () -> {
                    consumer.poll(Duration.ofMillis(200)).forEach(r -> read.add(r.value()));
                    return read.size() >= 10;
                });
                assertThat(consumer.endOffsets(List.of(tp)).get(tp)).isEqualTo(10);
            }
            assertThat(read).hasSize(10).allMatch(v -> v.startsWith("kept-"));

            // The old ISR member comes back: it truncates what only it had and follows node 4.
            cluster.start(voter);
            try (Admin admin3 = adminOf(cluster, controller)) {
                Await.until("node " + voter + " back in the ISR", Duration.ofSeconds(60),
                        () -> isr(admin3, "unclean").size() == 2);
            }
            assertThat(cluster.broker(voter).partitions().partition("unclean", 0).logEndOffset()).isEqualTo(10);
        }
    }

    private static List<Integer> isr(Admin admin, String topic) {
        try {
            return admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions().get(0).isr()
                    .stream().map(Node::id).toList();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        }
    }

    /** {@code gregor cluster status --output json} against {@code bootstrap}. */
    private static String clusterStatus(String bootstrap) {
        var cli = io.gregor.cli.GregorCli.commandLine();
        java.io.StringWriter out = new java.io.StringWriter();
        cli.setOut(new java.io.PrintWriter(out, true));
        assertThat(cli.execute("cluster", "status", "-b", bootstrap, "--output", "json")).isZero();
        return out.toString();
    }

    /** Partition index to leader id, for the partitions that have a leader. */
    private static Map<Integer, Integer> leaders(Admin admin, String topic) {
        try {
            Map<Integer, Integer> result = new HashMap<>();
            for (TopicPartitionInfo p : admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions()) {
                if (p.leader() != null) {
                    result.put(p.partition(), p.leader().id());
                }
            }
            return result;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        }
    }
}
