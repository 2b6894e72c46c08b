package io.gregor.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.SimpleRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Idempotent producers on one log: duplicates, sequence and epoch checks, and the state across restarts. */
class ProducerStateTest {

    private static final long START_MS = 1_700_000_000_000L;
    private static final long PID = 4711;

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

    private Log open(boolean clean, LogConfig config) {
        log = Log.open(dir(), config, time, FailureProbe.NONE, clean);
        return log;
    }

    private Log open() {
        return open(true, LogConfig.defaults());
    }

    /** A batch of {@code count} records of producer {@code pid} starting at sequence {@code seq}. */
    private ByteBuffer batch(long pid, int epoch, int seq, int count) {
        SimpleRecord[] records = new SimpleRecord[count];
        for (int i = 0; i < count; i++) {
            records[i] = new SimpleRecord(time.milliseconds(), null, ("v" + seq + "-" + i).getBytes());
        }
        return MemoryRecords.withIdempotentRecords(Compression.NONE, pid, (short) epoch, seq, records).buffer();
    }

    private void crash() {
        log.markDeleted();
        log.releaseHandles();
        log = null;
    }

    @Test
    void aRetriedBatchIsAnsweredWithItsOriginalOffsetsAndNotStoredAgain() {
        open();
        LogAppendInfo first = log.append(batch(PID, 0, 0, 3), 0);
        LogAppendInfo second = log.append(batch(PID, 0, 3, 2), 0);
        assertThat(second.firstOffset()).isEqualTo(3);
        // The acknowledgement of the first batch was lost and the producer sends it again.
        LogAppendInfo retry = log.append(batch(PID, 0, 0, 3), 0);
        assertThat(retry.firstOffset()).isEqualTo(first.firstOffset());
        assertThat(retry.lastOffset()).isEqualTo(first.lastOffset());
        assertThat(retry.recordCount()).isZero();
        assertThat(log.logEndOffset()).isEqualTo(5);
        LogAppendInfo retrySecond = log.append(batch(PID, 0, 3, 2), 0);
        assertThat(retrySecond.firstOffset()).isEqualTo(3);
        assertThat(log.logEndOffset()).isEqualTo(5);
        // Another producer with the same sequence numbers is not a duplicate.
        assertThat(log.append(batch(PID + 1, 0, 0, 3), 0).firstOffset()).isEqualTo(5);
        assertThat(log.logEndOffset()).isEqualTo(8);
    }

    @Test
    void onlyTheLastFiveBatchesAreRecognised() {
        open();
        for (int i = 0; i < 6; i++) {
            log.append(batch(PID, 0, i, 1), 0);
        }
        assertThat(log.append(batch(PID, 0, 1, 1), 0).firstOffset()).as("batch 1 is among the last five").isEqualTo(1);
        assertThatThrownBy(() -> log.append(batch(PID, 0, 0, 1), 0))
                .as("batch 0 has left the window: it is out of sequence")
                .isInstanceOf(OutOfOrderSequenceException.class);
        assertThat(log.logEndOffset()).isEqualTo(6);
    }

    @Test
    void aGapOrAnOlderEpochIsRefusedAndNothingIsWritten() {
        open();
        log.append(batch(PID, 2, 0, 2), 0);
        assertThatThrownBy(() -> log.append(batch(PID, 2, 5, 1), 0)).isInstanceOf(OutOfOrderSequenceException.class)
                .hasMessageContaining("5 (incoming seq. number), 1 (current end sequence number)");
        assertThatThrownBy(() -> log.append(batch(PID, 1, 2, 1), 0)).isInstanceOf(InvalidProducerEpochException.class);
        assertThatThrownBy(() -> log.append(batch(PID, 3, 7, 1), 0)).as("a new epoch starts at sequence 0")
                .isInstanceOf(OutOfOrderSequenceException.class);
        // A refused batch in a multi-batch append refuses all of it.
        ByteBuffer mixed = TestBatches.concat(batch(PID, 2, 2, 1), batch(PID, 2, 9, 1));
        assertThatThrownBy(() -> log.append(mixed, 0)).isInstanceOf(OutOfOrderSequenceException.class);
        assertThat(log.logEndOffset()).isEqualTo(2);
        assertThat(log.append(batch(PID, 2, 2, 1), 0).firstOffset()).isEqualTo(2);
        assertThat(log.append(batch(PID, 3, 0, 1), 0).firstOffset()).as("epoch bump").isEqualTo(3);
        assertThatThrownBy(() -> log.append(batch(PID, 2, 3, 1), 0)).as("the old epoch is fenced")
                .isInstanceOf(InvalidProducerEpochException.class);
        // A producer this log has never seen may start anywhere (its earlier records may have been deleted).
        assertThat(log.append(batch(PID + 9, 0, 1234, 1), 0).firstOffset()).isEqualTo(4);
    }

    @Test
    void sequencesWrapAroundAfterIntegerMax() {
        open();
        log.append(batch(PID + 1, 0, 0, 1), 0); // the log is not empty: a producer unknown here may start anywhere
        log.append(batch(PID, 0, Integer.MAX_VALUE - 1, 2), 0);
        assertThat(log.append(batch(PID, 0, 0, 1), 0).firstOffset()).isEqualTo(3);
        assertThat(log.append(batch(PID, 0, Integer.MAX_VALUE - 1, 2), 0).firstOffset()).as("still a duplicate").isEqualTo(1);
    }

