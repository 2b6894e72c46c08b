package io.gregor.storage;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LogRecoveryTest {

    private static final long START_MS = 1_700_000_000_000L;
    private static final LogConfig CONFIG = LogConfig.defaults().withSegmentBytes(2048).withIndexIntervalBytes(128).withMaxIndexBytes(4096);

    @TempDir
    Path root;

    private final MockTime time = new MockTime(START_MS);
    private Log log;

    @AfterEach
    void tearDown() {
        if (log != null) {
            log.close();
        }
    }

    private Path dir() {
        return root.resolve("topic-0");
    }

    private Log open(boolean clean) {
        log = Log.open(dir(), CONFIG, time, FailureProbe.NONE, clean);
        return log;
    }

    /** Appends {@code count} batches of 2 records each, returns their base offsets. */
    private List<Long> appendBatches(int count) {
        List<Long> bases = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            bases.add(log.append(TestBatches.batch(2, 90, START_MS + i), 0).firstOffset());
        }
        return bases;
    }

    /** Simulates a crash: files stay as written, indexes stay preallocated, no checkpoints at close. */
    private void crash() {
        log.markDeleted();
        log.releaseHandles();
        log = null;
    }

    private Path lastSegmentFile() throws IOException {
        try (var files = Files.list(dir())) {
            return files.filter(file -> file.toString().endsWith(".log")).sorted().reduce((first, second) -> second).orElseThrow();
        }
    }

    private void assertReadable(long fromOffset, long endOffset) throws IOException {
        for (long offset = fromOffset; offset < endOffset; offset++) {
            ByteBuffer bytes = TestBatches.bytesOf(log.read(offset, 1, Long.MAX_VALUE, true));
            long base = RecordBatchHeader.baseOffset(bytes, 0);
            assertThat(base).isBetween(offset - 1, offset);
            RecordBatchHeader.validateContent(bytes, 0, bytes.remaining(), true);
        }
    }

    @Test
    void recoveryRebuildsLeaderEpochsThatOnlyTheLostEpochFileHad() throws IOException {
        // A new leader's epoch 7 starts at the log end, so its entry waits for the next flush; records of epoch 7
        // reached the disk (the kernel wrote them back) but the node died before that flush: recovery finds the
        // epoch in the batches.
        open(true);
        log.append(TestBatches.batch(2, 90, START_MS), 2);
        log.flush();
        List<String> beforeEpoch7 = Files.readAllLines(dir().resolve("leader-epoch-checkpoint"));
        log.assignEpoch(7, log.logEndOffset());
        log.append(TestBatches.batch(2, 90, START_MS), 7);
        log.append(TestBatches.batch(2, 90, START_MS), 7);
        assertThat(Files.readAllLines(dir().resolve("leader-epoch-checkpoint"))).isEqualTo(beforeEpoch7);
        crash();
        open(false);
        assertThat(log.logEndOffset()).isEqualTo(6);
        assertThat(log.latestEpoch()).isEqualTo(7);
        assertThat(log.endOffsetForEpoch(2)).isEqualTo(new EpochEndOffset(2, 2));
        assertThat(log.endOffsetForEpoch(7)).isEqualTo(new EpochEndOffset(7, 6));
        assertThat(Files.readAllLines(dir().resolve("leader-epoch-checkpoint"))).as("written after recovery")
                .containsExactly("0", "2", "2 0", "7 2");
    }

    @Test
    void shouldTruncateTornTailAfterUncleanShutdown() throws IOException {
        // The last batch is cut in half by a crash: recovery drops it and keeps everything before it.
        open(true);
        appendBatches(40);
        long end = log.logEndOffset();
        crash();
        Path last = lastSegmentFile();
        try (FileChannel channel = FileChannel.open(last, StandardOpenOption.WRITE)) {
            channel.truncate(channel.size() - 40);
        }
        open(false);
        assertThat(log.logEndOffset()).isEqualTo(end - 2);
        assertReadable(0, end - 2);
        assertThat(log.append(TestBatches.batch(1, 10, START_MS), 0).firstOffset()).isEqualTo(end - 2);
    }

    @Test
    void shouldTruncateAtCorruptBatchInMiddleOfLastSegment() throws IOException {
        // A flipped byte in a batch in the middle of the active segment truncates the log at that batch.
        open(true);
        appendBatches(45);
        Path last = lastSegmentFile();
        long segmentBase = Long.parseLong(last.getFileName().toString().substring(0, 20));
        crash();
        int batchSize = TestBatches.batch(2, 90, 0).remaining();
        long segmentBatches = Files.size(last) / batchSize;
        assertThat(segmentBatches).isGreaterThanOrEqualTo(3);
        long corruptBatch = segmentBatches / 2;
        try (FileChannel channel = FileChannel.open(last, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer one = ByteBuffer.allocate(1);
            long at = corruptBatch * batchSize + RecordBatchHeader.HEADER_SIZE + 5;
            channel.read(one, at);
            one.put(0, (byte) (one.get(0) ^ 0x40)).rewind();
            channel.write(one, at);
        }
        open(false);
        assertThat(log.logEndOffset()).isEqualTo(segmentBase + corruptBatch * 2);
        assertReadable(0, log.logEndOffset());
    }

    @Test
    void shouldDropLaterSegmentsWhenAnEarlierUnflushedSegmentIsCorrupt() throws IOException {
        // Corruption in an unflushed non-active segment truncates there and drops every later segment.
        open(true);
        appendBatches(60);
        assertThat(log.numberOfSegments()).isGreaterThan(3);
        crash();
        Path first;
        try (var files = Files.list(dir())) {
            first = files.filter(file -> file.toString().endsWith(".log")).sorted().findFirst().orElseThrow();
        }
        try (FileChannel channel = FileChannel.open(first, StandardOpenOption.WRITE)) {
            channel.write(ByteBuffer.wrap(new byte[] {1, 2, 3}), RecordBatchHeader.HEADER_SIZE + 200);
        }
        open(false);
        assertThat(log.numberOfSegments()).isEqualTo(1);
        assertThat(log.logEndOffset()).isEqualTo(2);
        assertReadable(0, 2);
    }

    @Test
    void shouldRebuildDeletedIndexesAfterCleanShutdown() throws IOException {
        // Index and time index files deleted by hand are rebuilt; reads and timestamp lookups still work.
        open(true);
        appendBatches(60);
        long end = log.logEndOffset();
        log.close();
        try (var files = Files.list(dir())) {
            for (Path file : files.filter(f -> f.toString().endsWith("index")).toList()) {
                Files.delete(file);
            }
        }
        open(true);
        assertThat(log.logEndOffset()).isEqualTo(end);
        assertReadable(0, end);
        assertThat(log.offsetForTimestamp(START_MS + 33)).isEqualTo(new TimestampOffset(START_MS + 33, 66));
    }

    @Test
    void shouldRebuildCorruptIndexAfterCleanShutdown() throws IOException {
        // An offset index overwritten with garbage fails its sanity check and is rebuilt from the segment.
        open(true);
        appendBatches(60);
        long end = log.logEndOffset();
        log.close();
        Path index = SegmentFiles.indexFile(dir(), 0);
        assertThat(Files.size(index)).isPositive();
        Files.write(index, new byte[(int) Files.size(index)]);
        open(true);
        assertThat(log.logEndOffset()).isEqualTo(end);
        assertReadable(0, end);
    }

    @Test
    void shouldKeepEveryFlushedRecordAfterUncleanRestart() throws IOException {
        // Flushed batches survive a crash; unflushed but intact batches are kept too.
        open(true);
        appendBatches(30);
        log.flush();
        long flushed = log.flushedOffset();
        appendBatches(5);
        long end = log.logEndOffset();
        crash();
        open(false);
        assertThat(log.logEndOffset()).isGreaterThanOrEqualTo(flushed).isEqualTo(end);
        assertThat(log.flushedOffset()).isEqualTo(end);
        assertReadable(0, end);
        assertThat(log.append(TestBatches.batch(1, 10, START_MS), 0).firstOffset()).isEqualTo(end);
    }

    @Test
    void shouldReopenCleanlyWithSameState() throws IOException {
        // A clean close and reopen keeps offsets, segments, timestamps and the active segment appendable.
        open(true);
        appendBatches(50);
        int segments = log.numberOfSegments();
        long end = log.logEndOffset();
        TimestampOffset max = log.maxTimestampAndOffset();
        log.close();
        open(true);
        assertThat(log.numberOfSegments()).isEqualTo(segments);
        assertThat(log.logEndOffset()).isEqualTo(end);
        assertThat(log.maxTimestampAndOffset()).isEqualTo(max);
        appendBatches(50);
        assertReadable(0, log.logEndOffset());
    }

    @Test
    void shouldRecoverIndexesOfActiveSegmentAfterCrash() throws IOException {
        // After a crash the preallocated index of the active segment is rebuilt and lookups land on the right batches.
        open(true);
        appendBatches(15);
        long end = log.logEndOffset();
        crash();
        open(false);
        assertReadable(0, end);
        assertThat(log.offsetForTimestamp(START_MS + 14)).isEqualTo(new TimestampOffset(START_MS + 14, 28));
    }
}
