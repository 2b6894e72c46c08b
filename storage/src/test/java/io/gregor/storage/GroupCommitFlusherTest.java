package io.gregor.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GroupCommitFlusherTest {

    @TempDir
    Path root;

    @Test
    void shouldCoverRequestsArrivingDuringAnFsyncWithOneMoreFsync() throws Exception {
        // While the first fsync is stalled, 4 threads append and request durability 25 times each; one more fsync covers all 100.
        AtomicInteger fsyncs = new AtomicInteger();
        CountDownLatch stalled = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        FailureProbe stallFirstFsync = new FailureProbe() {
            @Override
            public void beforeFlush(Path segment) {
                if (stalled.getCount() > 0) {
                    stalled.countDown();
                    awaitQuietly(release);
                }
            }
        };
        try (Log log = Log.open(root.resolve("t-0"), LogConfig.defaults(), Time.SYSTEM, stallFirstFsync, true);
                GroupCommitFlusher flusher = new GroupCommitFlusher("flusher", (flushedLog, offset) -> fsyncs.incrementAndGet())) {
            log.append(TestBatches.batch(1, 100, 1), 0);
            CompletableFuture<Void> first = flusher.flush(log, 1);
            assertThat(stalled.await(5, TimeUnit.SECONDS)).isTrue();
            List<CompletableFuture<Void>> waiting = java.util.Collections.synchronizedList(new ArrayList<>());
            List<Thread> writers = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                Thread writer = new Thread(() -> {
                    for (int i = 0; i < 25; i++) {
                        LogAppendInfo info = log.append(TestBatches.batch(1, 100, 1), 0);
                        waiting.add(flusher.flush(log, info.lastOffset() + 1));
                    }
                });
                writer.start();
                writers.add(writer);
            }
            for (Thread writer : writers) {
                writer.join(10_000);
            }
            assertThat(waiting).hasSize(100).noneMatch(CompletableFuture::isDone);
            release.countDown();
            CompletableFuture.allOf(waiting.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);
            assertThat(first).isCompleted();
            assertThat(fsyncs.get()).isEqualTo(2);
            assertThat(log.flushedOffset()).isEqualTo(101);
        }
    }

    @Test
    void shouldCompleteConcurrentRequestsWithFewerFsyncsThanRequests() throws Exception {
        // 4 threads x 10 appends, each waiting for durability, with each fsync taking 5 ms (a slow disk, so that the
        // result does not depend on scheduling luck): all complete, with fewer fsyncs than requests.
        AtomicInteger fsyncs = new AtomicInteger();
        AtomicLong lastFlushed = new AtomicLong();
        FailureProbe slowDisk = new FailureProbe() {
            @Override
            public void beforeFlush(Path segment) {
                try {
                    Thread.sleep(5);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        };
        try (Log log = Log.open(root.resolve("t-0"), LogConfig.defaults(), Time.SYSTEM, slowDisk, true);
                GroupCommitFlusher flusher = new GroupCommitFlusher("flusher", (flushedLog, offset) -> {
                    fsyncs.incrementAndGet();
                    lastFlushed.set(offset);
                })) {
            List<Thread> writers = new ArrayList<>();
            AtomicInteger completed = new AtomicInteger();
            for (int t = 0; t < 4; t++) {
                Thread writer = new Thread(() -> {
                    for (int i = 0; i < 10; i++) {
                        LogAppendInfo info = log.append(TestBatches.batch(1, 100, 1), 0);
                        flusher.flush(log, info.lastOffset() + 1).join();
                        completed.incrementAndGet();
                    }
                });
                writer.start();
                writers.add(writer);
            }
            for (Thread writer : writers) {
                writer.join(20_000);
            }
            assertThat(completed.get()).isEqualTo(40);
            assertThat(lastFlushed.get()).isEqualTo(40);
            assertThat(fsyncs.get()).isLessThan(40);
        }
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void shouldCompleteImmediatelyWhenAlreadyFlushed() {
        // A request at or below the flushed offset needs no fsync.
        try (Log log = Log.open(root.resolve("t-0"), LogConfig.defaults(), Time.SYSTEM, FailureProbe.NONE, true);
                GroupCommitFlusher flusher = new GroupCommitFlusher("flusher", (l, o) -> {})) {
            log.append(TestBatches.batch(1, 10, 1), 0);
            log.flush();
            assertThat(flusher.flush(log, 1)).isCompleted();
        }
    }

    @Test
    void shouldFailFuturesOnIoErrorAndRecover() throws Exception {
        // An fsync failure completes waiters with KafkaStorageException; a later flush succeeds.
        AtomicBoolean failing = new AtomicBoolean(true);
        FailureProbe probe = new FailureProbe() {
            @Override
            public void beforeFlush(Path segment) throws IOException {
                if (failing.get()) {
                    throw new IOException("Input/output error");
                }
            }
        };
        try (Log log = Log.open(root.resolve("t-0"), LogConfig.defaults(), Time.SYSTEM, probe, true);
                GroupCommitFlusher flusher = new GroupCommitFlusher("flusher", (l, o) -> {})) {
            log.append(TestBatches.batch(1, 10, 1), 0);
            CompletableFuture<Void> failed = flusher.flush(log, 1);
            assertThatThrownBy(() -> failed.get(5, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(KafkaStorageException.class);
            assertThat(log.flushedOffset()).isZero();
            failing.set(false);
            flusher.flush(log, 1).get(5, TimeUnit.SECONDS);
            assertThat(log.flushedOffset()).isEqualTo(1);
        }
    }

    @Test
    void shouldFlushDirtyLogsWithoutWaiters() throws Exception {
        // markDirty alone leads to an fsync soon.
        CountDownLatch flushed = new CountDownLatch(1);
        try (Log log = Log.open(root.resolve("t-0"), LogConfig.defaults(), Time.SYSTEM, FailureProbe.NONE, true);
                GroupCommitFlusher flusher = new GroupCommitFlusher("flusher", (l, o) -> flushed.countDown())) {
            log.append(TestBatches.batch(3, 10, 1), 0);
            flusher.markDirty(log);
            assertThat(flushed.await(5, TimeUnit.SECONDS)).isTrue();
            assertThat(log.flushedOffset()).isEqualTo(3);
        }
    }
}
