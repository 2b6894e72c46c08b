package io.gregor.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.ControlRecordType;
import org.apache.kafka.common.record.EndTransactionMarker;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.SimpleRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Transactions on one log: the last stable offset, commit and abort markers, the aborted transaction index. */
class TransactionStateTest {

    private static final long START_MS = 1_700_000_000_000L;
    private static final long PID = 9001;
    private static final long OTHER = 9002;

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
        log = Log.open(dir(), LogConfig.defaults(), time, FailureProbe.NONE, clean);
        return log;
    }

    private void crash() {
        log.markDeleted();
        log.releaseHandles();
        log = null;
    }

    private ByteBuffer transactional(long pid, int seq, int count) {
        SimpleRecord[] records = new SimpleRecord[count];
        for (int i = 0; i < count; i++) {
            records[i] = new SimpleRecord(time.milliseconds(), null, ("t" + seq + "-" + i).getBytes());
        }
        return MemoryRecords.withTransactionalRecords(Compression.NONE, pid, (short) 0, seq, records).buffer();
    }

    private ByteBuffer idempotent(long pid, int seq) {
        return MemoryRecords.withIdempotentRecords(Compression.NONE, pid, (short) 0, seq,
                new SimpleRecord(time.milliseconds(), null, "i".getBytes())).buffer();
    }

    private ByteBuffer plain() {
        return MemoryRecords.withRecords(Compression.NONE, new SimpleRecord(time.milliseconds(), null, "p".getBytes()))
                .buffer();
    }

    private ByteBuffer marker(long pid, ControlRecordType type) {
        return MemoryRecords.withEndTransactionMarker(time.milliseconds(), pid, (short) 0,
                new EndTransactionMarker(type, 0)).buffer();
    }

    private void commitAll() {
        log.updateHighWatermark(log.logEndOffset());
    }

    @Test
    void anOpenTransactionHoldsTheLastStableOffsetUntilItsMarkerIsBelowTheHighWatermark() {
        open(true);
        log.append(plain(), 0);                      // 0
        log.append(transactional(PID, 0, 3), 0);     // 1-3
        log.append(plain(), 0);                      // 4
        commitAll();
        assertThat(log.highWatermark()).isEqualTo(5);
        assertThat(log.lastStableOffset()).isEqualTo(1);
        assertThat(log.ongoingTransactions()).isEqualTo(1);
        log.append(marker(PID, ControlRecordType.COMMIT), 0); // 5
        // Decided, but the marker is not below the high watermark yet: readers still stop at the transaction.
        assertThat(log.lastStableOffset()).isEqualTo(1);
        commitAll();
        assertThat(log.lastStableOffset()).isEqualTo(6);
        assertThat(log.ongoingTransactions()).isZero();
        assertThat(log.abortedTransactions(0, 6)).isEmpty();
    }

    @Test
    void anAbortIsIndexedAndFoundByTheReadsThatOverlapIt() {
        open(true);
        log.append(transactional(PID, 0, 2), 0);      // 0-1
        log.append(transactional(OTHER, 0, 1), 0);    // 2
        log.append(marker(PID, ControlRecordType.ABORT), 0);  // 3
        log.append(marker(OTHER, ControlRecordType.COMMIT), 0); // 4
        log.append(transactional(PID, 2, 1), 0);      // 5
        log.append(marker(PID, ControlRecordType.ABORT), 0);  // 6
        commitAll();
        assertThat(log.lastStableOffset()).isEqualTo(7);
        assertThat(log.abortedTransactions(0, 7)).containsExactly(
                new AbortedTransaction(PID, 0, 3, 2), new AbortedTransaction(PID, 5, 6, 7));
        // A read from offset 4 cannot meet the first abort's records; one that ends before 5 cannot meet the second's.
        assertThat(log.abortedTransactions(4, 7)).containsExactly(new AbortedTransaction(PID, 5, 6, 7));
        assertThat(log.abortedTransactions(0, 5)).containsExactly(new AbortedTransaction(PID, 0, 3, 2));
        assertThat(Files.exists(dir().resolve(AbortedTransactionIndex.FILE_NAME))).isTrue();
    }

    @Test
    void aNonTransactionalBatchOfAProducerWithAnOpenTransactionIsRefused() {
        open(true);
        log.append(transactional(PID, 0, 1), 0);
        assertThatThrownBy(() -> log.append(idempotent(PID, 1), 0)).isInstanceOf(InvalidTxnStateException.class);
        assertThat(log.logEndOffset()).isEqualTo(1);
        log.append(marker(PID, ControlRecordType.COMMIT), 0);
        assertThat(log.append(idempotent(PID, 1), 0).firstOffset()).isEqualTo(2);
    }

    @Test
    void aVerifiedBatchIsRefusedWhenAMarkerOfItsProducerCameSinceItsTokenWasTaken() {
        open(true);
        long token = log.transactionVerificationToken(PID, (short) 0);
        assertThat(token).isNotEqualTo(Log.NO_VERIFICATION);
        // Verified, and appended before anything else of this producer: it opens the transaction.
        log.appendVerified(transactional(PID, 0, 1), 0, PID, token);       // 0
        assertThat(log.transactionVerificationToken(PID, (short) 0)).isEqualTo(Log.NO_VERIFICATION);
        // Open: a later batch is appended unverified and expects it still open.
        log.appendVerified(transactional(PID, 1, 1), 0, PID, Log.EXPECT_OPEN); // 1
        long before = log.transactionVerificationToken(PID, (short) 0);
        assertThat(before).isEqualTo(Log.NO_VERIFICATION);
        log.append(marker(PID, ControlRecordType.ABORT), 0);              // 2
        // A batch that counted on the open transaction, and one verified with the token of before the marker: both
        // would open a transaction that its coordinator knows nothing of.
        assertThatThrownBy(() -> log.appendVerified(transactional(PID, 2, 1), 0, PID, Log.EXPECT_OPEN))
                .isInstanceOf(InvalidTxnStateException.class);
        assertThatThrownBy(() -> log.appendVerified(transactional(PID, 2, 1), 0, PID, token))
                .isInstanceOf(InvalidTxnStateException.class);
        assertThat(log.logEndOffset()).isEqualTo(3);
        assertThat(log.ongoingTransactions()).isZero();
        // With a token taken after the marker, the next transaction opens.
        long fresh = log.transactionVerificationToken(PID, (short) 0);
        assertThat(fresh).isEqualTo(2);
        log.appendVerified(transactional(PID, 2, 1), 0, PID, fresh);       // 3
        assertThat(log.ongoingTransactions()).isEqualTo(1);
    }

    private ByteBuffer markerOf(int coordinatorEpoch, ControlRecordType type) {
        return MemoryRecords.withEndTransactionMarker(time.milliseconds(), PID, (short) 0,
                new EndTransactionMarker(type, coordinatorEpoch)).buffer();
    }

    @Test
    void aMarkerOfAnOlderCoordinatorEpochIsRefusedAlsoAfterARestart() {
        open(true);
        log.append(transactional(PID, 0, 1), 0);                             // 0
        log.append(markerOf(5, ControlRecordType.COMMIT), 0, true);          // 1, coordinator epoch 5
        log.append(transactional(PID, 1, 1), 0);                             // 2
        // A coordinator that was replaced (epoch 4) cannot end the transaction; the current one (5) can.
        assertThatThrownBy(() -> log.append(markerOf(4, ControlRecordType.ABORT), 0, true))
                .isInstanceOf(TransactionCoordinatorFencedException.class);
        assertThat(log.ongoingTransactions()).isEqualTo(1);
        log.close();
        log = null;
        open(true);
        assertThatThrownBy(() -> log.append(markerOf(4, ControlRecordType.ABORT), 0, true))
                .as("the epoch is in the producer state snapshot").isInstanceOf(TransactionCoordinatorFencedException.class);
        log.append(markerOf(6, ControlRecordType.ABORT), 0, true);            // 3, a newer coordinator
        assertThat(log.ongoingTransactions()).isZero();
        assertThat(log.logEndOffset()).isEqualTo(4);
    }

    @Test
    void withTransactionVersion2AMarkerOfThePreviousTransactionDoesNotRefuseTheNextOnesFirstBatch() {
        open(true);
        log.append(transactional(PID, 0, 1), 0);                              // 0: a transaction at epoch 0
        // Its commit is decided with the epoch bumped to 1; the producer's next transaction (epoch 1) sends before
        // the marker arrives here, so its batch's token is taken while the old transaction is still open.
        long token = log.transactionVerificationToken(PID, (short) 1);
        assertThat(token).isNotEqualTo(Log.NO_VERIFICATION);
        log.append(MemoryRecords.withEndTransactionMarker(time.milliseconds(), PID, (short) 1,
                new EndTransactionMarker(ControlRecordType.COMMIT, 0)).buffer(), 0);   // 1
        ByteBuffer next = MemoryRecords.withTransactionalRecords(Compression.NONE, PID, (short) 1, 0,
                new SimpleRecord(time.milliseconds(), null, "next".getBytes())).buffer();
        // Under transaction version 1 rules the marker since the token refuses it; under version 2 it is the
        // previous transaction's, and the batch opens the next one.
        assertThatThrownBy(() -> log.appendVerified(next.duplicate(), 0, PID, token, false))
                .isInstanceOf(InvalidTxnStateException.class);
        assertThat(log.appendVerified(next, 0, PID, token, true).firstOffset()).isEqualTo(2);
        assertThat(log.ongoingTransactions()).isEqualTo(1);
    }

    @Test
    void openTransactionsAndAbortsSurviveACleanRestart() {
        open(true);
        log.append(transactional(PID, 0, 2), 0);
        log.append(marker(PID, ControlRecordType.ABORT), 0);
        log.append(transactional(OTHER, 0, 1), 0);
        log.close();
        open(true);
        commitAll();
        assertThat(log.ongoingTransactions()).isEqualTo(1);
        assertThat(log.lastStableOffset()).isEqualTo(3);
        assertThat(log.abortedTransactions(0, 4)).containsExactly(new AbortedTransaction(PID, 0, 2, 3));
    }

    @Test
    void afterACrashTheAbortsPastTheRecoveryPointAreRebuiltFromTheLog() throws Exception {
        open(true);
        log.append(transactional(PID, 0, 2), 0);
        log.append(marker(PID, ControlRecordType.ABORT), 0);
        log.append(transactional(OTHER, 0, 1), 0);
        crash();
        // The index entry was never synced: the power cut took it.
        Files.delete(dir().resolve(AbortedTransactionIndex.FILE_NAME));
        open(false);
        commitAll();
        assertThat(log.abortedTransactions(0, 4)).containsExactly(new AbortedTransaction(PID, 0, 2, 3));
        assertThat(log.ongoingTransactions()).isEqualTo(1);
        assertThat(log.lastStableOffset()).isEqualTo(3);
    }

    @Test
    void truncationBelowAMarkerReopensItsTransactionAndForgetsItsAbort() {
        open(true);
        log.append(transactional(PID, 0, 2), 0);              // 0-1
        log.append(marker(PID, ControlRecordType.ABORT), 0);  // 2
        commitAll();
        assertThat(log.lastStableOffset()).isEqualTo(3);
        log.truncateTo(2);
        commitAll();
        assertThat(log.abortedTransactions(0, 2)).isEmpty();
        assertThat(log.ongoingTransactions()).isEqualTo(1);
        assertThat(log.lastStableOffset()).isZero();
        assertThat(Files.exists(dir().resolve(AbortedTransactionIndex.FILE_NAME))).isFalse();
    }

    @Test
    void aProducerWithAnOpenTransactionDoesNotExpire() {
        open(true);
        log.append(transactional(PID, 0, 1), 0);
        log.append(idempotent(OTHER, 0), 0);
        time.sleep(10_000);
        assertThat(log.expireProducers(1_000)).isEqualTo(1);
        assertThat(log.producerEntry(PID)).isNotNull();
        assertThat(log.producerEntry(OTHER)).isNull();
    }

    @Test
    void aFollowerBuildsTheSameTransactionState() {
        open(true);
        ByteBuffer data = transactional(PID, 0, 2);
        ByteBuffer abort = marker(PID, ControlRecordType.ABORT);
        // Copied batches carry the leader's offsets.
        data.putLong(0, 0L);
        abort.putLong(0, 2L);
        log.appendAsFollower(data);
        commitAll();
        assertThat(log.lastStableOffset()).isZero();
        log.appendAsFollower(abort);
        commitAll();
        assertThat(log.lastStableOffset()).isEqualTo(3);
        assertThat(log.abortedTransactions(0, 3)).containsExactly(new AbortedTransaction(PID, 0, 2, 3));
    }
}
