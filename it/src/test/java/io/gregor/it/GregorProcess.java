package io.gregor.it;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A Gregor node in its own JVM, started with the `gregor start` command of the CLI module: for tests that kill the
 * process (kill -9) or need a broker separate from the test JVM. Its output goes to {@code <dir>/broker.log}.
 */
final class GregorProcess implements AutoCloseable {
    private final Path dataDir;
    private final String host;
    private final int port;
    private final Process process;

    private GregorProcess(Path dataDir, int port, Process process) {
        this(dataDir, "127.0.0.1", port, process);
    }

    private GregorProcess(Path dataDir, String host, int port, Process process) {
        this.dataDir = dataDir;
        this.host = host;
        this.port = port;
        this.process = process;
    }

    /** Starts a node with data in {@code dataDir} on {@code port} (0 = a free port) and waits until it accepts connections. */
    static GregorProcess start(Path dataDir, int port, String... settings) throws IOException, InterruptedException {
        int chosen = port == 0 ? freePort() : port;
        Files.createDirectories(dataDir);
        List<String> command = new ArrayList<>(List.of(javaBinary(), "--enable-native-access=ALL-UNNAMED",
                "--sun-misc-unsafe-memory-access=allow", "-Xmx384m", "-cp", System.getProperty("java.class.path"),
                "io.gregor.cli.GregorCli", "start", "--data-dir", dataDir.toString(),
                "--listeners", "PLAINTEXT://127.0.0.1:" + chosen));
        for (String setting : settings) {
            command.add("--set");
            command.add(setting);
        }
        Path logFile = dataDir.resolveSibling(dataDir.getFileName() + "-broker.log");
        Process process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile())).start();
        GregorProcess node = new GregorProcess(dataDir, chosen, process);
        node.awaitReady(logFile);
        return node;
    }

    /**
     * Starts a node as a user would, {@code gregor start --config <file>} and nothing else; {@code port} is its client
     * listener. Waits until the port accepts connections (a node of a cluster then still waits for its quorum).
     */
    static GregorProcess startWithConfig(Path config, Path dataDir, int port) throws IOException, InterruptedException {
        Files.createDirectories(dataDir);
        List<String> command = List.of(javaBinary(), "--enable-native-access=ALL-UNNAMED",
                "--sun-misc-unsafe-memory-access=allow", "-Xmx384m", "-cp", System.getProperty("java.class.path"),
                "io.gregor.cli.GregorCli", "start", "--config", config.toString());
        Path logFile = dataDir.resolveSibling(dataDir.getFileName() + "-broker.log");
        Process process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile())).start();
        GregorProcess node = new GregorProcess(dataDir, port, process);
        node.awaitReady(logFile);
        return node;
    }

    /**
     * {@link #startWithConfig} inside network namespace {@code node} of {@code net}; {@code host}:{@code port} is the
     * client listener the test reaches it on.
     */
    static GregorProcess startInNamespace(NetworkNamespaces net, int node, Path config, Path dataDir, String host, int port)
            throws IOException, InterruptedException {
        Files.createDirectories(dataDir);
        List<String> command = net.inNamespace(node, List.of(javaBinary(), "--enable-native-access=ALL-UNNAMED",
                "--sun-misc-unsafe-memory-access=allow", "-Xmx384m", "-cp", System.getProperty("java.class.path"),
                "io.gregor.cli.GregorCli", "start", "--config", config.toString()));
        Path logFile = dataDir.resolveSibling(dataDir.getFileName() + "-broker.log");
        Process process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile())).start();
        GregorProcess started = new GregorProcess(dataDir, host, port, process);
        started.awaitReady(logFile);
        return started;
    }

    private void awaitReady(Path logFile) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IOException("broker exited with " + process.exitValue() + ": " + tail(logFile));
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(host, port), 200);
                return;
            } catch (IOException notYet) {
                Thread.sleep(50);
            }
        }
        process.destroyForcibly();
        throw new IOException("broker did not listen on " + port + " within 90 s: " + tail(logFile));
    }

    private static String tail(Path logFile) throws IOException {
        List<String> lines = Files.readAllLines(logFile);
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    static String javaBinary() {
        return ProcessHandle.current().info().command().orElse("java");
    }

    String bootstrap() {
        return host + ":" + port;
    }

    int port() {
        return port;
    }

    Path dataDir() {
        return dataDir;
    }

    /** The node's operating-system process id. */
    long pid() {
        return process.pid();
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /**
     * SIGSTOP, then waits until every thread of the node is stopped: a thread inside a system call (a write or an
     * fsync) stops only when the call returns, so until then the file system may still see its I/O.
     */
    void freeze() throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-STOP", Long.toString(process.pid())).redirectErrorStream(true).start();
        if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
            kill.destroyForcibly();
            throw new IOException("kill -STOP " + process.pid() + " failed: " + new String(kill.getInputStream().readAllBytes()));
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!allThreadsStopped()) {
            if (System.nanoTime() > deadline) {
                throw new IOException("threads of " + process.pid() + " still running 30 s after SIGSTOP");
            }
            Thread.sleep(10);
        }
    }

    /** True when every task under /proc/PID/task is stopped (T), traced (t) or gone (Z, X). */
    private boolean allThreadsStopped() throws IOException {
        if (!process.isAlive()) {
            throw new IOException("broker exited with " + process.exitValue() + " while being stopped");
        }
        try (var tasks = Files.list(Path.of("/proc", Long.toString(process.pid()), "task"))) {
            for (Path task : (Iterable<Path>) tasks::iterator) {
                String stat;
                try {
                    stat = Files.readString(task.resolve("stat"));
                } catch (java.nio.file.NoSuchFileException exited) {
                    continue; // A thread that exited meanwhile does no more I/O.
                }
                // The state follows the command name, which is in parentheses and may itself contain spaces.
                char state = stat.charAt(stat.lastIndexOf(')') + 2);
                if (state != 'T' && state != 't' && state != 'Z' && state != 'X') {
                    return false;
                }
            }
        }
        return true;
    }

    /** SIGKILL: no shutdown hook runs, nothing is flushed. */
    void kill9() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    /** SIGTERM: the shutdown hook closes the broker cleanly. */
    void stop() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(30, TimeUnit.SECONDS);
        }
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            stop();
        }
    }
}
