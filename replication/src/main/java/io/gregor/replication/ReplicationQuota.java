package io.gregor.replication;

import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * A replication throttle (Kafka's leader.replication.throttled.rate / follower.replication.throttled.rate): the bytes
 * of throttled partitions sent or copied over the last {@link #WINDOW_SECONDS} seconds, and whether their rate is above
 * the limit. While it is, throttled partitions are left out of fetches (followers) or answered without records
 * (leaders); replicas in the ISR are never throttled, so acks=all does not wait on a throttle.
 */
public final class ReplicationQuota {
    /** Kafka's replication.quota.window.num (11) times replication.quota.window.size.seconds (1). */
    static final int WINDOW_SECONDS = 11;

    private final LongSupplier nanoClock;
    private final long[] bytes = new long[WINDOW_SECONDS];
    private final long[] second = new long[WINDOW_SECONDS];
    private final long startSecond;
    private volatile long limit = Long.MAX_VALUE;

    public ReplicationQuota() {
        this(System::nanoTime);
    }

    ReplicationQuota(LongSupplier nanoClock) {
        this.nanoClock = nanoClock;
        this.startSecond = now();
        java.util.Arrays.fill(second, -1);
    }

    /** Bytes per second; {@link Long#MAX_VALUE} for no limit. */
    public void setLimit(long bytesPerSecond) {
        this.limit = bytesPerSecond;
    }

    public long limit() {
        return limit;
    }

    public boolean limited() {
        return limit != Long.MAX_VALUE;
    }

    /** Counts {@code count} bytes of throttled replication now. */
    public synchronized void record(long count) {
        long s = now();
        int slot = (int) (s % WINDOW_SECONDS);
        if (second[slot] != s) {
            second[slot] = s;
            bytes[slot] = 0;
        }
        bytes[slot] += count;
    }

    /** Whether the throttled bytes of the window are above the limit. */
    public synchronized boolean isExceeded() {
        if (!limited()) {
            return false;
        }
        long s = now();
        long total = 0;
        for (int i = 0; i < WINDOW_SECONDS; i++) {
            if (second[i] > s - WINDOW_SECONDS) {
                total += bytes[i];
            }
        }
        // The window is shorter while the quota is young: the rate is over the seconds that exist.
        long seconds = Math.max(1, Math.min(WINDOW_SECONDS, s - startSecond + 1));
        return total / seconds > limit;
    }

    private long now() {
        return TimeUnit.NANOSECONDS.toSeconds(nanoClock.getAsLong());
    }
}
