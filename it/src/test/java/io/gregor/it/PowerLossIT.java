package io.gregor.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
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
 * Durability under power loss: acks=all records that the broker acknowledged survive losing every byte that was not
 * fsynced, exactly once, with contiguous offsets. kill -9 (CrashIT) leaves the operating system's page cache intact, so
 * a broker that answered before its fsync would still pass it; here the data directory is a LazyFS mount, a FUSE file
 * system with its own page cache that drops all unsynced data on command (it/tools/lazyfs/README.md).
 *
 * <p>Skipped unless the test runs as root, /dev/fuse exists and a LazyFS binary is found ({@code LAZYFS_BIN}, else
 * where {@code it/tools/lazyfs/build.sh} puts it).
 */
class PowerLossIT {
    private static final int ROUNDS = 5;
    private static final int PARTITIONS = 3;
    private static final String TOPIC = "power-loss";

    @TempDir
    Path dir;

    @Test
    @Timeout(600)
    void acknowledgedRecordsSurvivePowerLoss() throws Exception {
        assumeTrue(LazyFs.isRoot(), "PowerLossIT needs root to mount LazyFS (FUSE with allow_other); skipped");
        assumeTrue(Files.exists(Path.of("/dev/fuse")), "PowerLossIT needs /dev/fuse to mount LazyFS; skipped");
        Path lazyfsBinary = LazyFs.binary();
        assumeTrue(Files.isRegularFile(lazyfsBinary) && Files.isExecutable(lazyfsBinary), "PowerLossIT needs a LazyFS "
                + "binary, none at " + lazyfsBinary + ": run 'bash it/tools/lazyfs/build.sh' or set LAZYFS_BIN; skipped");

        Set<String> acknowledged = ConcurrentHashMap.newKeySet();
        int port = GregorProcess.freePort();
        try (LazyFs fs = LazyFs.mount(lazyfsBinary, dir)) {
            // The mount point itself is the data directory (log.dirs), so that the broker's own log, which
            // GregorProcess writes beside the data directory, stays on the real disk and survives the power cuts.
            Path data = fs.mountDir();
            try (GregorProcess first = GregorProcess.start(data, port);
                 Admin admin = Admin.create(Map.of("bootstrap.servers", first.bootstrap()))) {
                admin.createTopics(List.of(new NewTopic(TOPIC, PARTITIONS, (short) 1))).all().get(30, TimeUnit.SECONDS);
                first.stop();
            }
            for (int round = 0; round < ROUNDS; round++) {
                GregorProcess node = GregorProcess.start(data, port);
                try {
                    verify(node.bootstrap(), acknowledged, round);
                    produceThenCutPower(node, fs, acknowledged, round);
                } catch (AssertionError | Exception e) {
                    // The node's own log (beside the data directory, on the real disk) says why.
                    Path log = data.resolveSibling(data.getFileName() + "-broker.log");
                    if (Files.exists(log)) {
                        List<String> lines = Files.readAllLines(log);
                        System.out.println("---- node log, last 60 lines ----");
                        lines.subList(Math.max(0, lines.size() - 60), lines.size()).forEach(System.out::println);
                    }
                    throw e;
                } finally {
                    node.kill9();
                }
            }
            try (GregorProcess last = GregorProcess.start(data, port)) {
                verify(last.bootstrap(), acknowledged, ROUNDS);
            }
        }
    }

    /**
     * Produces acks=all in a loop and, a random 300-1500 ms after the round's first acknowledgement, cuts the power:
     * freeze, drop the unsynced data, kill -9, push the kernel's dirty mmap pages into LazyFS and drop them too.
     */
    private static void produceThenCutPower(GregorProcess node, LazyFs fs, Set<String> acknowledged, int round)
            throws Exception {
        AcknowledgedProduceLoop.run(node.bootstrap(), "round " + round, 300, 1200, i -> {
            String value = round + "-" + i;
            return new ProducerRecord<>(TOPIC, value, value);
        }, record -> acknowledged.add(record.value()), () -> {
            // Frozen first: a broker still running while the cache is dropped could fsync and acknowledge data that
            // the drop already lost, which no real power cut allows. Every acknowledgement sent before the freeze
            // covers data that was fsynced before it.
            node.freeze();
            fs.clearCache();
            node.kill9();
            assertThat(node.isAlive()).as("node %d killed in round %d", node.pid(), round).isFalse();
            // Memory-mapped index writes reach LazyFS only when the kernel writes them back, which it may still do
            // after the kill; sync forces that now, and the second drop loses them as the power cut would have.
            fs.syncMount();
            fs.clearCache();
        });
    }

    /** Every acknowledged value is in the log exactly once, and offsets are contiguous from the start. */
    private static void verify(String bootstrap, Set<String> acknowledged, int round) {
        ReadBack.assertEveryAcknowledgedOnce(bootstrap, TOPIC, PARTITIONS, acknowledged, round);
    }
}
