package io.gregor.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LogManagerTest {

    private static final long START_MS = 1_700_000_000_000L;
    private static final LogConfig CONFIG = LogConfig.defaults().withSegmentBytes(1000).withIndexIntervalBytes(100).withMaxIndexBytes(1024);

    @TempDir
    Path logDir;

    private final MockTime time = new MockTime(START_MS);

    private LogManager newManager() {
        return new LogManager(logDir, time, FailureProbe.NONE);
    }

    private static void fill(Log log, int batches) {
        for (int i = 0; i < batches; i++) {
            log.append(TestBatches.batch(1, 139, START_MS + i), 0);
        }
    }

    @Test
    void shouldWriteCleanShutdownMarkerOnCloseAndRemoveItAtOpen() {
        // First start is unclean (no marker); after close the next start is clean and the marker is consumed.
        try (LogManager manager = newManager()) {
            assertThat(manager.hadCleanShutdown()).isFalse();
            fill(manager.getOrCreate("orders", 0, CONFIG), 3);
        }
        assertThat(Files.exists(logDir.resolve(LogManager.CLEAN_SHUTDOWN_FILE))).isTrue();
        try (LogManager manager = newManager()) {
            assertThat(manager.hadCleanShutdown()).isTrue();
            assertThat(Files.exists(logDir.resolve(LogManager.CLEAN_SHUTDOWN_FILE))).isFalse();
            assertThat(manager.existingPartitionDirs()).containsExactly("orders-0");
            assertThat(manager.get("orders", 0)).isNull();
            assertThat(manager.getOrCreate("orders", 0, CONFIG).logEndOffset()).isEqualTo(3);
        }
    }

    @Test
    void shouldRefuseASecondOpenOfTheSameDirectory() {
        // The directory lock keeps a second manager out until the first closes.
        try (LogManager manager = newManager()) {
            assertThatThrownBy(this::newManager).isInstanceOf(KafkaStorageException.class).hasMessageContaining("locked");
        }
        newManager().close();
    }

    @Test
    void shouldNotLoseDataWhenIndexesAreDeletedWhileStopped() throws IOException {
        // Index files removed by hand between runs are rebuilt and every offset is still readable.
        try (LogManager manager = newManager()) {
            fill(manager.getOrCreate("t", 1, CONFIG), 30);
        }
        try (var files = Files.list(logDir.resolve("t-1"))) {
            for (Path file : files.filter(f -> f.toString().endsWith("index")).toList()) {
                Files.delete(file);
            }
        }
        try (LogManager manager = newManager()) {
            Log log = manager.getOrCreate("t", 1, CONFIG);
            assertThat(log.logEndOffset()).isEqualTo(30);
            for (long offset = 0; offset < 30; offset++) {
                assertThat(log.read(offset, 1, Long.MAX_VALUE, true).firstOffset()).isEqualTo(offset);
            }
        }
    }

    @Test
    void shouldDeletePartitionDirectoryAfterDelay() throws Exception {
        // Deleting a partition renames its directory at once and removes it after file.delete.delay.ms.
        try (LogManager manager = newManager()) {
            Log log = manager.getOrCreate("gone", 0, CONFIG.withFileDeleteDelayMs(50));
            fill(log, 3);
            FetchSlice slice = log.read(0, 1000, Long.MAX_VALUE, false);
            manager.delete("gone", 0);
            assertThat(manager.get("gone", 0)).isNull();
            assertThat(manager.existingPartitionDirs()).isEmpty();
            assertThat(TestBatches.bytesOf(slice).remaining()).isEqualTo(600);
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (Files.list(logDir).anyMatch(p -> p.getFileName().toString().endsWith("-delete")) && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            try (var entries = Files.list(logDir)) {
                assertThat(entries.filter(Files::isDirectory)).isEmpty();
            }
            assertThatThrownBy(() -> log.append(TestBatches.batch(1, 10, START_MS), 0)).isInstanceOf(KafkaStorageException.class);
        }
    }

    @Test
    void shouldRemoveLeftoverDeletedDirectoriesAtStart() throws IOException {
        // A "-delete" directory left by a crash is removed when the manager starts.
        Files.createDirectories(logDir.resolve("x-0.abc-delete"));
        Files.writeString(logDir.resolve("x-0.abc-delete").resolve("00000000000000000000.log"), "junk");
        try (LogManager manager = newManager()) {
            assertThat(Files.exists(logDir.resolve("x-0.abc-delete"))).isFalse();
        }
    }

    @Test
    void shouldApplyRetentionToEveryLog() {
        // runRetention trims each log by its own config.
        try (LogManager manager = newManager()) {
            Log a = manager.getOrCreate("a", 0, CONFIG.withRetentionBytes(0));
            Log b = manager.getOrCreate("b", 0, CONFIG);
            fill(a, 12);
            fill(b, 12);
            a.updateHighWatermark(12);
            b.updateHighWatermark(12);
            manager.runRetention();
            assertThat(a.logStartOffset()).isEqualTo(10);
            assertThat(b.logStartOffset()).isZero();
            assertThat(manager.logs()).hasSize(2);
        }
    }

    @Test
    void shouldRecoverAfterUncleanShutdown() throws IOException {
        // Without the marker the logs recover their tails; a torn tail is dropped.
        try (LogManager manager = newManager()) {
            fill(manager.getOrCreate("t", 0, CONFIG), 4);
        }
        Files.delete(logDir.resolve(LogManager.CLEAN_SHUTDOWN_FILE));
        Path segment = SegmentFiles.logFile(logDir.resolve("t-0"), 0);
        Files.write(segment, new byte[] {0, 0, 0, 0, 0, 0, 0, 9, 0, 0}, java.nio.file.StandardOpenOption.APPEND);
        try (LogManager manager = newManager()) {
            assertThat(manager.hadCleanShutdown()).isFalse();
            Log log = manager.getOrCreate("t", 0, CONFIG);
            assertThat(log.logEndOffset()).isEqualTo(4);
            assertThat(Files.size(segment)).isEqualTo(800);
        }
    }
}
