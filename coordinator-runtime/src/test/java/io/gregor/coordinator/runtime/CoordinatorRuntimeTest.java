package io.gregor.coordinator.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.errors.CoordinatorLoadInProgressException;
import org.apache.kafka.common.errors.CoordinatorNotAvailableException;
import org.apache.kafka.common.errors.InvalidRequestException;
import org.apache.kafka.common.errors.NotCoordinatorException;
import org.apache.kafka.common.errors.NotLeaderOrFollowerException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class CoordinatorRuntimeTest {

    /** A record: set {@code key} to {@code value} (null deletes it). */
    record Put(String key, String value) {
    }

    /** A key-value shard: its map changes only in replay. */
    static final class KvShard implements CoordinatorShard<Put> {
        final Map<String, String> values = new HashMap<>();
        final List<Long> offsets = new ArrayList<>();
        final CoordinatorTimer<Put> timer;
        boolean loaded;
        boolean unloaded;

        KvShard(CoordinatorTimer<Put> timer) {
            this.timer = timer;
        }

        @Override
        public void replay(long offset, Put record) {
            offsets.add(offset);
            if (record.value() == null) {
                values.remove(record.key());
            } else {
                values.put(record.key(), record.value());
            }
        }

        @Override
        public void onLoaded() {
            loaded = true;
        }

        @Override
        public void onUnloaded() {
            unloaded = true;
        }

        CoordinatorResult<Put, String> put(String key, String value) {
            return CoordinatorResult.of(List.of(new Put(key, value)), "was " + values.get(key));
        }
    }

    /**
     * Partitions in memory. Appends are committed only when the test says so ({@link #commitAll}) or fail
     * ({@link #failNext}, {@link #failPending}); reads return committed records only, as a log below its high
     * watermark.
     */
    static final class FakeLog implements CoordinatorLog<Put> {
        final Map<Integer, List<Put>> committed = new HashMap<>();
        final List<Pending> pending = new ArrayList<>();
        RuntimeException failNext;
        boolean blockReads;
        final CompletableFuture<Void> readsUnblocked = new CompletableFuture<>();

        record Pending(int partition, List<Put> records, CompletableFuture<Void> future) {
        }

        @Override
        public synchronized Append append(int partition, List<Put> records) {
            if (failNext != null) {
                RuntimeException e = failNext;
                failNext = null;
                throw e;
            }
            long base = committed.getOrDefault(partition, List.of()).size()
                    + pending.stream().filter(p -> p.partition == partition).mapToLong(p -> p.records.size()).sum();
            Pending p = new Pending(partition, List.copyOf(records), new CompletableFuture<>());
            pending.add(p);
            return new Append(base, p.future);
        }

        @Override
        public long read(int partition, RecordSink<Put> sink) {
            if (blockReads) {
                readsUnblocked.join();
            }
            List<Put> records;
            synchronized (this) {
                records = List.copyOf(committed.getOrDefault(partition, List.of()));
            }
            for (int i = 0; i < records.size(); i++) {
                sink.accept(i, records.get(i));
            }
            return records.size();
        }

        void commitAll() {
            List<Pending> done;
            synchronized (this) {
                done = List.copyOf(pending);
                pending.clear();
                done.forEach(p -> committed.computeIfAbsent(p.partition, k -> new ArrayList<>()).addAll(p.records));
            }
            done.forEach(p -> p.future.complete(null));
        }

        void failPending(RuntimeException error) {
            List<Pending> done;
            synchronized (this) {
                done = List.copyOf(pending);
                pending.clear();
            }
            done.forEach(p -> p.future.completeExceptionally(error));
        }

        synchronized int pendingCount() {
            return pending.size();
        }
    }

    private final FakeLog partitions = new FakeLog();
    private final ManualTime time = new ManualTime();
    private final Map<Integer, KvShard> built = new HashMap<>();
    // Runs queue tasks on the calling thread: every step of a test is deterministic.
    private final CoordinatorShardBuilder<KvShard, Put> builder = (partition, timer, t) -> {
        KvShard shard = new KvShard(timer);
        built.put(partition, shard);
        return shard;
    };
    private final CoordinatorRuntime<KvShard, Put> runtime = new CoordinatorRuntime<>("test", builder, partitions, time,
            Runnable::run);

    @AfterEach
    void close() {
        runtime.close();
    }

    private static <T> T get(CompletableFuture<T> future) throws Exception {
        return future.get(10, TimeUnit.SECONDS);
    }

    @Test
    void afterCommitRunsOnlyOnceTheRecordsAreCommittedAndNeverAfterAFailedAppend() throws Exception {
        get(runtime.scheduleLoad(0, 0));
        List<String> ran = new ArrayList<>();
        CompletableFuture<String> ok = runtime.scheduleWriteOperation("put", 0, s -> new CoordinatorResult<>(
                List.of(new Put("a", "1")), "done", () -> ran.add("first")));
        assertThat(ran).isEmpty();
        partitions.commitAll();
        assertThat(get(ok)).isEqualTo("done");
        assertThat(ran).containsExactly("first");

        CompletableFuture<String> failed = runtime.scheduleWriteOperation("put", 0, s -> new CoordinatorResult<>(
                List.of(new Put("b", "2")), "done", () -> ran.add("second")));
        partitions.failPending(new org.apache.kafka.common.errors.KafkaStorageException("disk gone"));
        assertThatThrownBy(() -> get(failed)).hasCauseInstanceOf(NotCoordinatorException.class);
        assertThat(ran).containsExactly("first");
        assertThat(built.get(0).values).containsEntry("a", "1").doesNotContainKey("b");
    }

    @Test
    void theResponseWaitsForTheCommitAndTheStateChangesOnlyByReplay() throws Exception {
        // A write is answered only after its records are committed; its records are in the shard at once.
        get(runtime.scheduleLoad(0, 0));
        CompletableFuture<String> first = runtime.scheduleWriteOperation("put", 0, s -> s.put("a", "1"));
        assertThat(first).isNotDone();
        assertThat(built.get(0).values).containsEntry("a", "1");
        assertThat(built.get(0).offsets).containsExactly(0L);
        partitions.commitAll();
        assertThat(get(first)).isEqualTo("was null");
        assertThat(partitions.committed.get(0)).containsExactly(new Put("a", "1"));
    }

    @Test
    void concurrentWritesAreAppendedBeforeEarlierOnesCommitAndReadsWaitForThem() throws Exception {
        // Two writes in flight at once (so they can share an fsync); a read answers only after both commit.
        get(runtime.scheduleLoad(0, 0));
        CompletableFuture<String> one = runtime.scheduleWriteOperation("put", 0, s -> s.put("a", "1"));
        CompletableFuture<String> two = runtime.scheduleWriteOperation("put", 0, s -> s.put("a", "2"));
        assertThat(partitions.pendingCount()).isEqualTo(2);
        assertThat(two).isNotDone();
        CompletableFuture<String> read = runtime.scheduleReadOperation("get", 0, s -> s.values.get("a"));
        assertThat(read).isNotDone();
        partitions.commitAll();
        assertThat(get(one)).isEqualTo("was null");
        assertThat(get(two)).isEqualTo("was 1");
        assertThat(get(read)).isEqualTo("2");
    }

    @Test
    void anAppendThatFailsAtOnceLeavesTheShardUnchanged() throws Exception {
        get(runtime.scheduleLoad(0, 0));
        partitions.failNext = new NotLeaderOrFollowerException("moved");
        CompletableFuture<String> failed = runtime.scheduleWriteOperation("put", 0, s -> s.put("a", "1"));
        assertThatThrownBy(() -> get(failed)).isInstanceOf(ExecutionException.class)
                .hasCauseInstanceOf(NotCoordinatorException.class);
        assertThat(built.get(0).values).isEmpty();
        partitions.failNext = new IllegalStateException("disk full");
        assertThatThrownBy(() -> get(runtime.scheduleWriteOperation("put", 0, s -> s.put("a", "1"))))
                .hasCauseInstanceOf(CoordinatorNotAvailableException.class);
        assertThat(built.get(0).values).isEmpty();
    }

    @Test
    void anAppendThatFailsLaterRebuildsTheShardFromTheLog() throws Exception {
        // Committed a=1, then a=2 is replayed but its commit fails: the shard goes back to what the log holds.
        get(runtime.scheduleLoad(0, 0));
        CompletableFuture<String> kept = runtime.scheduleWriteOperation("put", 0, s -> s.put("a", "1"));
        partitions.commitAll();
        get(kept);
        CompletableFuture<String> lost = runtime.scheduleWriteOperation("put", 0, s -> s.put("a", "2"));
        CompletableFuture<String> alsoLost = runtime.scheduleWriteOperation("put", 0, s -> s.put("b", "3"));
        assertThat(built.get(0).values).containsEntry("a", "2");
        partitions.failPending(new org.apache.kafka.common.errors.NotEnoughReplicasException("isr"));
        assertThatThrownBy(() -> get(lost)).hasCauseInstanceOf(CoordinatorNotAvailableException.class);
        assertThatThrownBy(() -> get(alsoLost)).hasCauseInstanceOf(CoordinatorNotAvailableException.class);
        assertThat(runtime.state(0)).isEqualTo(CoordinatorRuntime.ShardState.ACTIVE);
        assertThat(built.get(0).values).containsExactly(Map.entry("a", "1"));
        // And it goes on serving.
        CompletableFuture<String> next = runtime.scheduleWriteOperation("put", 0, s -> s.put("a", "4"));
        partitions.commitAll();
        assertThat(get(next)).isEqualTo("was 1");
    }

    @Test
    void anOperationThatThrowsChangesNothingAndItsErrorIsTheAnswer() throws Exception {
        get(runtime.scheduleLoad(0, 0));
        CompletableFuture<String> failed = runtime.scheduleWriteOperation("bad", 0, s -> {
            throw new InvalidRequestException("no");
        });
        assertThatThrownBy(() -> get(failed)).hasCauseInstanceOf(InvalidRequestException.class);
        assertThat(partitions.pendingCount()).isZero();
    }

    @Test
    void loadingReplaysThePartitionAndOperationsMeanwhileGetLoadInProgress() throws Exception {
        partitions.committed.put(3, new ArrayList<>(List.of(new Put("x", "1"), new Put("y", "2"), new Put("x", null))));
        // Loading on another thread, held inside the read: operations meanwhile are refused, not queued.
        partitions.blockReads = true;
        var pool = java.util.concurrent.Executors.newSingleThreadExecutor();
        try (var threaded = new CoordinatorRuntime<>("test", builder, partitions, time, pool)) {
            CompletableFuture<Long> loaded = threaded.scheduleLoad(3, 0);
            assertThat(threaded.state(3)).isEqualTo(CoordinatorRuntime.ShardState.LOADING);
            assertThatThrownBy(() -> get(threaded.scheduleWriteOperation("put", 3, s -> s.put("z", "1"))))
                    .hasCauseInstanceOf(CoordinatorLoadInProgressException.class);
            partitions.readsUnblocked.complete(null);
            get(loaded);
            CompletableFuture<Map<String, String>> values = threaded.scheduleReadOperation("all", 3, s -> Map.copyOf(s.values));
            assertThat(get(values)).containsExactly(Map.entry("y", "2"));
            assertThat(threaded.activePartitions()).containsExactly(3);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void unloadingDropsTheShardAndAnOlderEpochCannotDropANewerOne() throws Exception {
        assertThatThrownBy(() -> get(runtime.scheduleWriteOperation("put", 1, s -> s.put("a", "1"))))
                .hasCauseInstanceOf(NotCoordinatorException.class);
        get(runtime.scheduleLoad(1, 5));
        KvShard first = built.get(1);
        assertThat(first.loaded).isTrue();
        get(runtime.scheduleUnload(1, 4)); // stale: ignored
        assertThat(runtime.state(1)).isEqualTo(CoordinatorRuntime.ShardState.ACTIVE);
        get(runtime.scheduleUnload(1, 5));
        assertThat(first.unloaded).isTrue();
        assertThat(runtime.state(1)).isNull();
        assertThatThrownBy(() -> get(runtime.scheduleWriteOperation("put", 1, s -> s.put("a", "1"))))
                .hasCauseInstanceOf(NotCoordinatorException.class);
        // A newer epoch replaces a loaded shard.
        get(runtime.scheduleLoad(1, 6));
        KvShard second = built.get(1);
        get(runtime.scheduleLoad(1, 7));
        assertThat(second.unloaded).isTrue();
        assertThat(built.get(1)).isNotSameAs(second);
    }

    @Test
    void timersRunAsWriteOperationsOnTheManualClockAndDieWithTheShard() throws Exception {
        get(runtime.scheduleLoad(0, 0));
        KvShard shard = built.get(0);
        CompletableFuture<String> scheduled = runtime.scheduleWriteOperation("arm", 0, s -> {
            s.timer.schedule("expire-a", 1000, () -> CoordinatorResult.of(List.of(new Put("a", null)), null));
            s.timer.schedule("replaced", 1000, () -> CoordinatorResult.of(List.of(new Put("r", "old")), null));
            s.timer.schedule("replaced", 3000, () -> CoordinatorResult.of(List.of(new Put("r", "new")), null));
            return s.put("a", "1");
        });
        partitions.commitAll();
        get(scheduled);
        time.advance(999);
        assertThat(shard.values).containsEntry("a", "1").doesNotContainKey("r");
        time.advance(1);
        assertThat(shard.values).doesNotContainKey("a").doesNotContainKey("r");
        assertThat(partitions.pendingCount()).isEqualTo(1);
        partitions.commitAll();
        assertThat(partitions.committed.get(0)).endsWith(new Put("a", null));
        // After an unload, a timer that falls due does nothing.
        get(runtime.scheduleUnload(0, 0));
        time.advance(5000);
        assertThat(partitions.pendingCount()).isZero();
        assertThat(shard.values).doesNotContainKey("r");
    }
}