    @Test
    void inAnEmptyLogAProducersFirstBatchMustStartAtSequenceZero() {
        // A later batch that arrives first (the earlier one failed, say while the partition was being created) is
        // refused, so the producer sends it again after the earlier one: offsets keep the producer's order.
        open();
        assertThatThrownBy(() -> log.append(batch(PID, 0, 920, 5), 0)).isInstanceOf(OutOfOrderSequenceException.class)
                .hasMessageContaining("expected 0");
        assertThat(log.logEndOffset()).isZero();
        assertThat(log.append(batch(PID, 0, 0, 920), 0).firstOffset()).isZero();
        assertThat(log.append(batch(PID, 0, 920, 5), 0).firstOffset()).isEqualTo(920);
    }

    @Test
    void theStateSurvivesACleanRestartACrashAndALostSnapshot() throws IOException {
        LogConfig small = LogConfig.defaults().withSegmentBytes(400);
        open(true, small);
        for (int i = 0; i < 20; i++) {
            log.append(batch(PID, 0, i * 2, 2), 0);
        }
        assertThat(log.numberOfSegments()).isGreaterThan(3);
        log.close();
        open(true, small);
        assertThat(log.append(batch(PID, 0, 36, 2), 0).firstOffset()).as("after a clean restart").isEqualTo(36);
        assertThat(log.append(batch(PID, 0, 40, 1), 0).firstOffset()).isEqualTo(40);
        crash();
        open(false, small);
        assertThat(log.append(batch(PID, 0, 40, 1), 0).firstOffset()).as("after a crash: rebuilt from the roll snapshot")
                .isEqualTo(40);
        assertThat(log.logEndOffset()).isEqualTo(41);
        log.close();
        log = null;
        // Every snapshot torn or gone: the state is rebuilt from the batches themselves.
        try (Stream<Path> files = Files.list(dir())) {
            for (Path snapshot : files.filter(f -> f.toString().endsWith(ProducerStateManager.SNAPSHOT_SUFFIX)).toList()) {
                Files.write(snapshot, new byte[] {1, 2, 3});
            }
        }
        open(true, small);
        assertThat(log.append(batch(PID, 0, 40, 1), 0).firstOffset()).isEqualTo(40);
        assertThatThrownBy(() -> log.append(batch(PID, 0, 43, 1), 0)).isInstanceOf(OutOfOrderSequenceException.class);
        assertThat(log.append(batch(PID, 0, 41, 1), 0).firstOffset()).isEqualTo(41);
    }

    @Test
    void aFollowerBuildsTheStateFromCopiedBatchesAndTruncationForgetsWhatItRemoved() {
        // The leader's log, copied batch by batch to a follower's.
        Log leader = Log.open(root.resolve("leader-0"), LogConfig.defaults(), time, FailureProbe.NONE, true);
        try {
            open();
            for (int i = 0; i < 4; i++) {
                LogAppendInfo info = leader.append(batch(PID, 0, i * 10, 10), 3);
                ByteBuffer copied = ByteBuffer.allocate(1 << 16);
                try {
                    ByteBuffer read = TestBatches.bytesOf(leader.read(info.firstOffset(), 1 << 16, Long.MAX_VALUE, true));
                    copied.put(read).flip();
                } catch (IOException e) {
                    throw new AssertionError(e);
                }
                log.appendAsFollower(copied);
            }
        } finally {
            leader.close();
        }
        assertThat(log.logEndOffset()).isEqualTo(40);
        // The follower becomes leader: a retry of the last batch is recognised.
        assertThat(log.append(batch(PID, 0, 30, 10), 4).firstOffset()).isEqualTo(30);
        // Truncated below the last two batches: they are no longer duplicates, so their retries are stored again.
        log.truncateTo(20);
        assertThat(log.logEndOffset()).isEqualTo(20);
        assertThat(log.append(batch(PID, 0, 20, 10), 5).firstOffset()).isEqualTo(20);
        assertThat(log.append(batch(PID, 0, 30, 10), 5).firstOffset()).isEqualTo(30);
        assertThat(log.logEndOffset()).isEqualTo(40);
    }

    @Test
    void producersThatStoppedWritingExpire() {
        open();
        log.append(batch(PID, 0, 0, 1), 0);
        time.sleep(1000);
        log.append(batch(PID + 1, 0, 0, 1), 0);
        assertThat(log.producerCount()).isEqualTo(2);
        time.sleep(60_000);
        assertThat(log.expireProducers(60_500)).isEqualTo(1);
        assertThat(log.producerCount()).isEqualTo(1);
        // The expired producer is a new one now: any sequence is accepted.
        assertThat(log.append(batch(PID, 0, 77, 1), 0).firstOffset()).isEqualTo(2);
        assertThat(log.producerEntry(PID).batches()).extracting(ProducerStateManager.BatchMetadata::firstSeq)
                .isEqualTo(List.of(77));
    }

    @Test
    void batchesWithoutAProducerIdKeepNoState() {
        open();
        log.append(TestBatches.batch(3, 10, START_MS), 0);
        log.append(TestBatches.batch(3, 10, START_MS), 0);
        assertThat(log.logEndOffset()).isEqualTo(6);
        assertThat(log.producerCount()).isZero();
    }
}
