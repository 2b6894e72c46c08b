package io.gregor.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
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
        assumeTrue(isRoot(), "PowerLossIT needs root to mount LazyFS (FUSE with allow_other); skipped");
        assumeTrue(Files.exists(Path.of("/dev/fuse")), "PowerLossIT needs /dev/fuse to mount LazyFS; skipped");
        Path lazyfsBinary = lazyfsBinary();
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
        Properties props = new Properties();
        props.put("bootstrap.servers", bootstrap);
        props.put("max.poll.records", "5000");
        Map<String, Integer> seen = new HashMap<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer())) {
            List<TopicPartition> partitions = new ArrayList<>();
            for (int p = 0; p < PARTITIONS; p++) {
                partitions.add(new TopicPartition(TOPIC, p));
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            Map<TopicPartition, Long> next = new HashMap<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
                assertThat(System.nanoTime()).as("reading back after round %d", round).isLessThan(deadline);
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    TopicPartition tp = new TopicPartition(r.topic(), r.partition());
                    long expected = next.getOrDefault(tp, 0L);
                    assertThat(r.offset()).as("offsets contiguous in %s after round %d", tp, round).isEqualTo(expected);
                    next.put(tp, r.offset() + 1);
                    seen.merge(r.value(), 1, Integer::sum);
                }
            }
        }
        // The count and a few examples: a broker that acknowledges before its fsync loses thousands per round.
        List<String> lost = acknowledged.stream().filter(v -> !seen.containsKey(v)).sorted().toList();
        assertThat(lost.size()).as("acknowledged records lost after round %d (of %d acknowledged), first %s", round,
                acknowledged.size(), lost.subList(0, Math.min(10, lost.size()))).isZero();
        for (String value : acknowledged) {
            assertThat(seen.get(value)).as("copies of acknowledged record %s after round %d", value, round).isEqualTo(1);
        }
    }

    /** LAZYFS_BIN when set (an explicit choice is not second-guessed), else where it/tools/lazyfs/build.sh builds it. */
    private static Path lazyfsBinary() {
        String fromEnv = System.getenv("LAZYFS_BIN");
        return fromEnv != null && !fromEnv.isBlank() ? Path.of(fromEnv)
                : Path.of(System.getProperty("user.home"), ".cache", "lazyfs-build", "lazyfs", "build", "lazyfs");
    }

    /** The owner of /proc/self is the effective user of this JVM. */
    private static boolean isRoot() {
        try {
            return Integer.valueOf(0).equals(Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException notLinux) {
            return false;
        }
    }

    /**
     * A LazyFS mount over {@code <dir>/root} (on the real disk) at {@code <dir>/mnt}, run in the foreground as a child
     * process. Its fault fifo takes commands; its completion fifo says when a clear-cache has finished.
     */
    private static final class LazyFs implements AutoCloseable {
        private static final String FINISHED_CLEAR_CACHE = "finished::clear-cache";

        private final Path mountDir;
        private final Path output;
        private final Process process;
        private final FileChannel faults;
        private final FileChannel completed;
        private final BlockingQueue<String> answers = new LinkedBlockingQueue<>();
        private final Thread answerReader;

        private LazyFs(Path mountDir, Path output, Process process, FileChannel faults, FileChannel completed) {
            this.mountDir = mountDir;
            this.output = output;
            this.process = process;
            this.faults = faults;
            this.completed = completed;
            this.answerReader = Thread.ofPlatform().daemon().name("lazyfs-answers").start(this::readAnswers);
        }

        static LazyFs mount(Path binary, Path dir) throws IOException, InterruptedException {
            Path root = Files.createDirectories(dir.resolve("root"));
            Path mountDir = Files.createDirectories(dir.resolve("mnt"));
            Path control = Files.createDirectories(dir.resolve("lazyfs"));
            Path faultsFifo = control.resolve("faults.fifo");
            Path completedFifo = control.resolve("completed.fifo");
            Path config = control.resolve("config.toml");
            Path output = control.resolve("lazyfs.out");
            // Eviction off and a cache far larger than what the rounds write: a full cache would write through to
            // the disk and hide exactly the loss this test looks for.
            Files.writeString(config, """
                    [faults]
                    fifo_path="%s"
                    fifo_path_completed="%s"
                    [cache]
                    apply_eviction=false
                    [cache.simple]
                    custom_size="1GB"
                    blocks_per_page=1
                    [filesystem]
                    log_all_operations=false
                    logfile="%s"
                    """.formatted(faultsFifo, completedFifo, control.resolve("lazyfs.log")));
            run(List.of("mkfifo", faultsFifo.toString(), completedFifo.toString()));
            // Both fifos are opened read-write, which on Linux never blocks: LazyFS opens the completion fifo
            // write-only and would otherwise wait for a reader, and a write-only open of the fault fifo would wait
            // for LazyFS.
            FileChannel faults = FileChannel.open(faultsFifo, StandardOpenOption.READ, StandardOpenOption.WRITE);
            FileChannel completed = FileChannel.open(completedFifo, StandardOpenOption.READ, StandardOpenOption.WRITE);
            Process process = new ProcessBuilder(binary.toString(), mountDir.toString(), "--config-path", config.toString(),
                    "-o", "allow_other", "-o", "modules=subdir", "-o", "subdir=" + root, "-f")
                    .redirectErrorStream(true).redirectOutput(output.toFile()).start();
            LazyFs fs = new LazyFs(mountDir, output, process, faults, completed);
            try {
                fs.awaitMounted();
            } catch (IOException e) {
                // A machine that has root and /dev/fuse but may not mount (an unprivileged container) cannot run
                // this test: that says nothing about durability, so the test is skipped with the reason.
                fs.close();
                throw new org.opentest4j.TestAbortedException("PowerLossIT: LazyFS could not mount here, skipped: "
                        + e.getMessage(), e);
            } catch (InterruptedException | RuntimeException e) {
                fs.close();
                throw e;
            }
            return fs;
        }

        Path mountDir() {
            return mountDir;
        }

        /** Drops every byte LazyFS holds that was not fsynced, and waits for LazyFS to say it is done. */
        void clearCache() throws IOException, InterruptedException {
            faults.write(ByteBuffer.wrap("lazyfs::clear-cache\n".getBytes(StandardCharsets.US_ASCII)));
            String answer = answers.poll(60, TimeUnit.SECONDS);
            if (!FINISHED_CLEAR_CACHE.equals(answer)) {
                throw new IOException("LazyFS answered " + answer + " to clear-cache within 60 s: " + output());
            }
        }

        /** sync -f: the kernel writes the mount's dirty pages (those of mmapped files) back to LazyFS. */
        void syncMount() throws IOException, InterruptedException {
            run(List.of("sync", "-f", mountDir.toString()));
        }

        private void awaitMounted() throws IOException, InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!isMounted()) {
                if (!process.isAlive()) {
                    throw new IOException("LazyFS exited with " + process.exitValue() + ": " + output());
                }
                if (System.nanoTime() > deadline) {
                    throw new IOException("LazyFS did not mount " + mountDir + " within 30 s: " + output());
                }
                Thread.sleep(50);
            }
        }

        /** Whether /proc/self/mountinfo lists a FUSE file system at the mount point. */
        private boolean isMounted() throws IOException {
            for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
                String[] fields = line.split(" ");
                int separator = List.of(fields).indexOf("-");
                if (fields.length > 4 && fields[4].equals(mountDir.toString()) && separator > 0
                        && fields[separator + 1].startsWith("fuse")) {
                    return true;
                }
            }
            return false;
        }

        private void readAnswers() {
            try (BufferedReader reader = new BufferedReader(new InputStreamReader(Channels.newInputStream(completed),
                    StandardCharsets.US_ASCII))) {
                for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                    answers.add(line.trim());
                }
            } catch (IOException closed) {
                // close() closed the fifo under the blocked read.
            }
        }

        private String output() {
            try {
                List<String> lines = Files.readAllLines(output);
                return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
            } catch (IOException e) {
                return "(no output: " + e.getMessage() + ")";
            }
        }

        /**
         * Unmounts (retrying while the file system is still busy, then lazily as a last resort) and makes sure the
         * LazyFS process is gone. The interrupt flag of a timed-out test is set aside meanwhile, so that the waits
         * here still wait instead of leaving a mount and a process behind.
         */
        @Override
        public void close() throws IOException, InterruptedException {
            boolean interrupted = Thread.interrupted();
            try {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                boolean unmounted = !isMounted();
                while (!unmounted && System.nanoTime() < deadline) {
                    unmounted = fusermount("-u") == 0 || !isMounted();
                    if (!unmounted) {
                        Thread.sleep(200);
                    }
                }
                if (!unmounted) {
                    fusermount("-u", "-z");
                }
                if (!process.waitFor(30, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    process.waitFor(30, TimeUnit.SECONDS);
                }
                completed.close();
                faults.close();
                answerReader.join(TimeUnit.SECONDS.toMillis(10));
                if (!unmounted) {
                    throw new IOException("fusermount3 -u " + mountDir + " kept failing for 30 s; unmounted lazily");
                }
            } finally {
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
        }

        private int fusermount(String... flags) throws IOException, InterruptedException {
            List<String> command = new ArrayList<>(List.of("fusermount3"));
            command.addAll(List.of(flags));
            command.add(mountDir.toString());
            Process p = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
                return -1;
            }
            return p.exitValue();
        }

        /** Runs a short command and fails with its output unless it exits with 0 within 60 s. */
        private static void run(List<String> command) throws IOException, InterruptedException {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
                throw new IOException(String.join(" ", command) + " did not finish within 60 s");
            }
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (p.exitValue() != 0) {
                throw new IOException(String.join(" ", command) + " exited with " + p.exitValue() + ": " + out);
            }
        }
    }
}
