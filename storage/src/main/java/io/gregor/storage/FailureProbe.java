package io.gregor.storage;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Failure seams in the style of Redpanda's {@code failure_probes}: every hook is a no-op by
 * default; tests throw from them (for example {@code IOException("No space left on device")}) to
 * check that the log stays valid.
 */
public interface FailureProbe {

    /** Called before {@code bytes} are written to the segment file {@code segment}. */
    default void beforeAppend(Path segment, int bytes) throws IOException {}

    /** Called before the segment file {@code segment} is fsynced. */
    default void beforeFlush(Path segment) throws IOException {}

    /** Called before a new segment is rolled after the active segment file {@code segment}. */
    default void beforeRoll(Path segment) throws IOException {}

    /** The probe that never fails. */
    FailureProbe NONE = new FailureProbe() {};
}
