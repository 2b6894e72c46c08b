package io.gregor.cli;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine;

/** Runs the CLI in-process with captured stdout and stderr. */
record CliRun(int exitCode, String out, String err) {

    static CliRun run(String... args) {
        return runWithInput(null, args);
    }

    /** Runs with {@code stdin} as standard input for {@code produce}. */
    static CliRun runWithInput(String stdin, String... args) {
        CommandLine cli = GregorCli.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        if (stdin != null) {
            ProduceCommand produce = cli.getSubcommands().get("produce").getCommand();
            produce.in = new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8));
        }
        int code = cli.execute(args);
        return new CliRun(code, out.toString(), err.toString());
    }

    /** A local port on which nothing listens (bound once, then released). */
    static int closedPort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new RuntimeException(e);
        }
    }
}
