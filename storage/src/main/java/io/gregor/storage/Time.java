package io.gregor.storage;

/**
 * Injected clock. Storage code never reads the system clock directly so that tests can drive
 * segment rolling, retention and flush policies by hand.
 */
public interface Time {

    /** Wall-clock time in milliseconds since the epoch. */
    long milliseconds();

    /** Monotonic time in nanoseconds, for measuring intervals only. */
    long nanoseconds();

    /** Sleeps for {@code ms} milliseconds (a mock clock advances instead). */
    void sleep(long ms);

    /** The real clock. */
    Time SYSTEM = new Time() {
        @Override
        public long milliseconds() {
            return System.currentTimeMillis();
        }

        @Override
        public long nanoseconds() {
            return System.nanoTime();
        }

        @Override
        public void sleep(long ms) {
            try {
                Thread.sleep(ms);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    };
}
