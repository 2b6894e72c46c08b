package io.gregor.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs an external client (python3, kcat, a Kafka tool JVM) with a time limit and captures its output. */
final class Subprocess {
    /** Exit code and combined output of a finished process. */
    record Result(int exitCode, String stdout, String stderr) {
        Result assertOk() {
            if (exitCode != 0) {
                throw new AssertionError("exit code " + exitCode + "\nstdout:\n" + stdout + "\nstderr:\n" + stderr);
            }
            return this;
        }
    }

    private Subprocess() {
    }

    static Result run(List<String> command, String stdin, long timeoutSeconds) throws IOException, InterruptedException {
        Path out = Files.createTempFile("gregor-it", ".out");
        Path err = Files.createTempFile("gregor-it", ".err");
        try {
            Process process = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            try (var in = process.getOutputStream()) {
                if (stdin != null) {
                    in.write(stdin.getBytes(StandardCharsets.UTF_8));
                }
            }
            if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                throw new AssertionError("timed out after " + timeoutSeconds + " s: " + command + "\nstdout:\n"
                        + Files.readString(out) + "\nstderr:\n" + Files.readString(err));
            }
            return new Result(process.exitValue(), Files.readString(out), Files.readString(err));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /**
     * A client left running, such as a consumer that loops forever, whose output the test watches while it runs. Its
     * output files stay in the directory given to {@link #start} so that they can be read after the process ended.
     */
    static final class Background implements AutoCloseable {
        private final List<String> command;
        private final Process process;
        private final Path out;
        private final Path err;

        private Background(List<String> command, Process process, Path out, Path err) {
            this.command = command;
            this.process = process;
            this.out = out;
            this.err = err;
        }

        /** The lines written to stdout so far; a line still being written is left out. */
        List<String> stdoutLines() throws IOException {
            return completeLines(Files.readString(out));
        }

        /** SIGTERM. A Python client installs no handler for it, so the process ends at once without cleaning up. */
        void terminate() throws InterruptedException {
            process.destroy();
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                kill9();
            }
        }

        /** SIGKILL. */
        void kill9() throws InterruptedException {
            process.destroyForcibly();
            process.waitFor(30, TimeUnit.SECONDS);
        }

        /** Waits for the process to end by itself. */
        Result awaitExit(long timeoutSeconds) throws IOException, InterruptedException {
            if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                kill9();
                throw new AssertionError("timed out after " + timeoutSeconds + " s: " + describe());
            }
            return new Result(process.exitValue(), Files.readString(out), Files.readString(err));
        }

        /** The command with the tail of its output, for failure messages. */
        String describe() throws IOException {
            return command + (process.isAlive() ? " (running)" : " (exit code " + process.exitValue() + ")")
                    + "\nstdout:\n" + tail(out) + "\nstderr:\n" + tail(err);
        }

        private static String tail(Path file) throws IOException {
            List<String> lines = Files.readAllLines(file);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
        }

        @Override
        public void close() throws InterruptedException {
            if (process.isAlive()) {
                kill9();
            }
        }
    }

    /** The lines of a file another process is still writing, without a last line that has no line end yet. */
    static List<String> completeLines(String text) {
        List<String> lines = new ArrayList<>(text.lines().toList());
        if (!text.isEmpty() && !text.endsWith("\n")) {
            lines.removeLast();
        }
        return lines;
    }

    /** Starts {@code command} with extra environment variables, its output going to new files in {@code outputDir}. */
    static Background start(List<String> command, Map<String, String> environment, Path outputDir) throws IOException {
        Path out = Files.createTempFile(outputDir, "background", ".out");
        Path err = Files.createTempFile(outputDir, "background", ".err");
        ProcessBuilder builder = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile());
        builder.environment().putAll(environment);
        return new Background(List.copyOf(command), builder.start(), out, err);
    }

    /** A Kafka tool class (kafka-tools 4.2.0 on the test classpath) in its own JVM. */
    static Result kafkaTool(String mainClass, String stdin, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(GregorProcess.javaBinary(), "-Xmx256m",
                "-Dlogback.configurationFile=" + quietLogback(), "-cp", System.getProperty("java.class.path"), mainClass));
        command.addAll(List.of(args));
        return run(command, stdin, 120);
    }

    private static String quietLogback() throws IOException {
        Path file = Path.of(System.getProperty("java.io.tmpdir"), "gregor-it-quiet-logback.xml");
        if (!Files.exists(file)) {
            Files.writeString(file, "<configuration><appender name=\"E\" class=\"ch.qos.logback.core.ConsoleAppender\">"
                    + "<target>System.err</target><encoder><pattern>%level %logger{0} - %msg%n</pattern></encoder></appender>"
                    + "<root level=\"ERROR\"><appender-ref ref=\"E\"/></root></configuration>");
        }
        return file.toString();
    }

    /** The Debian python3 (python3-kafka, python3-confluent-kafka live there), else python3 on the PATH. */
    static String python() {
        return Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3" : "python3";
    }
}
