package io.gregor.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.gregor.testkit.Await;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Power loss of a whole cluster: three `gregor start --config` nodes (replication factor 3, min.insync.replicas 2),
 * each with its data directory (partitions and metadata log) on its own LazyFS mount. An acks=all producer writes;
 * at a random moment every node is frozen, every mount loses what was not fsynced, every node is killed, and the
 * cluster starts again. Every acknowledged record is there, once, at contiguous offsets: followers count toward
 * acks=all only for what they fsynced, and the metadata log is durable too. Skipped without root, /dev/fuse and a
 * LazyFS binary, as PowerLossIT.
 */
class ClusterPowerLossIT {
    private static final int ROUNDS = 2;
    private static final int PARTITIONS = 3;
    private static final String TOPIC = "cluster-power-loss";

    @TempDir
    Path dir;

    private record Node(int id, Path config, Path data, int port) {
    }

    @Test
    @Timeout(600)
    void acknowledgedRecordsSurviveAPowerCutOfEveryNode() throws Exception {
        assumeTrue(LazyFs.isRoot(), "ClusterPowerLossIT needs root to mount LazyFS; skipped");
        assumeTrue(Files.exists(Path.of("/dev/fuse")), "ClusterPowerLossIT needs /dev/fuse; skipped");
        Path binary = LazyFs.binary();
        assumeTrue(Files.isExecutable(binary), "ClusterPowerLossIT needs a LazyFS binary, none at " + binary
                + ": run 'bash it/tools/lazyfs/build.sh' or set LAZYFS_BIN; skipped");

        List<LazyFs> mounts = new ArrayList<>();
        Map<Integer, GregorProcess> running = new HashMap<>();
        try {
            List<Node> nodes = new ArrayList<>();
            List<Integer> controllerPorts = List.of(GregorProcess.freePort(), GregorProcess.freePort(),
                    GregorProcess.freePort());
            String voters = "1@127.0.0.1:" + controllerPorts.get(0) + ",2@127.0.0.1:" + controllerPorts.get(1)
                    + ",3@127.0.0.1:" + controllerPorts.get(2);
            for (int id = 1; id <= 3; id++) {
                LazyFs fs = LazyFs.mount(binary, Files.createDirectories(dir.resolve("n" + id)));
                mounts.add(fs);
                int port = GregorProcess.freePort();
                Path config = dir.resolve("n" + id + ".properties");
                // The mount point is the data directory: the node's own log, written beside it, stays on the real disk.
                KraftNodeConfig.writePlain(config, id, voters, port, controllerPorts.get(id - 1), fs.mountDir());
                nodes.add(new Node(id, config, fs.mountDir(), port));
            }
            String bootstrap = String.join(",", nodes.stream().map(n -> "127.0.0.1:" + n.port()).toList());
            startAll(nodes, running);
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
                Await.until("three nodes in the cluster", Duration.ofSeconds(90),
                        () -> admin.describeCluster().nodes().get().size() == 3);
                admin.createTopics(List.of(new NewTopic(TOPIC, PARTITIONS, (short) 3))).all().get(30, TimeUnit.SECONDS);
            }

            Set<String> acknowledged = ConcurrentHashMap.newKeySet();
            for (int round = 0; round < ROUNDS; round++) {
                int r = round;
                awaitFullIsrs(bootstrap);
                AcknowledgedProduceLoop.run(bootstrap, "round " + round, 500, 1500, i -> {
                    String value = r + "-" + i;
                    return new ProducerRecord<>(TOPIC, value, value);
                }, record -> acknowledged.add(record.value()), () -> {
                    // Every node frozen before any cache is dropped: no node may fsync (and acknowledge) after the
                    // drop. Then the kill, the kernel's dirty mmap pages pushed into LazyFS, and a second drop.
                    for (GregorProcess p : running.values()) {
                        p.freeze();
                    }
                    for (LazyFs fs : mounts) {
                        fs.clearCache();
                    }
                    for (GregorProcess p : running.values()) {
                        p.kill9();
                    }
                    for (LazyFs fs : mounts) {
                        fs.syncMount();
                        fs.clearCache();
                    }
                });
                running.clear();
                startAll(nodes, running);
                verify(bootstrap, acknowledged, round);
            }
            assertThat(acknowledged).as("acknowledged over all rounds").hasSizeGreaterThan(100);
        } catch (AssertionError | Exception e) {
            // The nodes' own logs (beside their mounts, on the real disk) say why.
            try (var logs = Files.find(dir, 2, (path, attrs) -> path.getFileName().toString().endsWith("-broker.log"))) {
                for (Path log : logs.sorted().toList()) {
                    List<String> lines = Files.readAllLines(log);
                    System.out.println("---- " + dir.relativize(log) + ", last 40 lines ----");
                    lines.subList(Math.max(0, lines.size() - 40), lines.size()).forEach(System.out::println);
                }
            }
            throw e;
        } finally {
            for (GregorProcess p : running.values()) {
                p.kill9();
            }
            for (LazyFs fs : mounts) {
                fs.close();
            }
        }
    }

    private static void startAll(List<Node> nodes, Map<Integer, GregorProcess> running) throws Exception {
        for (Node n : nodes) {
            running.put(n.id(), GregorProcess.startWithConfig(n.config(), n.data(), n.port()));
        }
    }

    private static void awaitFullIsrs(String bootstrap) {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            Await.until("every partition led, with a full ISR", Duration.ofSeconds(90), () -> admin
                    .describeTopics(List.of(TOPIC)).allTopicNames().get().get(TOPIC).partitions().stream()
                    .allMatch(p -> p.leader() != null && p.isr().size() == 3));
        }
    }

    /** Every acknowledged value is in the log exactly once, and offsets are contiguous from the start. */
    private static void verify(String bootstrap, Set<String> acknowledged, int round) {
        awaitFullIsrs(bootstrap);
        ReadBack.assertEveryAcknowledgedOnce(bootstrap, TOPIC, PARTITIONS, acknowledged, round);
    }
}
