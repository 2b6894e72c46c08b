package io.gregor.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LogRetentionTest {

    private static final long START_MS = 1_700_000_000_000L;
    private static final int BATCH_BYTES = 200;
    private static final LogConfig CONFIG = LogConfig.defaults().withSegmentBytes(1000).withIndexIntervalBytes(100).withMaxIndexBytes(1024);

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

    private Log open(LogConfig config) {
        log = Log.open(root.resolve("topic-0"), config, time, FailureProbe.NONE, true);
        return log;
    }

    /** Appends 1-record batches of 200 bytes (5 per segment) with timestamps START_MS + i * 1000. */
    private void appendBatches(int count) {
        for (int i = 0; i < count; i++) {
            log.append(TestBatches.batch(1, BATCH_BYTES - RecordBatchHeader.HEADER_SIZE, START_MS + i * 1000L), 0);
        }
        log.updateHighWatermark(log.logEndOffset());
    }

    @Test
    void shouldDeleteSegmentsOlderThanRetentionMs() {
        // Segments whose newest batch is older than retention.ms go; the segment holding newer data and the active one stay.
        open(CONFIG.withRetentionMs(10_000));
        appendBatches(20);
        assertThat(log.numberOfSegments()).isEqualTo(4);
        time.advance(20_000);
        assertThat(log.applyRetention()).isEqualTo(2);
        assertThat(log.logStartOffset()).isEqualTo(10);
        assertThat(log.numberOfSegments()).isEqualTo(2);
        assertThatThrownBy(() -> log.read(9, 100, Long.MAX_VALUE, true)).isInstanceOf(OffsetOutOfRangeException.class);
        assertThat(log.read(10, 100, Long.MAX_VALUE, true).firstOffset()).isEqualTo(10);
    }

    @Test
    void shouldDeleteOldestSegmentsBeyondRetentionBytes() {
        // With retention.bytes 2500 and 4000 bytes stored, the oldest segments go while the rest stays at or above the limit.
        open(CONFIG.withRetentionBytes(2500));
        appendBatches(20);
        assertThat(log.applyRetention()).isEqualTo(1);
        assertThat(log.sizeInBytes()).isEqualTo(3000);
        assertThat(log.logStartOffset()).isEqualTo(5);
        assertThat(log.applyRetention()).isZero();
    }

    @Test
    void shouldNotDeleteSegmentsAboveHighWatermark() {
        // Retention waits until the high watermark has passed a segment.
        open(CONFIG.withRetentionBytes(0));
        appendBatches(20);
        log.updateHighWatermark(6);
        assertThat(log.applyRetention()).isEqualTo(1);
        assertThat(log.logStartOffset()).isEqualTo(5);
    }

    @Test
    void shouldKeepDeletedSegmentReadableUntilDeleteDelay() throws IOException {
        // A slice taken before retention stays readable until file.delete.delay.ms passes, then the file is gone.
        open(CONFIG.withRetentionBytes(0).withFileDeleteDelayMs(1000));
        appendBatches(10);
        FetchSlice slice = log.read(0, 1000, Long.MAX_VALUE, false);
        assertThat(log.applyRetention()).isEqualTo(1);
        assertThat(TestBatches.bytesOf(slice).remaining()).isEqualTo(1000);
        assertThat(Files.exists(SegmentFiles.deleted(SegmentFiles.logFile(log.dir(), 0)))).isTrue();
        time.advance(1001);
        log.applyRetention();
        assertThat(slice.channel().isOpen()).isFalse();
        assertThat(Files.exists(SegmentFiles.deleted(SegmentFiles.logFile(log.dir(), 0)))).isFalse();
    }

    @Test
    void shouldPersistDeleteRecordsAcrossReopen() {
        // DeleteRecords to offset 7 removes the first segment, and the log start offset 7 survives a restart.
        open(CONFIG);
        appendBatches(20);
        log.assignEpoch(3, 12);
        log.deleteRecordsBefore(7);
        assertThat(log.logStartOffset()).isEqualTo(7);
        assertThat(log.numberOfSegments()).isEqualTo(3);
        assertThatThrownBy(() -> log.read(6, 100, Long.MAX_VALUE, true)).isInstanceOf(OffsetOutOfRangeException.class);
        log.close();
        open(CONFIG);
        assertThat(log.logStartOffset()).isEqualTo(7);
        assertThat(log.read(7, 100, Long.MAX_VALUE, true).firstOffset()).isEqualTo(7);
        assertThat(log.endOffsetForEpoch(0)).isEqualTo(new EpochEndOffset(0, 12));
    }

    @Test
    void shouldRefuseDeleteRecordsBeyondHighWatermark() {
        // DeleteRecords cannot pass the high watermark.
        open(CONFIG);
        appendBatches(5);
        log.updateHighWatermark(3);
        assertThatThrownBy(() -> log.deleteRecordsBefore(4)).isInstanceOf(IllegalArgumentException.class);
        assertThat(log.logStartOffset()).isZero();
    }

    @Test
    void shouldPersistLogStartOffsetAfterRetention() {
        // Retention's new log start offset is persisted too.
        open(CONFIG.withRetentionBytes(0));
        appendBatches(12);
        assertThat(log.applyRetention()).isEqualTo(2);
        log.close();
        open(CONFIG);
        assertThat(log.logStartOffset()).isEqualTo(10);
        assertThat(log.logEndOffset()).isEqualTo(12);
    }
}
