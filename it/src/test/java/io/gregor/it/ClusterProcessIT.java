package io.gregor.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.gregor.testkit.Await;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three `gregor start --config server.properties` processes, each with the file a Kafka 4.x KRaft combined-mode node
 * uses, replication factor 3 and min.insync.replicas 2. Kafka's own VerifiableProducer (kafka-tools 4.2, acks=all,
 * idempotent) writes while the leader of a partition is killed with kill -9 and comes back, and another node is
 * bounced with SIGTERM, and Kafka's VerifiableConsumer reads along in a consumer group: every record the producer saw
 * acknowledged is read back at the offset it was acknowledged at, by a plain consumer afterwards and by the group
 * consumer that lived through the faults.
 */
@Timeout(300)
class ClusterProcessIT {
    private static final String TOPIC = "verified";

    @TempDir
    Path dir;

    private record Node(int id, Path config, Path data, int port) {
    }

    @Test
    void acknowledgedRecordsSurviveAKilledLeaderAndABouncedNode() throws Exception {
        List<Node> nodes = new ArrayList<>();
        List<Integer> controllerPorts = List.of(GregorProcess.freePort(), GregorProcess.freePort(), GregorProcess.freePort());
        String voters = "1@127.0.0.1:" + controllerPorts.get(0) + ",2@127.0.0.1:" + controllerPorts.get(1)
                + ",3@127.0.0.1:" + controllerPorts.get(2);
        for (int id = 1; id <= 3; id++) {
            int port = GregorProcess.freePort();
            Path data = dir.resolve("n" + id);
            Path config = dir.resolve("n" + id + ".properties");
            Files.writeString(config, String.join("\n",
                    "process.roles=broker,controller",
                    "node.id=" + id,
                    "controller.quorum.voters=" + voters,
                    "listeners=PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPorts.get(id - 1),
                    "advertised.listeners=PLAINTEXT://127.0.0.1:" + port,
                    "controller.listener.names=CONTROLLER",
                    "inter.broker.listener.name=PLAINTEXT",
                    "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                    "log.dirs=" + data,
                    "default.replication.factor=3",
                    "min.insync.replicas=2",
                    "offsets.topic.replication.factor=3",
                    // Shorter than Kafka's 9 s so that the test waits less for the fencing of the killed node.
                    "broker.session.timeout.ms=3000",
                    "broker.heartbeat.interval.ms=500", ""), StandardCharsets.UTF_8);
            nodes.add(new Node(id, config, data, port));
        }
        Map<Integer, GregorProcess> running = new HashMap<>();
        List<Process> clients = new ArrayList<>();
        try {
            for (Node n : nodes) {
                running.put(n.id(), GregorProcess.startWithConfig(n.config(), n.data(), n.port()));
            }
            String bootstrap = String.join(",", nodes.stream().map(n -> "127.0.0.1:" + n.port()).toList());
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
                Await.until("three nodes in the cluster", Duration.ofSeconds(90),
                        () -> admin.describeCluster().nodes().get().size() == 3);
                admin.createTopics(List.of(new NewTopic(TOPIC, 3, (short) 3))).all().get();
            }

            // A VerifiableConsumer in a group reads along through every fault (its coordinator moves too).
            Process consumerProcess = new ProcessBuilder(GregorProcess.javaBinary(), "-cp",
                    System.getProperty("java.class.path"), "org.apache.kafka.tools.VerifiableConsumer",
                    "--bootstrap-server", bootstrap, "--topic", TOPIC, "--group-id", "verified-group", "--verbose",
                    "--reset-policy", "earliest")
                    .redirectError(dir.resolve("consumer.err").toFile()).start();
            clients.add(consumerProcess);
            List<String> consumed = new CopyOnWriteArrayList<>();
            Thread.ofPlatform().daemon().start(() -> {
                try (BufferedReader out = new BufferedReader(new InputStreamReader(consumerProcess.getInputStream(),
                        StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = out.readLine()) != null) {
                        if (line.contains("\"record_data\"")) {
                            consumed.add(line);
                        }
                    }
                } catch (IOException e) {
                    // the process ended
                }
            });

            Path producerConfig = dir.resolve("producer.properties");
            Files.writeString(producerConfig, "enable.idempotence=true\nretries=2147483647\ndelivery.timeout.ms=120000\n"
                    + "request.timeout.ms=10000\nmax.in.flight.requests.per.connection=5\n");
            Process producer = new ProcessBuilder(GregorProcess.javaBinary(), "-cp", System.getProperty("java.class.path"),
                    "org.apache.kafka.tools.VerifiableProducer", "--bootstrap-server", bootstrap, "--topic", TOPIC,
                    "--max-messages", "6000", "--throughput", "300", "--acks", "-1",
                    "--producer.config", producerConfig.toString())
                    .redirectError(dir.resolve("producer.err").toFile()).start();
            clients.add(producer);
            List<String> events = new CopyOnWriteArrayList<>();
            Thread reader = Thread.ofPlatform().daemon().start(() -> {
                try (BufferedReader out = new BufferedReader(new InputStreamReader(producer.getInputStream(),
                        StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = out.readLine()) != null) {
                        events.add(line);
                    }
                } catch (IOException e) {
                    // the process ended
                }
            });
            Await.until("the first acknowledgements", Duration.ofSeconds(60),
                    () -> events.stream().filter(e -> e.contains("producer_send_success")).count() >= 300);

            // kill -9 the leader of partition 0, wait until another leads it, bring the node back.
            int leader;
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
                leader = leaderOf(admin, 0);
                running.get(leader).kill9();
                running.remove(leader);
                int killed = leader;
                Await.until("a new leader of partition 0", Duration.ofSeconds(60), () -> {
                    int now = leaderOf(admin, 0);
                    return now > 0 && now != killed;
                });
            }
            Node killedNode = nodes.get(leader - 1);
            running.put(leader, GregorProcess.startWithConfig(killedNode.config(), killedNode.data(), killedNode.port()));
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
                Await.until("every ISR full again", Duration.ofSeconds(90), () -> admin.describeTopics(List.of(TOPIC))
                        .allTopicNames().get().get(TOPIC).partitions().stream().allMatch(p -> p.isr().size() == 3));
            }
            // A clean bounce of another node (SIGTERM: controlled shutdown).
            int bounced = leader == 3 ? 2 : 3;
            running.remove(bounced).stop();
            Node bouncedNode = nodes.get(bounced - 1);
            running.put(bounced, GregorProcess.startWithConfig(bouncedNode.config(), bouncedNode.data(), bouncedNode.port()));

            assertThat(producer.waitFor(240, TimeUnit.SECONDS)).as("VerifiableProducer finished").isTrue();
            reader.join(10_000);
            Map<String, Long> acknowledged = new HashMap<>();
            Map<String, Integer> partitionOf = new HashMap<>();
            Pattern fields = Pattern.compile("\"partition\":(\\d+)|\"offset\":(\\d+)|\"value\":\"([^\"]*)\"");
            for (String event : events) {
                if (!event.contains("\"producer_send_success\"")) {
                    continue;
                }
                Integer partition = null;
                Long offset = null;
                String value = null;
                Matcher m = fields.matcher(event);
                while (m.find()) {
                    if (m.group(1) != null) {
                        partition = Integer.parseInt(m.group(1));
                    } else if (m.group(2) != null) {
                        offset = Long.parseLong(m.group(2));
                    } else {
                        value = m.group(3);
                    }
                }
                acknowledged.put(value, offset);
                partitionOf.put(value, partition);
            }
            assertThat(acknowledged).as("acknowledged records").hasSizeGreaterThan(3000);

            Map<String, Long> read = new HashMap<>();
            Map<String, Integer> readPartition = new HashMap<>();
            try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(Map.of("bootstrap.servers", bootstrap),
                    new StringDeserializer(), new StringDeserializer())) {
                List<TopicPartition> all = List.of(new TopicPartition(TOPIC, 0), new TopicPartition(TOPIC, 1),
                        new TopicPartition(TOPIC, 2));
                consumer.assign(all);
                consumer.seekToBeginning(all);
                Await.until("every acknowledged record read back", Duration.ofSeconds(60), () -> {
                    for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                        read.put(r.value(), r.offset());
                        readPartition.put(r.value(), r.partition());
                    }
                    return read.keySet().containsAll(acknowledged.keySet());
                });
            }
            for (Map.Entry<String, Long> a : acknowledged.entrySet()) {
                assertThat(read.get(a.getKey())).as("offset of acknowledged value %s", a.getKey()).isEqualTo(a.getValue());
                assertThat(readPartition.get(a.getKey())).isEqualTo(partitionOf.get(a.getKey()));
            }

            // The group consumer saw every acknowledged record too, at its offset (again after a rebalance is fine).
            Map<String, Long> groupRead = new HashMap<>();
            Await.until("the VerifiableConsumer has every acknowledged record", Duration.ofSeconds(120), () -> {
                for (String line : consumed) {
                    String value = null;
                    Long offset = null;
                    Matcher m = fields.matcher(line);
                    while (m.find()) {
                        if (m.group(2) != null) {
                            offset = Long.parseLong(m.group(2));
                        } else if (m.group(3) != null) {
                            value = m.group(3);
                        }
                    }
                    groupRead.put(value, offset);
                }
                return groupRead.keySet().containsAll(acknowledged.keySet());
            });
            consumerProcess.destroy();
            for (Map.Entry<String, Long> a : acknowledged.entrySet()) {
                assertThat(groupRead.get(a.getKey())).as("group consumer's offset of %s", a.getKey()).isEqualTo(a.getValue());
            }
        } finally {
            clients.forEach(Process::destroyForcibly);
            for (GregorProcess p : running.values()) {
                p.kill9();
            }
        }
    }

    private static int leaderOf(Admin admin, int partition) throws Exception {
        TopicDescription d = admin.describeTopics(List.of(TOPIC)).allTopicNames().get().get(TOPIC);
        TopicPartitionInfo p = d.partitions().get(partition);
        return p.leader() == null ? -1 : p.leader().id();
    }
}
