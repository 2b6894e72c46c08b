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
    private final int port;
    private final Process process;

    private GregorProcess(Path dataDir, int port, Process process) {
        this.dataDir = dataDir;
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

    private void awaitReady(Path logFile) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IOException("broker exited with " + process.exitValue() + ": " + tail(logFile));
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
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
        return "127.0.0.1:" + port;
    }

    int port() {
        return port;
    }

    Path dataDir() {
        return dataDir;
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
