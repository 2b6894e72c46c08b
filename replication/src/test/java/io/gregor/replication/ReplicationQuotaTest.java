package io.gregor.replication;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The replication throttle's rate over its window, on a hand-driven clock. */
class ReplicationQuotaTest {
    private final AtomicLong nanos = new AtomicLong(TimeUnit.SECONDS.toNanos(1000));
    private final ReplicationQuota quota = new ReplicationQuota(nanos::get);

    private void advanceSeconds(long seconds) {
        nanos.addAndGet(TimeUnit.SECONDS.toNanos(seconds));
    }

    @Test
    void anUnlimitedQuotaIsNeverExceeded() {
        quota.record(Long.MAX_VALUE / 2);
        assertThat(quota.limited()).isFalse();
        assertThat(quota.isExceeded()).isFalse();
    }

    @Test
    void theRateIsTheBytesOfTheWindowOverItsSeconds() {
        quota.setLimit(1000);
        quota.record(900);
        assertThat(quota.isExceeded()).as("900 B in the first second").isFalse();
        quota.record(200);
        assertThat(quota.isExceeded()).as("1100 B in the first second").isTrue();
        advanceSeconds(1);
        assertThat(quota.isExceeded()).as("1100 B over two seconds").isFalse();
        quota.record(1000);
        assertThat(quota.isExceeded()).as("2100 B over two seconds").isTrue();
    }

    @Test
    void bytesOlderThanTheWindowNoLongerCount() {
        quota.setLimit(100);
        quota.record(5000);
        advanceSeconds(ReplicationQuota.WINDOW_SECONDS - 1);
        assertThat(quota.isExceeded()).as("5000 B over 11 s").isTrue();
        advanceSeconds(1);
        assertThat(quota.isExceeded()).as("out of the window").isFalse();
        quota.record(1100);
        assertThat(quota.isExceeded()).as("1100 B over 11 s: 100 B/s").isFalse();
        quota.record(11);
        assertThat(quota.isExceeded()).as("1111 B over 11 s: 101 B/s").isTrue();
        quota.setLimit(Long.MAX_VALUE);
        assertThat(quota.isExceeded()).as("limit removed").isFalse();
    }
}
