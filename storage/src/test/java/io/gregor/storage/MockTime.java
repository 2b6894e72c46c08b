package io.gregor.storage;

/** A manual clock for tests: time moves only when {@link #sleep} or {@link #advance} is called. */
final class MockTime implements Time {

    private volatile long nowMs;
    private volatile long nanos;

    MockTime(long startMs) {
        this.nowMs = startMs;
    }

    @Override
    public long milliseconds() {
        return nowMs;
    }

    @Override
    public long nanoseconds() {
        return nanos;
    }

    @Override
    public void sleep(long ms) {
        advance(ms);
    }

    void advance(long ms) {
        nowMs += ms;
        nanos += ms * 1_000_000L;
    }
}
