package io.gregor.cli;

/**
 * A failure the user can act on. {@link GregorCli} prints its message as one {@code error: ...} line and exits with
 * code 1; no stack trace.
 */
final class CliException extends RuntimeException {
    CliException(String message) {
        super(message);
    }

    CliException(String message, Throwable cause) {
        super(message, cause);
    }
}
