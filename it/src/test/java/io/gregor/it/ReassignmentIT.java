package io.gregor.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.gregor.testkit.Await;
import io.gregor.testkit.GregorCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewPartitionReassignment;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.PartitionReassignment;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.ElectionType;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.errors.ElectionNotNeededException;
import org.apache.kafka.common.errors.NoReassignmentInProgressException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Moving replicas and leaders in a three-node cluster with Kafka's own tools (kafka-reassign-partitions.sh and
 * kafka-leader-election.sh of kafka-tools 4.2, each in its own JVM) and the Admin client: a partition moves to other
 * nodes while a producer writes, with every record on the new replicas and the old copy deleted; a reassignment to a
 * node that is down waits and can be cancelled; leadership goes back to the preferred replica on demand and, with
 * auto.leader.rebalance.enable, by itself.
 */
@Timeout(240)
class ReassignmentIT {
    private static final String REASSIGN = "org.apache.kafka.tools.reassign.ReassignPartitionsCommand";
    private static final String ELECT = "org.apache.kafka.tools.LeaderElectionCommand";

    @TempDir
    Path dir;

    @Test
    void kafkaReassignPartitionsMovesAPartitionWhileAProducerWrites() throws Exception {
        try (GregorCluster cluster = GregorCluster.nodes(3).start()) {
            cluster.admin().createTopics(List.of(new NewTopic("moved", Map.of(0, List.of(1, 2)))
                    .configs(Map.of("min.insync.replicas", "1")))).all().get();
            List<String> sent = new ArrayList<>();
            try (KafkaProducer<String, String> producer = cluster.producer("acks", "all")) {
                for (int i = 0; i < 500; i++) {
                    producer.send(new ProducerRecord<>("moved", 0, "k" + i, "before-" + i));
                    sent.add("before-" + i);
                }
                producer.flush();

                Path plan = dir.resolve("plan.json");
                Files.writeString(plan, "{\"version\":1,\"partitions\":[{\"topic\":\"moved\",\"partition\":0,"
                        + "\"replicas\":[3,2],\"log_dirs\":[\"any\",\"any\"]}]}");
                Subprocess.Result executed = Subprocess.kafkaTool(REASSIGN, null, "--bootstrap-server",
                        cluster.bootstrapServers(), "--reassignment-json-file", plan.toString(), "--execute").assertOk();
                assertThat(executed.stdout()).contains("Successfully started partition reassignment for moved-0");

                // Records written while the reassignment runs are there afterwards too.
                for (int i = 0; i < 500; i++) {
                    producer.send(new ProducerRecord<>("moved", 0, "k" + i, "during-" + i));
                    sent.add("during-" + i);
                }
                producer.flush();
                Await.until("kafka-reassign-partitions.sh --verify says it is complete", Duration.ofSeconds(60), () ->
                        Subprocess.kafkaTool(REASSIGN, null, "--bootstrap-server", cluster.bootstrapServers(),
                                "--reassignment-json-file", plan.toString(), "--verify").stdout()
                                .contains("Reassignment of partition moved-0 is completed"));
            }
            TopicPartitionInfo after = describe(cluster.admin(), "moved").partitions().get(0);
            assertThat(after.replicas()).extracting(Node::id).containsExactly(3, 2);
            assertThat(after.isr()).extracting(Node::id).containsExactlyInAnyOrder(3, 2);
            assertThat(after.leader().id()).isIn(2, 3);
            assertThat(cluster.admin().listPartitionReassignments().reassignments().get()).isEmpty();
            Await.until("node 1 deleted its copy", Duration.ofSeconds(10),
                    () -> cluster.broker(1).partitions().partition("moved", 0) == null);
            Await.until("node 3 holds all 1000 records", Duration.ofSeconds(30),
                    () -> cluster.broker(3).partitions().partition("moved", 0).logEndOffset() == 1000);

            // Node 2 stops: node 3 alone serves every record, at the offsets they were written at.
            cluster.stop(2);
            List<String> read = readAll(cluster, new TopicPartition("moved", 0), 1000);
            assertThat(read).containsExactlyElementsOf(sent);
        }
    }

