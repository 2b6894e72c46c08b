package io.gregor.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.gregor.testkit.Await;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Node;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node killed with kill -9 is fenced well before its broker.session.timeout.ms (30 s here) runs out: its heartbeat
 * connection to the active controller closed, so it has two heartbeat intervals and a second (3 s at least) to come
 * back on a new one. When the killed node was the active controller, the new one gives every node that short grace
 * (it cannot know when the others last heard from the dead one). Its partitions get new leaders.
 */
@Timeout(240)
class FencingIT {
    private static final String TOPIC = "fenced";

    @TempDir
    Path dir;

    @Test
    void aKilledNodeIsFencedLongBeforeItsSessionEnds() throws Exception {
        List<Integer> controllerPorts = List.of(GregorProcess.freePort(), GregorProcess.freePort(), GregorProcess.freePort());
        String voters = KraftNodeConfig.voters(controllerPorts.stream().map(p -> "127.0.0.1:" + p).toList());
        Map<Integer, GregorProcess> running = new HashMap<>();
        List<String> bootstrap = new ArrayList<>();
        try {
            for (int id = 1; id <= 3; id++) {
                int port = GregorProcess.freePort();
                Path data = dir.resolve("n" + id);
                Path config = KraftNodeConfig.writePlain(dir.resolve("n" + id + ".properties"), id, voters, port,
                        controllerPorts.get(id - 1), data, "broker.session.timeout.ms=30000",
                        "broker.heartbeat.interval.ms=500");
                running.put(id, GregorProcess.startWithConfig(config, data, port));
                bootstrap.add("127.0.0.1:" + port);
            }
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", String.join(",", bootstrap)))) {
                Await.until("three nodes in the cluster", Duration.ofSeconds(90),
                        () -> admin.describeCluster().nodes().get().size() == 3);
                admin.createTopics(List.of(new NewTopic(TOPIC, 3, (short) 3))).all().get();

                // A node that is not the active controller.
                int controller = admin.describeCluster().controller().get().id();
                int victim = controller == 3 ? 2 : 3;
                long killed = System.nanoTime();
                running.remove(victim).kill9();
                awaitFenced(admin, victim);
                double seconds = (System.nanoTime() - killed) / 1e9;
                System.out.printf("FencingIT: node %d fenced %.1f s after kill -9 (session 30 s)%n", victim, seconds);
                assertThat(seconds).as("seconds until the killed node was fenced").isLessThan(15);

                // The active controller itself, once the first node is back (two of three voters are a quorum).
                Path data = dir.resolve("n" + victim);
                running.put(victim, GregorProcess.startWithConfig(dir.resolve("n" + victim + ".properties"), data,
                        Integer.parseInt(bootstrap.get(victim - 1).split(":")[1])));
                Await.until("three nodes in the cluster again", Duration.ofSeconds(90),
                        () -> admin.describeCluster().nodes().get().size() == 3);
                controller = admin.describeCluster().controller().get().id();
                killed = System.nanoTime();
                running.remove(controller).kill9();
                awaitFenced(admin, controller);
                seconds = (System.nanoTime() - killed) / 1e9;
                System.out.printf("FencingIT: the active controller, node %d, fenced %.1f s after kill -9%n", controller,
                        seconds);
                assertThat(seconds).as("seconds until the killed controller was fenced").isLessThan(20);
                // Its partitions are led by the nodes that are left.
                int dead = controller;
                Await.until("the other nodes lead every partition", Duration.ofSeconds(30), () -> admin
                        .describeTopics(List.of(TOPIC)).allTopicNames().get().get(TOPIC).partitions().stream()
                        .allMatch(p -> p.leader() != null && p.leader().id() != dead));
            }
        } finally {
            for (GregorProcess p : running.values()) {
                p.kill9();
            }
            // For the record: what the nodes logged about sessions, fencing and controllers.
            for (int id = 1; id <= 3; id++) {
                Path log = dir.resolve("n" + id + "-broker.log");
                if (java.nio.file.Files.exists(log)) {
                    for (String line : java.nio.file.Files.readAllLines(log)) {
                        if (line.contains("heartbeat connection") || line.contains("Fenced") || line.contains("is now node")
                                || line.contains("Active controller:")) {
                            System.out.println("  node " + id + ": " + line);
                        }
                    }
                }
            }
        }
    }

    /** Waits until the cluster's Metadata no longer lists node {@code id} (a fenced node leaves it). */
    private static void awaitFenced(Admin admin, int id) {
        Await.until("node " + id + " fenced", Duration.ofSeconds(60), () -> admin.describeCluster().nodes().get()
                .stream().mapToInt(Node::id).noneMatch(n -> n == id));
    }
}
