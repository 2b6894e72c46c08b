package io.gregor.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LogTest {

    private static final long START_MS = 1_700_000_000_000L;

    @TempDir
    Path dir;

    private final MockTime time = new MockTime(START_MS);
    private Log log;

    @AfterEach
    void tearDown() {
        if (log != null) {
            log.close();
        }
    }

    private Log open(LogConfig config) {
        return open(config, FailureProbe.NONE);
    }

    private Log open(LogConfig config, FailureProbe probe) {
        log = Log.open(dir.resolve("topic-0"), config, time, probe, true);
        return log;
    }

    private static LogConfig smallSegments() {
        return LogConfig.defaults().withSegmentBytes(1024).withIndexIntervalBytes(100).withMaxIndexBytes(4096);
    }

    @Test
    void shouldReadBackEveryBatchAcrossManySegmentRolls() throws IOException {
        // Appending 200 batches into 1 KiB segments and reading from every offset returns the batch holding it.
        open(smallSegments());
        List<Long> bases = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            LogAppendInfo info = log.append(TestBatches.batch(1 + i % 3, 40 + i % 50, START_MS + i), 0);
            bases.add(info.firstOffset());
            assertThat(info.lastOffset()).isEqualTo(info.firstOffset() + i % 3);
        }
        assertThat(log.numberOfSegments()).isGreaterThan(10);
        for (int i = 0; i < bases.size(); i++) {
            for (long offset = bases.get(i); offset < (i + 1 < bases.size() ? bases.get(i + 1) : log.logEndOffset()); offset++) {
                FetchSlice slice = log.read(offset, 1, Long.MAX_VALUE, true);
                ByteBuffer bytes = TestBatches.bytesOf(slice);
                assertThat(slice.firstOffset()).isEqualTo(bases.get(i));
                assertThat(TestBatches.baseOffsets(bytes)).containsExactly(bases.get(i));
                RecordBatchHeader.validateContent(bytes, 0, bytes.remaining(), true);
            }
        }
        assertThat(log.read(log.logEndOffset(), 1000, Long.MAX_VALUE, true)).isEqualTo(FetchSlice.EMPTY);
    }

    @Test
    void shouldStampOffsetsAndLeaderEpochInPlace() {
        // Two batches in one append get consecutive base offsets and the leader epoch; the CRC stays valid.
        open(LogConfig.defaults());
        ByteBuffer records = TestBatches.concat(TestBatches.batch(3, 10, START_MS), TestBatches.batch(2, 10, START_MS + 5));
        LogAppendInfo info = log.append(records, 7);
        assertThat(info.firstOffset()).isZero();
        assertThat(info.lastOffset()).isEqualTo(4);
        assertThat(info.recordCount()).isEqualTo(5);
        assertThat(info.maxTimestamp()).isEqualTo(START_MS + 5);
        assertThat(info.offsetOfMaxTimestamp()).isEqualTo(3);
        assertThat(info.logAppendTimeMs()).isEqualTo(-1);
        assertThat(TestBatches.baseOffsets(records)).containsExactly(0L, 3L);
        assertThat(records.getInt(RecordBatchHeader.PARTITION_LEADER_EPOCH)).isEqualTo(7);
        assertThat(log.latestEpoch()).isEqualTo(7);
        assertThat(log.logEndOffset()).isEqualTo(5);
    }

    @Test
    void shouldStampLogAppendTimeAndRecomputeCrc() throws IOException {
        // With LogAppendTime the stored batch carries the broker time, the timestamp-type bit and a valid CRC.
        open(LogConfig.defaults().withLogAppendTime(true));
        LogAppendInfo info = log.append(TestBatches.batch(2, 20, 5L), 0);
        assertThat(info.logAppendTimeMs()).isEqualTo(START_MS);
        ByteBuffer stored = TestBatches.bytesOf(log.read(0, 10_000, Long.MAX_VALUE, false));
        assertThat(RecordBatchHeader.maxTimestamp(stored, 0)).isEqualTo(START_MS);
        assertThat(stored.getShort(RecordBatchHeader.ATTRIBUTES) & 0x8).isEqualTo(8);
        RecordBatchHeader.validateContent(stored, 0, stored.remaining(), true);
    }

    @Test
    void shouldHonourMaxBytesMinOneBatchAndMaxOffset() {
        // Ten 100-byte batches: maxBytes cuts at whole batches, minOneBatch returns an oversized first batch, maxOffset stops early.
        open(LogConfig.defaults());
        for (int i = 0; i < 10; i++) {
            log.append(TestBatches.batch(1, 100 - RecordBatchHeader.HEADER_SIZE, START_MS), 0);
        }
        assertThat(log.read(2, 350, Long.MAX_VALUE, false).size()).isEqualTo(300);
        assertThat(log.read(2, 350, Long.MAX_VALUE, false).lastOffset()).isEqualTo(4);
        assertThat(log.read(2, 50, Long.MAX_VALUE, false).isEmpty()).isTrue();
        FetchSlice one = log.read(2, 50, Long.MAX_VALUE, true);
        assertThat(one.size()).isEqualTo(100);
        assertThat(one.firstOffset()).isEqualTo(2);
        assertThat(log.read(2, 10_000, 5, false).lastOffset()).isEqualTo(4);
        assertThat(log.read(2, 10_000, 2, true).isEmpty()).isTrue();
    }

    @Test
    void shouldCutReadsAtWholeBatchesWhereverTheIndexLetsThemSkipHeaders() throws IOException {
        // Batches of mixed sizes and record counts in one segment with an entry about every 100 bytes: every read
        // (start offset, byte limit, offset limit) returns exactly the whole batches a walk of every header would.
        open(LogConfig.defaults().withIndexIntervalBytes(100));
        java.util.Random random = new java.util.Random(11);
        List<long[]> batches = new ArrayList<>(); // base offset, last offset, size
        for (int i = 0; i < 300; i++) {
            int records = 1 + random.nextInt(4);
            ByteBuffer batch = TestBatches.batch(records, 20 + random.nextInt(400), START_MS);
            int size = batch.remaining();
            LogAppendInfo info = log.append(batch, 0);
            batches.add(new long[] {info.firstOffset(), info.lastOffset(), size});
        }
        assertThat(log.numberOfSegments()).isEqualTo(1);
        for (int trial = 0; trial < 3000; trial++) {
            int from = random.nextInt(batches.size());
            long start = batches.get(from)[0] + random.nextInt((int) (batches.get(from)[1] - batches.get(from)[0] + 1));
            int maxBytes = 1 + random.nextInt(20_000);
            long maxOffset = random.nextInt(4) == 0 ? Long.MAX_VALUE : start + random.nextInt(600);
            long expectedLast = -1;
            long bytes = 0;
            List<Long> expectedBases = new ArrayList<>();
            for (int i = from; i < batches.size(); i++) {
                long[] b = batches.get(i);
                boolean first = i == from;
                if (!first && (b[0] >= maxOffset || bytes + b[2] > maxBytes)) {
                    break;
                }
                if (first && (b[0] >= maxOffset)) {
                    break;
                }
                bytes += b[2];
                expectedLast = b[1];
                expectedBases.add(b[0]);
            }
            FetchSlice slice = log.read(start, maxBytes, maxOffset, true);
            if (expectedLast < 0) {
                assertThat(slice.isEmpty()).as("trial %d", trial).isTrue();
                continue;
            }
            assertThat(slice.size()).as("trial %d: bytes from %d, %d bytes, below %d", trial, start, maxBytes, maxOffset)
                    .isEqualTo((int) bytes);
            assertThat(slice.firstOffset()).isEqualTo(batches.get(from)[0]);
            assertThat(slice.lastOffset()).isEqualTo(expectedLast);
            assertThat(TestBatches.baseOffsets(TestBatches.bytesOf(slice))).as("trial %d", trial)
                    .containsExactlyElementsOf(expectedBases);
        }
    }

    @Test
    void shouldRejectOffsetsOutOfRange() {
        // Reading beyond the log end offset fails; reading at it returns nothing.
        open(LogConfig.defaults());
        log.append(TestBatches.batch(5, 10, START_MS), 0);
        assertThat(log.read(5, 100, Long.MAX_VALUE, true).isEmpty()).isTrue();
        assertThatThrownBy(() -> log.read(6, 100, Long.MAX_VALUE, true)).isInstanceOf(OffsetOutOfRangeException.class);
        assertThatThrownBy(() -> log.read(-1, 100, Long.MAX_VALUE, true)).isInstanceOf(OffsetOutOfRangeException.class);
    }

    @Test
    void shouldRejectCorruptBatchesAndAppendNothing() {
        // A flipped payload byte, a wrong magic, an inconsistent count or a bad length is rejected and the log is unchanged.
        open(LogConfig.defaults());
        log.append(TestBatches.batch(1, 10, START_MS), 0);
        ByteBuffer badCrc = TestBatches.batch(1, 10, START_MS);
        badCrc.put(RecordBatchHeader.HEADER_SIZE + 3, (byte) 99);
        ByteBuffer badMagic = TestBatches.batch(1, 10, START_MS);
        badMagic.put(RecordBatchHeader.MAGIC, (byte) 1);
        ByteBuffer badCount = TestBatches.batch(2, 10, START_MS);
        badCount.putInt(RecordBatchHeader.RECORD_COUNT, 3);
        TestBatches.fixCrc(badCount, 0);
        ByteBuffer badLength = TestBatches.batch(1, 10, START_MS);
        badLength.putInt(RecordBatchHeader.LENGTH, 500);
        ByteBuffer goodThenBad = TestBatches.concat(TestBatches.batch(1, 10, START_MS), badCrc);
        for (ByteBuffer bad : List.of(badCrc, badMagic, badCount, badLength, goodThenBad)) {
            assertThatThrownBy(() -> log.append(bad, 0)).isInstanceOf(CorruptRecordException.class);
        }
        assertThat(log.logEndOffset()).isEqualTo(1);
        assertThat(log.sizeInBytes()).isEqualTo(TestBatches.batch(1, 10, START_MS).remaining());
    }

    @Test
    void shouldRejectBatchLargerThanMaxMessageBytes() {
        // A 2000-byte batch is refused by a log with max.message.bytes 1000.
        open(LogConfig.defaults().withMaxMessageBytes(1000));
        assertThatThrownBy(() -> log.append(TestBatches.batch(1, 2000, START_MS), 0)).isInstanceOf(RecordTooLargeException.class);
        assertThat(log.logEndOffset()).isZero();
    }

    @Test
    void shouldStayValidAndAppendableAfterDiskFull() throws IOException {
        // A probe writes half a batch then fails like a full disk; the append fails, the tail is truncated, and later appends work.
        AtomicBoolean full = new AtomicBoolean();
        FailureProbe probe = new FailureProbe() {
            @Override
            public void beforeAppend(Path segment, int bytes) throws IOException {
                if (full.get()) {
                    try (FileChannel channel = FileChannel.open(segment, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
                        channel.write(ByteBuffer.allocate(bytes / 2));
                    }
                    throw new IOException("No space left on device");
                }
            }
        };
        open(smallSegments(), probe);
        for (int i = 0; i < 20; i++) {
            log.append(TestBatches.batch(2, 50, START_MS + i), 0);
        }
        long endBefore = log.logEndOffset();
        long sizeBefore = log.sizeInBytes();
        full.set(true);
        assertThatThrownBy(() -> log.append(TestBatches.batch(1, 50, START_MS), 0))
                .isInstanceOf(KafkaStorageException.class).hasMessageContaining("No space left");
        assertThat(log.logEndOffset()).isEqualTo(endBefore);
        assertThat(log.sizeInBytes()).isEqualTo(sizeBefore);
        full.set(false);
        LogAppendInfo info = log.append(TestBatches.batch(1, 50, START_MS), 0);
        assertThat(info.firstOffset()).isEqualTo(endBefore);
        assertThat(TestBatches.baseOffsets(TestBatches.bytesOf(log.read(endBefore, 1000, Long.MAX_VALUE, true)))).containsExactly(endBefore);
        log.close();
        open(smallSegments());
        assertThat(log.logEndOffset()).isEqualTo(endBefore + 1);
    }

    @Test
    void shouldFindOffsetsByTimestamp() {
        // Batches with increasing timestamps across segments: the lookup returns the first batch at or after the target.
        open(smallSegments());
        for (int i = 0; i < 100; i++) {
            log.append(TestBatches.batch(2, 60, START_MS + i * 10L), 0);
        }
        assertThat(log.offsetForTimestamp(START_MS)).isEqualTo(new TimestampOffset(START_MS, 0));
        assertThat(log.offsetForTimestamp(START_MS + 505)).isEqualTo(new TimestampOffset(START_MS + 510, 102));
        assertThat(log.offsetForTimestamp(START_MS + 990)).isEqualTo(new TimestampOffset(START_MS + 990, 198));
        assertThat(log.offsetForTimestamp(START_MS + 991)).isNull();
        assertThat(log.maxTimestampAndOffset()).isEqualTo(new TimestampOffset(START_MS + 990, 198));
    }

    @Test
    void shouldFindOffsetsByTimestampWhenTimestampsGoBackwards() {
        // A late batch with a small timestamp does not hide later batches from the lookup.
        open(smallSegments());
        long[] timestamps = {100, 300, 200, 250, 400, 50, 500};
        for (long timestamp : timestamps) {
            log.append(TestBatches.batch(1, 200, timestamp), 0);
        }
        assertThat(log.offsetForTimestamp(220)).isEqualTo(new TimestampOffset(300, 1));
        assertThat(log.offsetForTimestamp(450)).isEqualTo(new TimestampOffset(500, 6));
        assertThat(log.maxTimestampAndOffset()).isEqualTo(new TimestampOffset(500, 6));
    }

    @Test
    void shouldTrackFlushedOffsetAndFlushPolicy() {
        // flush.messages=3: two unflushed records do not need a flush, three do; flush advances the recovery point.
        open(LogConfig.defaults().withFlushMessages(3));
        log.append(TestBatches.batch(2, 10, START_MS), 0);
        assertThat(log.needsFlushByPolicy()).isFalse();
        log.append(TestBatches.batch(1, 10, START_MS), 0);
        assertThat(log.needsFlushByPolicy()).isTrue();
        log.flush();
        assertThat(log.flushedOffset()).isEqualTo(3);
        assertThat(log.needsFlushByPolicy()).isFalse();
        log.updateConfig(LogConfig.defaults().withFlushMs(1000));
        log.append(TestBatches.batch(1, 10, START_MS), 0);
        assertThat(log.needsFlushByPolicy()).isFalse();
        time.advance(1000);
        assertThat(log.needsFlushByPolicy()).isTrue();
    }

    @Test
    void shouldRollByTime() {
        // A segment older than segment.ms is rolled by maybeRoll and by the next append.
        open(LogConfig.defaults().withSegmentMs(1000));
        log.append(TestBatches.batch(1, 10, START_MS), 0);
        log.maybeRoll();
        assertThat(log.numberOfSegments()).isEqualTo(1);
        time.advance(1001);
        log.maybeRoll();
        assertThat(log.numberOfSegments()).isEqualTo(2);
        log.append(TestBatches.batch(1, 10, START_MS + 1001), 0);
        time.advance(1001);
        log.append(TestBatches.batch(1, 10, START_MS + 2002), 0);
        assertThat(log.numberOfSegments()).isEqualTo(3);
    }

    @Test
    void shouldMeasureSegmentMsBetweenRecordTimestampsAsKafka() {
        // Records with old timestamps (mirrored or replayed data) do not roll a segment per batch: segment.ms is
        // measured from the first batch's timestamp to the incoming one, not to the clock.
        open(LogConfig.defaults().withSegmentMs(1000));
        long old = START_MS - 86_400_000L;
        for (int i = 0; i < 20; i++) {
            log.append(TestBatches.batch(1, 10, old + i * 10), 0);
        }
        assertThat(log.numberOfSegments()).isEqualTo(1);
        log.append(TestBatches.batch(1, 10, old + 1001), 0);
        assertThat(log.numberOfSegments()).isEqualTo(2);
    }

    @Test
    void shouldClampHighWatermarkAndPersistIt() {
        // The high watermark is clamped to the log end offset and survives a clean restart.
        open(LogConfig.defaults());
        log.append(TestBatches.batch(4, 10, START_MS), 0);
        log.updateHighWatermark(100);
        assertThat(log.highWatermark()).isEqualTo(4);
        log.updateHighWatermark(3);
        log.close();
        open(LogConfig.defaults());
        assertThat(log.highWatermark()).isEqualTo(3);
    }

    @Test
    void shouldTruncateToAnOffset() throws IOException {
        // Follower truncation across segments removes later batches, keeps earlier ones, and appends continue from the cut.
        open(smallSegments());
        for (int i = 0; i < 50; i++) {
            log.append(TestBatches.batch(1, 100, START_MS + i), i < 25 ? 1 : 2);
        }
        log.truncateTo(20);
        assertThat(log.logEndOffset()).isEqualTo(20);
        assertThat(log.latestEpoch()).isEqualTo(1);
        assertThat(log.append(TestBatches.batch(1, 10, START_MS), 3).firstOffset()).isEqualTo(20);
        assertThat(TestBatches.baseOffsets(TestBatches.bytesOf(log.read(19, 100_000, Long.MAX_VALUE, true)))).contains(19L);
        log.close();
        open(smallSegments());
        assertThat(log.logEndOffset()).isEqualTo(21);
    }

    @Test
    void shouldCopyALeadersBatchesWithTheirOffsetsAndEpochs() throws IOException {
        // A follower appends what the leader's log holds: same offsets, same epochs, after a truncation too.
        open(smallSegments());
        Log leader = Log.open(dir.resolve("leader-0"), smallSegments(), time, FailureProbe.NONE, true);
        try {
            for (int i = 0; i < 30; i++) {
                leader.append(TestBatches.batch(1 + i % 2, 60, START_MS + i), i < 10 ? 0 : 4);
            }
            long offset = 0;
            while (offset < leader.logEndOffset()) {
                ByteBuffer chunk = TestBatches.bytesOf(leader.read(offset, 300, Long.MAX_VALUE, true));
                LogAppendInfo info = log.appendAsFollower(chunk);
                assertThat(info.firstOffset()).isEqualTo(offset);
                offset = info.lastOffset() + 1;
            }
            assertThat(log.logEndOffset()).isEqualTo(leader.logEndOffset());
            assertThat(log.latestEpoch()).isEqualTo(4);
            assertThat(log.endOffsetForEpoch(0)).isEqualTo(leader.endOffsetForEpoch(0));
            ByteBuffer all = TestBatches.bytesOf(log.read(0, Integer.MAX_VALUE, Long.MAX_VALUE, true));
            ByteBuffer original = TestBatches.bytesOf(leader.read(0, Integer.MAX_VALUE, Long.MAX_VALUE, true));
            assertThat(TestBatches.baseOffsets(all)).isEqualTo(TestBatches.baseOffsets(original));

            // Batches that do not start at the log end are refused; nothing is appended.
            ByteBuffer again = TestBatches.bytesOf(leader.read(0, 300, Long.MAX_VALUE, true));
            assertThatThrownBy(() -> log.appendAsFollower(again)).isInstanceOf(CorruptRecordException.class)
                    .hasMessageContaining("ends at " + leader.logEndOffset());
            assertThat(log.logEndOffset()).isEqualTo(leader.logEndOffset());

            long cut = leader.endOffsetForEpoch(0).endOffset();
            log.truncateTo(cut);
            assertThat(log.latestEpoch()).isZero();
            ByteBuffer rest = TestBatches.bytesOf(leader.read(cut, 300, Long.MAX_VALUE, true));
            assertThat(log.appendAsFollower(rest).firstOffset()).isEqualTo(cut);
            assertThat(log.latestEpoch()).isEqualTo(4);
        } finally {
            leader.close();
        }
    }

    @Test
    void shouldStartOverAtALeadersLogStartAndKeepItAcrossARestart() throws IOException {
        // A follower whose leader deleted the records it ends at empties its log and continues at the leader's start.
        open(smallSegments());
        for (int i = 0; i < 20; i++) {
            log.append(TestBatches.batch(1, 100, START_MS + i), 1);
        }
        log.truncateFullyAndStartAt(500);
        assertThat(log.logStartOffset()).isEqualTo(500);
        assertThat(log.logEndOffset()).isEqualTo(500);
        assertThat(log.latestEpoch()).isEqualTo(-1);
        assertThatThrownBy(() -> log.read(10, 1000, Long.MAX_VALUE, true)).isInstanceOf(OffsetOutOfRangeException.class);

        Log leader = Log.open(dir.resolve("leader-0"), smallSegments(), time, FailureProbe.NONE, true);
        try {
            leader.truncateFullyAndStartAt(500);
            leader.append(TestBatches.batch(3, 100, START_MS), 2);
            assertThat(log.appendAsFollower(TestBatches.bytesOf(leader.read(500, 10_000, Long.MAX_VALUE, true)))
                    .firstOffset()).isEqualTo(500);
        } finally {
            leader.close();
        }
        assertThat(log.logEndOffset()).isEqualTo(503);
        assertThat(log.latestEpoch()).isEqualTo(2);
        log.flush();
        log.close();
        open(smallSegments());
        assertThat(log.logStartOffset()).isEqualTo(500);
        assertThat(log.logEndOffset()).isEqualTo(503);
        assertThat(TestBatches.baseOffsets(TestBatches.bytesOf(log.read(500, 10_000, Long.MAX_VALUE, true))))
                .containsExactly(500L);
    }

    @Test
    void shouldFollowALeadersLogStartOnlyUpToTheHighWatermark() {
        open(smallSegments());
        for (int i = 0; i < 30; i++) {
            log.append(TestBatches.batch(1, 100, START_MS + i), 1);
        }
        log.updateHighWatermark(10);
        log.maybeAdvanceLogStartOffset(20);
        assertThat(log.logStartOffset()).as("not past the high watermark").isZero();
        log.updateHighWatermark(30);
        log.maybeAdvanceLogStartOffset(20);
        assertThat(log.logStartOffset()).isEqualTo(20);
        log.maybeAdvanceLogStartOffset(5);
        assertThat(log.logStartOffset()).as("never backwards").isEqualTo(20);
    }

    @Test
    void shouldRejectEmptyAppend() {
        // An empty buffer is not a batch.
        open(LogConfig.defaults());
        assertThatThrownBy(() -> log.append(ByteBuffer.allocate(0), 0)).isInstanceOf(CorruptRecordException.class);
        assertThat(Files.exists(dir.resolve("topic-0"))).isTrue();
    }
}