    @Test
    void aThrottledReassignmentCopiesGraduallyAndVerifyClearsTheThrottles() throws Exception {
        try (GregorCluster cluster = GregorCluster.nodes(3).start()) {
            cluster.admin().createTopics(List.of(new NewTopic("throttled", Map.of(0, List.of(1))))).all().get();
            String value = "x".repeat(10_000);
            try (KafkaProducer<String, String> producer = cluster.producer("acks", "all", "batch.size", "16384")) {
                for (int i = 0; i < 300; i++) {
                    producer.send(new ProducerRecord<>("throttled", 0, "k" + i, value));
                }
                producer.flush();
            }
            long end = cluster.broker(1).partitions().partition("throttled", 0).logEndOffset();
            assertThat(end).isEqualTo(300);
            Path plan = dir.resolve("throttled.json");
            Files.writeString(plan, "{\"version\":1,\"partitions\":[{\"topic\":\"throttled\",\"partition\":0,"
                    + "\"replicas\":[1,2]}]}");
            // About 3 MB at 300 kB/s: about ten seconds of copying, in several steps.
            Subprocess.Result executed = Subprocess.kafkaTool(REASSIGN, null, "--bootstrap-server",
                    cluster.bootstrapServers(), "--reassignment-json-file", plan.toString(), "--execute",
                    "--throttle", "300000").assertOk();
            assertThat(executed.stdout()).contains("The inter-broker throttle limit was set to 300000 B/s");
            var described = cluster.admin().describeConfigs(List.of(new org.apache.kafka.common.config.ConfigResource(
                    org.apache.kafka.common.config.ConfigResource.Type.BROKER, "2"))).all().get().values().iterator().next();
            assertThat(described.get("follower.replication.throttled.rate").value()).isEqualTo("300000");
            assertThat(described.get("follower.replication.throttled.rate").source())
                    .isEqualTo(org.apache.kafka.clients.admin.ConfigEntry.ConfigSource.DYNAMIC_BROKER_CONFIG);

            Await.until("node 2 has some of the records", Duration.ofSeconds(30),
                    () -> cluster.broker(2).partitions().partition("throttled", 0) != null
                            && cluster.broker(2).partitions().partition("throttled", 0).logEndOffset() > 0);
            long first = cluster.broker(2).partitions().partition("throttled", 0).logEndOffset();
            assertThat(first).as("the first copy is only part of the log").isLessThan(end);
            Await.until("kafka-reassign-partitions.sh --verify says it is complete", Duration.ofSeconds(90), () ->
                    Subprocess.kafkaTool(REASSIGN, null, "--bootstrap-server", cluster.bootstrapServers(),
                            "--reassignment-json-file", plan.toString(), "--verify").stdout()
                            .contains("Reassignment of partition throttled-0 is completed"));
            assertThat(cluster.broker(2).partitions().partition("throttled", 0).logEndOffset()).isEqualTo(end);
            // --verify on a completed reassignment removes the throttles it set.
            Await.until("the throttle rates are gone", Duration.ofSeconds(10), () -> cluster.admin().describeConfigs(
                    List.of(new org.apache.kafka.common.config.ConfigResource(
                            org.apache.kafka.common.config.ConfigResource.Type.BROKER, "2"))).all().get().values()
                    .iterator().next().get("follower.replication.throttled.rate").source()
                    == org.apache.kafka.clients.admin.ConfigEntry.ConfigSource.DEFAULT_CONFIG);
            var topicConfig = cluster.admin().describeConfigs(List.of(new org.apache.kafka.common.config.ConfigResource(
                    org.apache.kafka.common.config.ConfigResource.Type.TOPIC, "throttled"))).all().get().values()
                    .iterator().next();
            assertThat(topicConfig.get("follower.replication.throttled.replicas").value()).isEmpty();
        }
    }

