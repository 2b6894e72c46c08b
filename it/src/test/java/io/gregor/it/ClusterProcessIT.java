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
 * idempotent) writes while nodes fail in rounds, and Kafka's VerifiableConsumer reads along in a consumer group. Each
 * round takes a node down, kill -9 or SIGTERM (a clean bounce: controlled shutdown), waits until the others lead what
 * it led, brings it back and waits until every ISR is full again. The nodes chosen are the leader of a partition, the
 * active controller and the group coordinator's node. Every record the producer saw acknowledged is read back at the
 * offset it was acknowledged at (so in order per partition), by a plain consumer afterwards and by the group consumer
 * that lived through the faults.
 */
@Timeout(420)
class ClusterProcessIT {
    private static final String TOPIC = "verified";

    @TempDir
    Path dir;

    private record Node(int id, Path config, Path data, int port) {
    }

    @Test
    void acknowledgedRecordsSurviveRoundsOfKilledAndBouncedNodes() throws Exception {
        List<Node> nodes = new ArrayList<>();
        List<Integer> controllerPorts = List.of(GregorProcess.freePort(), GregorProcess.freePort(), GregorProcess.freePort());
        String voters = KraftNodeConfig.voters(controllerPorts.stream().map(p -> "127.0.0.1:" + p).toList());
        for (int id = 1; id <= 3; id++) {
            int port = GregorProcess.freePort();
            Path data = dir.resolve("n" + id);
            Path config = KraftNodeConfig.writePlain(dir.resolve("n" + id + ".properties"), id, voters, port,
                    controllerPorts.get(id - 1), data);
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
                    "--max-messages", "-1", "--throughput", "300", "--acks", "-1",
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

            String[] rounds = {"kill -9 the leader of partition 0", "SIGTERM the active controller",
                "kill -9 the group coordinator's node", "SIGTERM the leader of partition 2", "kill -9 the active controller"};
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
                for (String round : rounds) {
                    int victim;
                    if (round.contains("partition")) {
                        victim = leaderOf(admin, round.endsWith("0") ? 0 : 2);
                    } else if (round.contains("controller")) {
                        victim = admin.describeCluster().controller().get().id();
                    } else {
                        victim = admin.describeConsumerGroups(List.of("verified-group")).all().get().get("verified-group")
                                .coordinator().id();
                    }
                    long acksBefore = successes(events);
                    System.out.printf("ClusterProcessIT: %s (node %d), %d acknowledged so far%n", round, victim, acksBefore);
                    if (round.startsWith("kill")) {
                        running.remove(victim).kill9();
                    } else {
                        running.remove(victim).stop();
                    }
                    Await.until("the other nodes lead every partition", Duration.ofSeconds(60), () -> {
                        for (int p = 0; p < 3; p++) {
                            int now = leaderOf(admin, p);
                            if (now <= 0 || now == victim) {
                                return false;
                            }
                        }
                        return true;
                    });
                    Node node = nodes.get(victim - 1);
                    running.put(victim, GregorProcess.startWithConfig(node.config(), node.data(), node.port()));
                    Await.until("every ISR full again", Duration.ofSeconds(90), () -> admin.describeTopics(List.of(TOPIC))
                            .allTopicNames().get().get(TOPIC).partitions().stream().allMatch(p -> p.isr().size() == 3));
                    Await.until("acknowledgements after the round", Duration.ofSeconds(60),
                            () -> successes(events) >= acksBefore + 100);
                }
            }
            producer.destroy(); // SIGTERM: VerifiableProducer closes its producer, which finishes what is in flight
            assertThat(producer.waitFor(60, TimeUnit.SECONDS)).as("VerifiableProducer stopped").isTrue();
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
            assertThat(acknowledged).as("acknowledged records").hasSizeGreaterThan(1000);

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

    private static long successes(List<String> events) {
        return events.stream().filter(e -> e.contains("producer_send_success")).count();
    }

    private static int leaderOf(Admin admin, int partition) throws Exception {
        TopicDescription d = admin.describeTopics(List.of(TOPIC)).allTopicNames().get().get(TOPIC);
        TopicPartitionInfo p = d.partitions().get(partition);
        return p.leader() == null ? -1 : p.leader().id();
    }
}
