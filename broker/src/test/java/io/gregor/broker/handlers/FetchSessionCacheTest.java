package io.gregor.broker.handlers;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class FetchSessionCacheTest {

    private final AtomicLong now = new AtomicLong(1_000_000);

    private static FetchSessionCache.Session withPartitions(FetchSessionCache.Session session, int count) {
        for (int p = 0; p < count; p++) {
            session.upsert(new FetchSessionCache.Key(null, "t", p), 0, 1024, -1);
        }
        return session;
    }

    @Test
    void aFullCacheGivesTheSlotOfAnIdleSessionOrOfASmallerOneAndOtherwiseNone() {
        FetchSessionCache cache = new FetchSessionCache(2, now::get);
        FetchSessionCache.Session small = withPartitions(cache.create(false, true, 2), 2);
        now.addAndGet(1_000);
        FetchSessionCache.Session large = withPartitions(cache.create(false, true, 10), 10);
        // Both busy and not smaller than the newcomer: no session for it.
        assertThat(cache.create(false, true, 1)).isNull();
        // A larger newcomer takes the smallest one's slot.
        FetchSessionCache.Session bigger = cache.create(false, true, 5);
        assertThat(bigger).isNotNull();
        FetchSessionCache.Session[] found = new FetchSessionCache.Session[1];
        assertThat(cache.lookup(small.id, 1, found)).isEqualTo(FetchSessionCache.Lookup.NOT_FOUND);
        withPartitions(bigger, 5);
        // A follower outranks any consumer session.
        FetchSessionCache.Session follower = cache.create(true, true, 1);
        assertThat(follower).isNotNull();
        assertThat(cache.lookup(bigger.id, 1, found)).isEqualTo(FetchSessionCache.Lookup.NOT_FOUND);
        assertThat(cache.size()).isEqualTo(2);
        // After two idle minutes the least recently used session goes even for a small newcomer.
        now.addAndGet(1);
        assertThat(cache.lookup(follower.id, 1, found)).isEqualTo(FetchSessionCache.Lookup.FOUND);
        now.addAndGet(FetchSessionCache.EVICTION_MS);
        assertThat(cache.create(false, true, 1)).isNotNull();
        assertThat(cache.lookup(large.id, 1, found)).isEqualTo(FetchSessionCache.Lookup.NOT_FOUND);
        assertThat(cache.lookup(follower.id, 2, found)).isEqualTo(FetchSessionCache.Lookup.FOUND);
    }

    @Test
    void epochsMustComeInTurnAndZeroSlotsMeansNoSessions() {
        FetchSessionCache cache = new FetchSessionCache(1, now::get);
        FetchSessionCache.Session session = cache.create(false, false, 0);
        FetchSessionCache.Session[] found = new FetchSessionCache.Session[1];
        assertThat(cache.lookup(session.id, 2, found)).isEqualTo(FetchSessionCache.Lookup.WRONG_EPOCH);
        assertThat(cache.lookup(session.id, 1, found)).isEqualTo(FetchSessionCache.Lookup.FOUND);
        assertThat(cache.lookup(session.id, 1, found)).as("the same epoch twice").isEqualTo(FetchSessionCache.Lookup.WRONG_EPOCH);
        assertThat(cache.lookup(session.id, 2, found)).isEqualTo(FetchSessionCache.Lookup.FOUND);
        cache.remove(session.id);
        assertThat(cache.lookup(session.id, 3, found)).isEqualTo(FetchSessionCache.Lookup.NOT_FOUND);
        assertThat(new FetchSessionCache(0, now::get).create(true, true, 100)).isNull();
    }

    @Test
    void aPartitionIsReportedWhenSomethingChangedAndAgainAfterAnError() {
        FetchSessionCache.CachedPartition p = new FetchSessionCache.CachedPartition(new FetchSessionCache.Key(null, "t", 0), 0, 1024, -1);
        assertThat(p.mustRespond(false, false, 5, 5, 0)).as("first answer").isTrue();
        assertThat(p.mustRespond(false, false, 5, 5, 0)).isFalse();
        assertThat(p.mustRespond(true, false, 5, 5, 0)).as("records").isTrue();
        assertThat(p.mustRespond(false, false, 6, 6, 0)).as("high watermark moved").isTrue();
        assertThat(p.mustRespond(false, false, 6, 6, 2)).as("log start moved").isTrue();
        assertThat(p.mustRespond(false, true, -1, -1, -1)).as("error").isTrue();
        assertThat(p.mustRespond(false, false, 6, 6, 2)).as("the error went away").isTrue();
        assertThat(p.mustRespond(false, false, 6, 6, 2)).isFalse();
    }
}