    @Test
    void aReassignmentWaitsForANodeThatIsDownAndCanBeCancelled() throws Exception {
        try (GregorCluster cluster = GregorCluster.nodes(3).with("broker.session.timeout.ms", "1500")
                .with("broker.heartbeat.interval.ms", "300").start()) {
            int controller = cluster.broker(1).activeControllerId();
            int down = controller == 3 ? 2 : 3;
            List<Integer> others = new ArrayList<>(List.of(1, 2, 3));
            others.remove(Integer.valueOf(down));
            int a = others.get(0);
            int b = others.get(1);
            cluster.admin().createTopics(List.of(new NewTopic("waiting", Map.of(0, List.of(a, b))))).all().get();
            try (KafkaProducer<String, String> producer = cluster.producer("acks", "all")) {
                for (int i = 0; i < 50; i++) {
                    producer.send(new ProducerRecord<>("waiting", 0, "k", "v" + i)).get();
                }
            }
            cluster.halt(down);
            TopicPartition tp = new TopicPartition("waiting", 0);
            Await.until("node " + down + " fenced", Duration.ofSeconds(20),
                    () -> cluster.admin().describeCluster().nodes().get().stream().noneMatch(n -> n.id() == down));
            cluster.admin().alterPartitionReassignments(Map.of(tp, Optional.of(new NewPartitionReassignment(List.of(b, down)))))
                    .all().get();
            Map<TopicPartition, PartitionReassignment> ongoing = cluster.admin().listPartitionReassignments().reassignments().get();
            assertThat(ongoing).containsOnlyKeys(tp);
            assertThat(ongoing.get(tp).replicas()).containsExactly(b, down, a);
            assertThat(ongoing.get(tp).addingReplicas()).containsExactly(down);
            assertThat(ongoing.get(tp).removingReplicas()).containsExactly(a);
            // Pending: the node that is down cannot catch up, so it is not in the ISR and the old replica stays.
            TopicPartitionInfo during = describe(cluster.admin(), "waiting").partitions().get(0);
            assertThat(during.isr()).extracting(Node::id).containsExactlyInAnyOrder(a, b);
            assertThat(cluster.broker(a).partitions().partition("waiting", 0)).isNotNull();

            cluster.admin().alterPartitionReassignments(Map.of(tp, Optional.empty())).all().get();
            assertThat(cluster.admin().listPartitionReassignments().reassignments().get()).isEmpty();
            // Back to the original replicas, in the order of the reassignment (as Kafka leaves them). The
            // controller answered after its commit; the node that answers Metadata may apply it a moment later.
            Await.until("the cancelled reassignment is visible in Metadata", Duration.ofSeconds(10), () ->
                    describe(cluster.admin(), "waiting").partitions().get(0).replicas().stream().map(Node::id).toList()
                            .equals(List.of(b, a)));
            TopicPartitionInfo cancelled = describe(cluster.admin(), "waiting").partitions().get(0);
            assertThat(cancelled.replicas()).extracting(Node::id).containsExactly(b, a);
            assertThat(cancelled.isr()).extracting(Node::id).containsExactlyInAnyOrder(a, b);
            var again = cluster.admin().alterPartitionReassignments(Map.of(tp, Optional.empty())).values().get(tp);
            org.assertj.core.api.Assertions.assertThatThrownBy(again::get)
                    .hasCauseInstanceOf(NoReassignmentInProgressException.class);
            List<String> read = readAll(cluster, tp, 50);
            assertThat(read).hasSize(50).startsWith("v0").endsWith("v49");
        }
    }

