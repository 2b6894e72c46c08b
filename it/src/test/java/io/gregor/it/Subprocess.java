package io.gregor.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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
