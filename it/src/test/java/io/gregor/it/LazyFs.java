package io.gregor.it;

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
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * LazyFS (it/tools/lazyfs/README.md), the FUSE file system that loses every byte that was not fsynced on command: a
 * mount over {@code <dir>/root} (on the real disk) at {@code <dir>/mnt}, run in the foreground as a child
 * process. Its fault fifo takes commands; its completion fifo says when a clear-cache has finished.
 */
final class LazyFs implements AutoCloseable {
    /** LAZYFS_BIN when set (an explicit choice is not second-guessed), else where it/tools/lazyfs/build.sh builds it. */
    static Path binary() {
        String fromEnv = System.getenv("LAZYFS_BIN");
        return fromEnv != null && !fromEnv.isBlank() ? Path.of(fromEnv)
                : Path.of(System.getProperty("user.home"), ".cache", "lazyfs-build", "lazyfs", "build", "lazyfs");
    }

    /** The owner of /proc/self is the effective user of this JVM. */
    static boolean isRoot() {
        try {
            return Integer.valueOf(0).equals(Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException notLinux) {
            return false;
        }
    }

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