    @Test
    void kafkaLeaderElectionMovesLeadershipBackToThePreferredReplica() throws Exception {
        try (GregorCluster cluster = GregorCluster.nodes(3).with("auto.leader.rebalance.enable", "false").start()) {
            cluster.admin().createTopics(List.of(new NewTopic("preferred", 3, (short) 3))).all().get();
            Map<Integer, Integer> preferred = preferredLeaders(cluster.admin(), "preferred");
            assertThat(leaders(cluster.admin(), "preferred")).isEqualTo(preferred);
            int bounced = cluster.broker(1).activeControllerId() == 2 ? 3 : 2;
            cluster.stop(bounced);
            cluster.start(bounced);
            Await.until("node " + bounced + " back in every ISR", Duration.ofSeconds(60), () ->
                    describe(cluster.admin(), "preferred").partitions().stream().allMatch(p -> p.isr().size() == 3));
            assertThat(leaders(cluster.admin(), "preferred")).as("no automatic rebalance").doesNotContainValue(bounced);

            Subprocess.Result elected = Subprocess.kafkaTool(ELECT, null, "--bootstrap-server",
                    cluster.bootstrapServers(), "--election-type", "PREFERRED", "--all-topic-partitions").assertOk();
            assertThat(elected.stdout()).contains("Successfully completed leader election (PREFERRED) for partitions");
            Await.until("preferred leaders again", Duration.ofSeconds(10),
                    () -> leaders(cluster.admin(), "preferred").equals(preferred));
            // Nothing left to do: Admin.electLeaders for one partition says so.
            TopicPartition first = new TopicPartition("preferred", 0);
            var notNeeded = cluster.admin().electLeaders(ElectionType.PREFERRED, Set.of(first)).partitions().get().get(first);
            assertThat(notNeeded).containsInstanceOf(ElectionNotNeededException.class);

            // The records written before, during and after are all there.
            try (KafkaProducer<String, String> producer = cluster.producer("acks", "all")) {
                for (int i = 0; i < 30; i++) {
                    producer.send(new ProducerRecord<>("preferred", 0, "k", "v" + i)).get();
                }
            }
            assertThat(readAll(cluster, first, 30)).hasSize(30);
        }
    }

    @Test
    void leadershipGoesBackToThePreferredReplicaByItself() throws Exception {
        try (GregorCluster cluster = GregorCluster.nodes(3).with("leader.imbalance.check.interval.seconds", "1").start()) {
            cluster.admin().createTopics(List.of(new NewTopic("balanced", 3, (short) 3))).all().get();
            Map<Integer, Integer> preferred = preferredLeaders(cluster.admin(), "balanced");
            int bounced = cluster.broker(1).activeControllerId() == 2 ? 3 : 2;
            cluster.stop(bounced);
            Await.until("node " + bounced + " leads nothing", Duration.ofSeconds(20),
                    () -> !leaders(cluster.admin(), "balanced").containsValue(bounced));
            cluster.start(bounced);
            Await.until("every partition led by its preferred replica again", Duration.ofSeconds(60),
                    () -> leaders(cluster.admin(), "balanced").equals(preferred));
        }
    }

    private static TopicDescription describe(Admin admin, String topic) throws Exception {
        return admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic);
    }

    private static Map<Integer, Integer> leaders(Admin admin, String topic) throws Exception {
        Map<Integer, Integer> result = new HashMap<>();
        for (TopicPartitionInfo p : describe(admin, topic).partitions()) {
            if (p.leader() != null) {
                result.put(p.partition(), p.leader().id());
            }
        }
        return result;
    }

    private static Map<Integer, Integer> preferredLeaders(Admin admin, String topic) throws Exception {
        Map<Integer, Integer> result = new HashMap<>();
        for (TopicPartitionInfo p : describe(admin, topic).partitions()) {
            result.put(p.partition(), p.replicas().get(0).id());
        }
        return result;
    }

    private static List<String> readAll(GregorCluster cluster, TopicPartition tp, int expected) {
        List<String> read = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = cluster.consumer()) {
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            Await.until(expected + " records read back", Duration.ofSeconds(30), () -> {
                consumer.poll(Duration.ofMillis(200)).forEach(r -> read.add(r.value()));
                return read.size() >= expected;
            });
        }
        return read;
    }
}
