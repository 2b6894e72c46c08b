package io.gregor.raft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.util.SizeInBytes;
import org.apache.ratis.util.TimeDuration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class RaftMetadataLogTest {

    @TempDir
    Path dir;

    private final List<RaftMetadataLog> opened = new ArrayList<>();

    @AfterEach
    void closeAll() {
        opened.forEach(RaftMetadataLog::close);
    }

    private static RaftSettings settings(Path dir, int port, long snapshotEveryEntries) {
        return new RaftSettings(dir, 1, "127.0.0.1", port, snapshotEveryEntries, Duration.ofSeconds(10));
    }

    private RaftMetadataLog started(RaftMetadataLog log) {
        opened.add(log);
        log.start();
        return log;
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static List<Long> appendAll(RaftMetadataLog log, String prefix, int count) {
        List<CompletableFuture<Long>> futures = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            futures.add(log.append(bytes(prefix + i)));
        }
        return futures.stream().map(CompletableFuture::join).toList();
    }

    // Four threads append concurrently; every future reports the index its entry was applied at,
    // and a restart without any snapshot replays exactly the same sequence.
    @Test
    void shouldReplayExactSequenceOfConcurrentAppendsAfterRestart() throws Exception {
        RecordingStateMachine first = new RecordingStateMachine();
        RaftMetadataLog log = started(new RaftMetadataLog(settings(dir, 0, 100_000), first));
        assertThat(log.isLeader()).isTrue();

        int threads = 4;
        int perThread = 250;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        List<CompletableFuture<List<Long>>> results = new ArrayList<>();
        List<List<CompletableFuture<Long>>> futuresPerThread = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            List<CompletableFuture<Long>> futures = new ArrayList<>();
            futuresPerThread.add(futures);
            String prefix = "t" + t + "-";
            results.add(CompletableFuture.supplyAsync(() -> {
                for (int i = 0; i < perThread; i++) {
                    synchronized (futures) {
                        futures.add(log.append(bytes(prefix + i)));
                    }
                }
                return List.of();
            }, pool));
        }
        results.forEach(CompletableFuture::join);
        pool.shutdown();

        for (int t = 0; t < threads; t++) {
            List<CompletableFuture<Long>> futures = futuresPerThread.get(t);
            long previous = -1;
            for (int i = 0; i < perThread; i++) {
                long index = futures.get(i).join();
                // The entry is applied before its future completes, at the reported index.
                assertThat(first.state()).contains(new RecordingStateMachine.Applied(index, "t" + t + "-" + i));
                // One thread's appends are committed in submission order.
                assertThat(index).isGreaterThan(previous);
                previous = index;
            }
        }
        List<RecordingStateMachine.Applied> before = first.state();
        assertThat(before).hasSize(threads * perThread);
        assertThat(log.lastAppliedIndex()).isGreaterThanOrEqualTo(before.getLast().index());
        log.close(false);

        RecordingStateMachine second = new RecordingStateMachine();
        RaftMetadataLog reopened = started(new RaftMetadataLog(settings(dir, 0, 100_000), second));
        assertThat(second.restores()).isZero();
        assertThat(second.state()).isEqualTo(before);
        assertThat(second.appliedThisProcess()).isEqualTo(before);

        long next = reopened.append(bytes("after-restart")).join();
        assertThat(next).isGreaterThan(before.getLast().index());
        assertThat(second.state().getLast()).isEqualTo(new RecordingStateMachine.Applied(next, "after-restart"));
    }

    // With a small snapshot interval and small segments, snapshots are taken, old ones and old
    // log segments are deleted, and a restart restores the latest snapshot then replays only the
    // entries after it: nothing lost, nothing applied twice.
    @Test
    void shouldSnapshotPurgeAndRestoreAfterRestart() throws Exception {
        int snapshotEvery = 50;
        int total = 520;
        RecordingStateMachine first = new RecordingStateMachine();
        RaftMetadataLog log = started(new RaftMetadataLog(settings(dir, 0, snapshotEvery), first, properties -> {
            RaftServerConfigKeys.Log.setSegmentSizeMax(properties, SizeInBytes.valueOf("4KB"));
            RaftServerConfigKeys.Log.setPreallocatedSize(properties, SizeInBytes.valueOf("4KB"));
        }));
        for (int batch = 0; batch < total / 20; batch++) {
            appendAll(log, "b" + batch + "-", 20);
        }
        List<RecordingStateMachine.Applied> before = first.state();
        assertThat(before).hasSize(total);
        assertThat(first.applyThread().getName()).contains("StateMachineUpdater");
        log.close(false);

        Path groupDir;
        try (Stream<Path> groups = Files.list(dir.resolve(RaftMetadataLog.RAFT_DIR))) {
            groupDir = groups.filter(Files::isDirectory).findFirst().orElseThrow();
        }
        List<String> snapshots = list(groupDir.resolve("sm"), "snapshot\\.\\d+_\\d+");
        assertThat(snapshots).hasSizeBetween(1, RatisProperties.SNAPSHOTS_RETAINED);
        List<String> segments = list(groupDir.resolve("current"), "log_.*");
        assertThat(segments).as("segments starting at index 0 are purged").noneMatch(name -> name.startsWith("log_0-"));

        RecordingStateMachine second = new RecordingStateMachine();
        RaftMetadataLog reopened = started(new RaftMetadataLog(settings(dir, 0, snapshotEvery), second));
        assertThat(second.restores()).isEqualTo(1);
        assertThat(second.restoredUpTo()).isGreaterThan(before.get(total - 2 * snapshotEvery).index());
        assertThat(second.state()).isEqualTo(before);
        assertThat(second.appliedThisProcess()).allMatch(a -> a.index() > second.restoredUpTo());
        // The last snapshot may or may not cover the final entries (it is taken asynchronously), so the replay after it
        // is between zero and one snapshot interval long.
        assertThat(second.appliedThisProcess()).hasSizeLessThanOrEqualTo(snapshotEvery);
        assertThat(reopened.lastAppliedIndex()).isGreaterThanOrEqualTo(before.getLast().index());
    }

    // A clean close snapshots everything applied, so the next start restores and replays nothing.
    @Test
    void shouldSnapshotOnCleanClose() {
        RecordingStateMachine first = new RecordingStateMachine();
        RaftMetadataLog log = started(new RaftMetadataLog(settings(dir, 0, 10_000), first));
        appendAll(log, "c", 300);
        log.close();

        RecordingStateMachine second = new RecordingStateMachine();
        started(new RaftMetadataLog(settings(dir, 0, 10_000), second));
        assertThat(second.restores()).isEqualTo(1);
        assertThat(second.appliedThisProcess()).isEmpty();
        assertThat(second.state()).isEqualTo(first.state());
    }

    private static List<String> list(Path dir, String regex) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.matches(regex)).sorted().toList();
        }
    }

    // The stored Raft configuration keeps the first address; a single peer never calls itself, so
    // a restart on another port works and binds the new port.
    @Test
    void shouldRestartOnDifferentPort() throws Exception {
        int firstPort = freePort();
        RecordingStateMachine first = new RecordingStateMachine();
        RaftMetadataLog log = started(new RaftMetadataLog(settings(dir, firstPort, 10_000), first));
        assertThat(log.rpcAddress().getPort()).isEqualTo(firstPort);
        appendAll(log, "a", 10);
        log.close();

        int secondPort = freePort();
        RecordingStateMachine second = new RecordingStateMachine();
        RaftMetadataLog reopened = started(new RaftMetadataLog(settings(dir, secondPort, 10_000), second));
        assertThat(reopened.rpcAddress().getPort()).isEqualTo(secondPort);
        appendAll(reopened, "b", 10);
        assertThat(second.entries()).containsExactlyElementsOf(
                Stream.concat(Stream.iterate(0, i -> i + 1).limit(10).map(i -> "a" + i),
                        Stream.iterate(0, i -> i + 1).limit(10).map(i -> "b" + i)).toList());
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    // Closing with thousands of appends in flight completes every future, successfully or with
    // CLOSED, and every acknowledged entry survives a restart.
    @Test
    void shouldCompleteEveryPendingAppendOnClose() {
        RecordingStateMachine first = new RecordingStateMachine();
        RaftMetadataLog log = started(new RaftMetadataLog(settings(dir, 0, 10_000), first));
        List<CompletableFuture<Long>> futures = new ArrayList<>();
        for (int i = 0; i < 3_000; i++) {
            futures.add(log.append(bytes("e" + i)));
        }
        log.close();

        CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).handle((v, e) -> null)
                .orTimeout(10, TimeUnit.SECONDS).join();
        List<String> acknowledged = new ArrayList<>();
        for (int i = 0; i < futures.size(); i++) {
            CompletableFuture<Long> future = futures.get(i);
            assertThat(future).isDone();
            if (future.isCompletedExceptionally()) {
                assertThatThrownBy(future::join).isInstanceOf(CompletionException.class)
                        .cause().isInstanceOf(MetadataLogException.class);
            } else {
                acknowledged.add("e" + i);
            }
        }
        assertThat(log.append(bytes("late"))).failsWithin(Duration.ofSeconds(1))
                .withThrowableThat().havingCause().isInstanceOf(MetadataLogException.class)
                .satisfies(e -> assertThat(((MetadataLogException) e).reason())
                        .isEqualTo(MetadataLogException.Reason.CLOSED));

        RecordingStateMachine second = new RecordingStateMachine();
        started(new RaftMetadataLog(settings(dir, 0, 10_000), second));
        assertThat(second.entries()).containsAll(acknowledged);
        assertThat(second.entries()).doesNotHaveDuplicates();
    }

    // Appending before start fails fast; start twice is refused; close is idempotent.
    @Test
    void shouldRefuseMisuse() {
        RaftMetadataLog log = new RaftMetadataLog(settings(dir, 0, 10_000), new RecordingStateMachine());
        opened.add(log);
        assertThat(log.append(bytes("x"))).isCompletedExceptionally();
        assertThat(log.isLeader()).isFalse();
        log.start();
        assertThatThrownBy(log::start).isInstanceOf(IllegalStateException.class);
        log.close();
        log.close();
        assertThat(log.isLeader()).isFalse();
    }

    // A directory created by one node id cannot be opened as another.
    @Test
    void shouldRejectDirectoryOfAnotherNode() {
        started(new RaftMetadataLog(settings(dir, 0, 10_000), new RecordingStateMachine())).close();
        RaftMetadataLog other = new RaftMetadataLog(
                new RaftSettings(dir, 2, "127.0.0.1", 0, 10_000, Duration.ofSeconds(5)), new RecordingStateMachine());
        opened.add(other);
        assertThatThrownBy(other::start).isInstanceOf(MetadataLogException.class)
                .hasMessageContaining("belongs to node 1");
    }

    // When leadership does not come in time, start() fails with a message saying where it stood.
    @Test
    void shouldFailStartOnTimeoutWithClearMessage() {
        RaftSettings settings = new RaftSettings(dir, 1, "127.0.0.1", 0, 10_000, Duration.ofMillis(300));
        RaftMetadataLog log = new RaftMetadataLog(settings, new RecordingStateMachine(), properties -> {
            RaftServerConfigKeys.Rpc.setFirstElectionTimeoutMin(properties, TimeDuration.valueOf(5, TimeUnit.SECONDS));
            RaftServerConfigKeys.Rpc.setFirstElectionTimeoutMax(properties, TimeDuration.valueOf(5, TimeUnit.SECONDS));
        });
        opened.add(log);
        assertThatThrownBy(log::start).isInstanceOf(MetadataLogException.class)
                .hasMessageContaining("did not become a ready leader within 300 ms")
                .hasMessageContaining("role=FOLLOWER")
                .satisfies(e -> assertThat(((MetadataLogException) e).reason())
                        .isEqualTo(MetadataLogException.Reason.START_TIMEOUT));
    }

    // Entries far larger than typical metadata records go through unchanged.
    @Test
    void shouldAppendLargeEntry() {
        RecordingStateMachine machine = new RecordingStateMachine();
        RaftMetadataLog log = started(new RaftMetadataLog(settings(dir, 0, 10_000), machine));
        String large = "x".repeat(1 << 20);
        long index = log.append(bytes(large)).join();
        assertThat(machine.state().getLast()).isEqualTo(new RecordingStateMachine.Applied(index, large));
    }

    // Ratis' shaded Netty and the broker's io.netty native epoll live side by side.
    @Test
    void shouldCoexistWithBrokerNetty() {
        started(new RaftMetadataLog(settings(dir, 0, 10_000), new RecordingStateMachine()));
        assertThat(io.netty.channel.epoll.Epoll.isAvailable())
                .as("io.netty epoll: %s", io.netty.channel.epoll.Epoll.unavailabilityCause()).isTrue();
    }

    // A restart of a populated directory restores the snapshot and replays the rest (how long it takes is a
    // benchmark figure in docs/metadata-log.md, not something a unit test can assert on).
    @Test
    void shouldRestartPopulatedDirectory() {
        timeStart(new RecordingStateMachine(), 1_000);
        RaftMetadataLog log = opened.getLast();
        appendAll(log, "p", 2_500);
        log.close();
        RecordingStateMachine machine = new RecordingStateMachine();
        long populatedMs = timeStart(machine, 1_000);
        RaftMetadataLog reopened = opened.getLast();
        assertThat(reopened.lastAppliedIndex()).isGreaterThanOrEqualTo(2_500);
        assertThat(machine.entries()).hasSize(2_500).startsWith("p0").endsWith("p2499");
        System.out.printf("metadata log start-up, populated dir (2500 entries): %d ms%n", populatedMs);
    }

    private long timeStart(RecordingStateMachine machine, long snapshotEvery) {
        long startNs = System.nanoTime();
        started(new RaftMetadataLog(settings(dir, 0, snapshotEvery), machine));
        return (System.nanoTime() - startNs) / 1_000_000;
    }
}
