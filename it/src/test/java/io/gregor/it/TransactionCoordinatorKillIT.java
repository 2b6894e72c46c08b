package io.gregor.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.gregor.testkit.Await;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three `gregor start` processes; a Java 4.2 transactional producer (transaction version 2) runs ten transactions,
 * and in each one the node coordinating its transactional id is killed with kill -9: before the commit (or, every
 * third round, the abort) in even rounds, while it is in flight in odd ones; it comes back before the next round. A transaction whose commit
 * returned is read whole by read_committed readers, one whose abort returned is never read, one whose outcome the
 * producer could not learn is read whole or not at all, and nothing is read twice.
 */
@Timeout(600)
class TransactionCoordinatorKillIT {
    private static final String TOPIC = "ledger";
    private static final int ROUNDS = 10;
    private static final String TXN_ID = "kill-coordinator-tx";

    @TempDir
    Path dir;

    private record Node(int id, Path config, Path data, int port) {
    }

    private static KafkaProducer<String, String> producer(String bootstrap) {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("transactional.id", TXN_ID);
        p.put("transaction.timeout.ms", "60000");
        p.put("delivery.timeout.ms", "120000");
        p.put("request.timeout.ms", "10000");
        p.put("max.block.ms", "90000");
        return new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
    }

    private enum Outcome { COMMITTED, ABORTED, UNKNOWN }

    @Test
    void transactionsStayWholeWhenTheirCoordinatorsNodeIsKilled() throws Exception {
        List<Node> nodes = new ArrayList<>();
        List<Integer> controllerPorts = List.of(GregorProcess.freePort(), GregorProcess.freePort(),
                GregorProcess.freePort());
        String voters = KraftNodeConfig.voters(controllerPorts.stream().map(p -> "127.0.0.1:" + p).toList());
        for (int id = 1; id <= 3; id++) {
            int port = GregorProcess.freePort();
            Path data = dir.resolve("n" + id);
            nodes.add(new Node(id, KraftNodeConfig.writePlain(dir.resolve("n" + id + ".properties"), id, voters, port,
                    controllerPorts.get(id - 1), data), data, port));
        }
        Map<Integer, GregorProcess> running = new HashMap<>();
        Map<Integer, List<String>> written = new HashMap<>();
        Map<Integer, Outcome> outcomes = new HashMap<>();
        try {
            for (Node n : nodes) {
                running.put(n.id(), GregorProcess.startWithConfig(n.config(), n.data(), n.port()));
            }
            String bootstrap = String.join(",", nodes.stream().map(n -> "127.0.0.1:" + n.port()).toList());
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
                Await.until("three nodes in the cluster", Duration.ofSeconds(90),
                        () -> admin.describeCluster().nodes().get().size() == 3);
                admin.createTopics(List.of(new NewTopic(TOPIC, 3, (short) 3))).all().get();
                KafkaProducer<String, String> producer = producer(bootstrap);
                producer.initTransactions();
                for (int round = 0; round < ROUNDS; round++) {
                    int victim = admin.describeTransactions(List.of(TXN_ID)).all().get().get(TXN_ID).coordinatorId();
                    List<String> values = new ArrayList<>();
                    producer.beginTransaction();
                    for (int i = 0; i < 12; i++) {
                        String value = "r" + round + "-" + i;
                        values.add(value);
                        producer.send(new ProducerRecord<>(TOPIC, i % 3, "k", value));
                    }
                    producer.flush();
                    written.put(round, values);
                    System.out.printf("TransactionCoordinatorKillIT: round %d, kill -9 coordinator node %d %s%n", round,
                            victim, (round % 2 == 0 ? "before the " : "during the ") + (round % 3 == 2 ? "abort" : "commit"));
                    KafkaProducer<String, String> ending = producer;
                    // Every third round aborts instead.
                    boolean abort = round % 3 == 2;
                    Runnable end = abort ? ending::abortTransaction : ending::commitTransaction;
                    CompletableFuture<Void> commit;
                    if (round % 2 == 0) {
                        running.remove(victim).kill9();
                        commit = CompletableFuture.runAsync(end);
                    } else {
                        commit = CompletableFuture.runAsync(end);
                        running.remove(victim).kill9();
                    }
                    Outcome outcome;
                    try {
                        commit.get(180, TimeUnit.SECONDS);
                        outcome = abort ? Outcome.ABORTED : Outcome.COMMITTED;
                    } catch (java.util.concurrent.ExecutionException e) {
                        outcome = Outcome.UNKNOWN;
                        if (e.getCause() instanceof TimeoutException) {
                            try {
                                end.run(); // a timed-out commit or abort may be resumed
                                outcome = abort ? Outcome.ABORTED : Outcome.COMMITTED;
                            } catch (RuntimeException again) {
                                outcome = Outcome.UNKNOWN;
                            }
                        }
                        if (outcome == Outcome.UNKNOWN) {
                            System.out.printf("TransactionCoordinatorKillIT: round %d commit failed: %s%n", round,
                                    e.getCause());
                            producer.close(Duration.ofSeconds(5));
                            producer = producer(bootstrap);
                            producer.initTransactions(); // completes or aborts what the old one left
                        }
                    }
                    outcomes.put(round, outcome);
                    Node node = nodes.get(victim - 1);
                    running.put(victim, GregorProcess.startWithConfig(node.config(), node.data(), node.port()));
                    Await.until("every ISR full again after round " + round, Duration.ofSeconds(120), () ->
                            admin.describeTopics(List.of(TOPIC, "__transaction_state")).allTopicNames().get().values()
                                    .stream().flatMap(t -> t.partitions().stream()).allMatch(p -> p.isr().size() == 3));
                }
                producer.close(Duration.ofSeconds(10));
            }

            Set<String> committed = new HashSet<>();
            Set<String> aborted = new HashSet<>();
            outcomes.forEach((round, outcome) -> {
                if (outcome == Outcome.COMMITTED) {
                    committed.addAll(written.get(round));
                } else if (outcome == Outcome.ABORTED) {
                    aborted.addAll(written.get(round));
                }
            });
            assertThat(committed).as("transactions whose commit returned").hasSizeGreaterThanOrEqualTo(12 * ROUNDS / 3);
            assertThat(aborted).as("transactions whose abort returned").isNotEmpty();
            List<String> read = new ArrayList<>();
            Properties c = new Properties();
            c.put("bootstrap.servers", bootstrap);
            c.put("isolation.level", "read_committed");
            try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(c, new StringDeserializer(),
                    new StringDeserializer())) {
                List<TopicPartition> all = List.of(new TopicPartition(TOPIC, 0), new TopicPartition(TOPIC, 1),
                        new TopicPartition(TOPIC, 2));
                consumer.assign(all);
                consumer.seekToBeginning(all);
                Await.until("every committed record read", Duration.ofSeconds(60), () -> {
                    for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                        read.add(r.value());
                    }
                    return read.containsAll(committed);
                });
                consumer.poll(Duration.ofSeconds(1)).forEach(r -> read.add(r.value()));
            }
            assertThat(read).doesNotHaveDuplicates().doesNotContainAnyElementsOf(aborted);
            Set<String> seen = new HashSet<>(read);
            for (Map.Entry<Integer, List<String>> txn : written.entrySet()) {
                long present = txn.getValue().stream().filter(seen::contains).count();
                assertThat(present).as("records of round %d's transaction read (all or none)", txn.getKey())
                        .isIn(0L, (long) txn.getValue().size());
            }
        } finally {
            for (GregorProcess p : running.values()) {
                p.kill9();
            }
        }
    }
}
