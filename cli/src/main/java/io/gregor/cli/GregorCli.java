package io.gregor.cli;

import java.io.PrintWriter;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.ApiException;
import org.apache.kafka.common.errors.TimeoutException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.ParseResult;

/**
 * The {@code gregor} command: runs a node and talks to a cluster.
 *
 * <p>Exit codes: 0 success, 1 failure at run time (one {@code error: ...} line on stderr), 2 bad arguments (picocli's
 * message and usage on stderr).
 */
@Command(
        name = "gregor",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = "Gregor: a Kafka-compatible streaming platform.",
        usageHelpAutoWidth = true,
        subcommands = {
            StartCommand.class,
            TopicCommand.class,
            GroupCommand.class,
            ClusterCommand.class,
            ProduceCommand.class,
            ConsumeCommand.class
        })
public final class GregorCli {
    public static final int EXIT_OK = 0;
    public static final int EXIT_FAILURE = 1;
    public static final int EXIT_USAGE = 2;

    public static void main(String[] args) {
        int code = commandLine().execute(args);
        // Exit explicitly: a Kafka client or the broker may leave non-daemon threads behind.
        System.exit(code);
    }

    /** A configured command line; tests call {@code setOut}/{@code setErr} on it and then {@code execute}. */
    public static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new GregorCli());
        cli.setExecutionExceptionHandler(new ErrorHandler());
        cli.setCaseInsensitiveEnumValuesAllowed(true);
        return cli;
    }

    /** Turns exceptions from a command into one readable line and exit code 1. */
    static final class ErrorHandler implements IExecutionExceptionHandler {
        @Override
        public int handleExecutionException(Exception ex, CommandLine cmd, ParseResult parseResult) {
            PrintWriter err = cmd.getErr();
            err.println("error: " + describe(ex));
            if (System.getenv("GREGOR_DEBUG") != null) {
                ex.printStackTrace(err);
            }
            err.flush();
            return EXIT_FAILURE;
        }
    }

    /** The message a person should read for {@code ex}: Kafka's own error message where there is one. */
    static String describe(Throwable ex) {
        Throwable t = unwrap(ex);
        String message = t.getMessage();
        if (t instanceof CliException) {
            return message;
        }
        if (t instanceof TimeoutException) {
            return "timed out waiting for the broker" + (message == null ? "" : ": " + message);
        }
        if (t instanceof ApiException || t instanceof KafkaException || t instanceof io.gregor.broker.config.ConfigException) {
            return message != null ? message : t.getClass().getSimpleName();
        }
        return message == null ? t.getClass().getName() : t.getClass().getSimpleName() + ": " + message;
    }

    static Throwable unwrap(Throwable ex) {
        Throwable t = ex;
        while ((t instanceof ExecutionException || t instanceof CompletionException) && t.getCause() != null) {
            t = t.getCause();
        }
        // KafkaException wraps the real cause in a few places (e.g. "Failed to construct kafka producer").
        if (t instanceof KafkaException && !(t instanceof ApiException) && t.getCause() instanceof KafkaException cause) {
            return cause;
        }
        return t;
    }
}
