package io.gregor.broker.group;

/** The coordinator's clock and timer; tests step a manual one. Tasks run under no lock of the caller. */
public interface GroupTimer {
    long milliseconds();

    /** Runs {@code task} after {@code delayMs}; the returned handle cancels it. */
    Runnable schedule(long delayMs, Runnable task);
}
