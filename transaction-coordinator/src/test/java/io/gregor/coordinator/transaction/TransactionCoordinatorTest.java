package io.gregor.coordinator.transaction;

import static org.assertj.core.api.Assertions.assertThat;

import io.gregor.coordinator.runtime.CoordinatorLog;
import io.gregor.coordinator.runtime.ManualTime;
import io.gregor.coordinator.transaction.TransactionCoordinatorShard.InitResult;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The transaction coordinator over an in-memory {@code __transaction_state} (records stored as bytes and read back
 * through Kafka's schemas), a manual clock and a marker writer whose writes complete when the test says so.
 */
class TransactionCoordinatorTest {
    private static final TopicPartition A0 = new TopicPartition("a", 0);
    private static final TopicPartition B1 = new TopicPartition("b", 1);

    /** One partition's records as stored bytes. */
    private static final class MemoryLog implements CoordinatorLog<TransactionRecord> {
        final List<byte[][]> records = new ArrayList<>();
        boolean failNext;

        @Override
        public synchronized Append append(int partition, List<TransactionRecord> batch) {
            if (failNext) {
                failNext = false;
                throw new org.apache.kafka.common.errors.NotLeaderOrFollowerException("moved");
            }
            long base = records.size();
            for (TransactionRecord r : batch) {
                records.add(new byte[][] {r.keyBytes(), r.valueBytes()});
            }
            return new Append(base, CompletableFuture.completedFuture(null));
        }

        @Override
        public synchronized long read(int partition, RecordSink<TransactionRecord> sink) {
            long offset = 0;
            for (byte[][] r : records) {
                sink.accept(offset++, TransactionRecord.read(ByteBuffer.wrap(r[0]), r[1] == null ? null : ByteBuffer.wrap(r[1])));
            }
            return offset;
        }
    }

    /** A marker write the test completes. */
    private record MarkerWrite(long producerId, short epoch, boolean commit, Set<TopicPartition> partitions,
                               CompletableFuture<Void> done) {}

    private final ManualTime time = new ManualTime();
    private final MemoryLog log = new MemoryLog();
    private final List<MarkerWrite> markers = new ArrayList<>();
    private final AtomicLong nextProducerId = new AtomicLong(1000);
    private TransactionCoordinatorService service;

    @BeforeEach
    void start() {
        service = new TransactionCoordinatorService(new TransactionConfig(60_000, 600_000, 60_000), log,
                (pid, epoch, commit, coordinatorEpoch, partitions, keepTrying) -> {
            CompletableFuture<Void> done = new CompletableFuture<>();
            markers.add(new MarkerWrite(pid, epoch, commit, partitions, done));
            return done;
        }, time, Runnable::run);
        service.startup(1);
        service.load(0, 0).join();
    }

    @AfterEach
    void stop() {
        service.close();
    }

    private void restart() {
        service.close();
        markers.clear();
        start();
    }

    private InitResult init(String id) {
        return service.initProducerId(id, 30_000, -1, (short) -1,
                () -> CompletableFuture.completedFuture(nextProducerId.getAndIncrement())).join();
    }

    private TransactionState state(String id) {
        return service.describe(id).join().state();
    }

    @Test
    void aTransactionIsOpenedCommittedAndCompletedOnceItsMarkersAreWritten() {
        InitResult producer = init("tx");
        assertThat(producer.error()).isEqualTo(Errors.NONE);
        assertThat(producer.producerEpoch()).isZero();
        assertThat(service.addPartitions("tx", producer.producerId(), (short) 0, List.of(A0)).join()).isEqualTo(Errors.NONE);
        assertThat(service.addPartitions("tx", producer.producerId(), (short) 0, List.of(B1, A0)).join()).isEqualTo(Errors.NONE);
        assertThat(state("tx")).isEqualTo(TransactionState.ONGOING);
        assertThat(service.describe("tx").join().partitions()).containsExactly(A0, B1);

        assertThat(service.endTransaction("tx", producer.producerId(), (short) 0, true).join()).isEqualTo(Errors.NONE);
        assertThat(state("tx")).isEqualTo(TransactionState.PREPARE_COMMIT);
        assertThat(markers).hasSize(1);
        assertThat(markers.get(0).commit()).isTrue();
        assertThat(markers.get(0).partitions()).containsExactlyInAnyOrder(A0, B1);
        // Until every marker is written the decision is not done.
        assertThat(service.endTransaction("tx", producer.producerId(), (short) 0, true).join())
                .isEqualTo(Errors.CONCURRENT_TRANSACTIONS);
        markers.get(0).done().complete(null);
        assertThat(state("tx")).isEqualTo(TransactionState.COMPLETE_COMMIT);
        assertThat(service.describe("tx").join().partitions()).isEmpty();
        // A retried EndTxn of the same decision is answered as done; the other decision is not.
        assertThat(service.endTransaction("tx", producer.producerId(), (short) 0, true).join()).isEqualTo(Errors.NONE);
        assertThat(service.endTransaction("tx", producer.producerId(), (short) 0, false).join())
                .isEqualTo(Errors.INVALID_TXN_STATE);
    }

    private TransactionCoordinatorShard.EndResult endV2(String id, long producerId, short epoch, boolean commit) {
        return service.endTransactionV2(id, producerId, epoch, commit,
                () -> CompletableFuture.completedFuture(nextProducerId.getAndIncrement())).join();
    }

    @Test
    void transactionVersion2BumpsTheEpochAtEveryEndAndRecognisesARetriedEndTxn() {
        InitResult producer = init("tv2");
        long pid = producer.producerId();
        assertThat(service.addPartitions("tv2", pid, (short) 0, List.of(A0)).join()).isEqualTo(Errors.NONE);
        var committed = endV2("tv2", pid, (short) 0, true);
        assertThat(committed).isEqualTo(new TransactionCoordinatorShard.EndResult(Errors.NONE, pid, (short) 1));
        // The markers carry the new epoch: every late batch of the transaction (epoch 0) is fenced by them.
        assertThat(markers).hasSize(1);
        assertThat(markers.get(0).epoch()).isEqualTo((short) 1);
        assertThat(state("tv2")).isEqualTo(TransactionState.PREPARE_COMMIT);
        // A retry while the markers are written (at the epoch before the bump), and the next transaction's EndTxn
        // (at the new one): both wait until the transaction completes, then are answered.
        CompletableFuture<TransactionCoordinatorShard.EndResult> retried = service.endTransactionV2("tv2", pid, (short) 0,
                true, () -> CompletableFuture.completedFuture(-1L));
        assertThat(retried).isNotDone();
        markers.get(0).done().complete(null);
        assertThat(retried.join()).isEqualTo(committed);
        assertThat(state("tv2")).isEqualTo(TransactionState.COMPLETE_COMMIT);
        // A retry after it completed gets the same answer; the producer's old epoch can do nothing else.
        assertThat(endV2("tv2", pid, (short) 0, true)).isEqualTo(committed);
        assertThat(endV2("tv2", pid, (short) 0, false).error()).isEqualTo(Errors.INVALID_TXN_STATE);
        assertThat(service.addPartitions("tv2", pid, (short) 0, List.of(A0)).join()).isEqualTo(Errors.PRODUCER_FENCED);
        // The next transaction at the new epoch; an abort with nothing added is allowed and bumps the epoch too.
        assertThat(endV2("tv2", pid, (short) 1, false))
                .isEqualTo(new TransactionCoordinatorShard.EndResult(Errors.NONE, pid, (short) 2));
        assertThat(markers.get(1).partitions()).isEmpty();
        markers.get(1).done().complete(null);
        assertThat(service.addPartitions("tv2", pid, (short) 2, List.of(B1)).join()).isEqualTo(Errors.NONE);
        assertThat(endV2("tv2", pid, (short) 1, true).error()).isEqualTo(Errors.PRODUCER_FENCED);
        assertThat(endV2("tv2", pid, (short) 2, false).producerEpoch()).isEqualTo((short) 3);
        markers.get(2).done().complete(null);
        // Survives a reload from the log: the transaction version and epochs are in the records.
        restart();
        assertThat(service.describe("tv2").join().producerEpoch()).isEqualTo((short) 3);
        assertThat(service.describe("tv2").join().clientTransactionVersion()).isEqualTo((short) 2);
        assertThat(endV2("tv2", pid, (short) 2, false)).isEqualTo(new TransactionCoordinatorShard.EndResult(
                Errors.NONE, pid, (short) 3));
    }

    @Test
    void transactionVersion2MovesToANewProducerIdWhenTheEpochIsExhausted() {
        InitResult producer = init("old");
        long pid = producer.producerId();
        // Walk the epoch to the last one a client may use (Short.MAX_VALUE - 1) with empty aborts.
        short epoch = 0;
        while (epoch < Short.MAX_VALUE - 1) {
            var aborted = endV2("old", pid, epoch, false);
            assertThat(aborted.error()).isEqualTo(Errors.NONE);
            markers.get(markers.size() - 1).done().complete(null);
            epoch = aborted.producerEpoch();
        }
        markers.clear();
        assertThat(service.addPartitions("old", pid, epoch, List.of(A0)).join()).isEqualTo(Errors.NONE);
        var moved = endV2("old", pid, epoch, true);
        assertThat(moved.error()).isEqualTo(Errors.NONE);
        assertThat(moved.producerId()).isNotEqualTo(pid);
        assertThat(moved.producerEpoch()).isZero();
        // The markers go out under the old producer id at the one epoch past the client's.
        assertThat(markers.get(0).producerId()).isEqualTo(pid);
        assertThat(markers.get(0).epoch()).isEqualTo(Short.MAX_VALUE);
        markers.get(0).done().complete(null);
        assertThat(service.describe("old").join().producerId()).isEqualTo(moved.producerId());
        // A retry of that EndTxn with the old id and epoch is recognised.
        assertThat(endV2("old", pid, epoch, true)).isEqualTo(moved);
        assertThat(service.addPartitions("old", moved.producerId(), (short) 0, List.of(A0)).join()).isEqualTo(Errors.NONE);
    }

    @Test
    void theNextTransactionWaitsForThePreviousOneToCompleteInsteadOfBeingToldToRetry() {
        InitResult producer = init("tx");
        service.addPartitions("tx", producer.producerId(), (short) 0, List.of(A0)).join();
        service.endTransaction("tx", producer.producerId(), (short) 0, false).join();
        CompletableFuture<Errors> next = service.addPartitions("tx", producer.producerId(), (short) 0, List.of(B1));
        assertThat(next).as("parked while the abort markers are written").isNotDone();
        markers.get(0).done().complete(null);
        assertThat(next.join()).isEqualTo(Errors.NONE);
        assertThat(state("tx")).isEqualTo(TransactionState.ONGOING);
        assertThat(service.describe("tx").join().partitions()).containsExactly(B1);
        // Markers that take longer than the wait: the producer is told to retry, as Kafka tells it at once.
        service.endTransaction("tx", producer.producerId(), (short) 0, true).join();
        CompletableFuture<Errors> late = service.addPartitions("tx", producer.producerId(), (short) 0, List.of(A0));
        time.advance(TransactionCoordinatorService.COMPLETION_WAIT_MS);
        assertThat(late.join()).isEqualTo(Errors.CONCURRENT_TRANSACTIONS);
    }

    @Test
    void aNewProducerOfTheSameIdFencesTheOldOneAndAbortsItsOpenTransaction() {
        InitResult first = init("tx");
        service.addPartitions("tx", first.producerId(), (short) 0, List.of(A0)).join();
        CompletableFuture<InitResult> second = service.initProducerId("tx", 30_000, -1, (short) -1,
                () -> CompletableFuture.completedFuture(nextProducerId.getAndIncrement()));
        assertThat(second).as("waits for the abort of the open transaction").isNotDone();
        assertThat(state("tx")).isEqualTo(TransactionState.PREPARE_ABORT);
        assertThat(markers).hasSize(1);
        assertThat(markers.get(0).commit()).isFalse();
        assertThat(markers.get(0).epoch()).as("the abort markers carry the fencing epoch").isEqualTo((short) 1);
        markers.get(0).done().complete(null);
        InitResult retried = second.join();
        assertThat(retried.error()).isEqualTo(Errors.NONE);
        assertThat(retried.producerId()).isEqualTo(first.producerId());
        assertThat(retried.producerEpoch()).isEqualTo((short) 2);
        // The zombie is fenced.
        assertThat(service.addPartitions("tx", first.producerId(), (short) 0, List.of(A0)).join())
                .isEqualTo(Errors.PRODUCER_FENCED);
        assertThat(service.endTransaction("tx", first.producerId(), (short) 0, true).join())
                .isEqualTo(Errors.PRODUCER_FENCED);
    }

    @Test
    void aTransactionOpenLongerThanItsTimeoutIsAbortedWithABumpedEpoch() {
        InitResult producer = init("slow");
        service.addPartitions("slow", producer.producerId(), (short) 0, List.of(A0)).join();
        time.advance(29_999);
        assertThat(state("slow")).isEqualTo(TransactionState.ONGOING);
        time.advance(1);
        assertThat(state("slow")).isEqualTo(TransactionState.PREPARE_ABORT);
        assertThat(markers).hasSize(1);
        markers.get(0).done().complete(null);
        assertThat(state("slow")).isEqualTo(TransactionState.COMPLETE_ABORT);
        assertThat(service.endTransaction("slow", producer.producerId(), (short) 0, true).join())
                .isEqualTo(Errors.PRODUCER_FENCED);
    }

    @Test
    void aCoordinatorThatLoadsFinishesTheDecisionsItFindsAndTimesOutOpenTransactions() {
        InitResult one = init("decided");
        service.addPartitions("decided", one.producerId(), (short) 0, List.of(A0)).join();
        service.endTransaction("decided", one.producerId(), (short) 0, false).join();
        InitResult two = init("open");
        service.addPartitions("open", two.producerId(), (short) 0, List.of(B1)).join();
        restart(); // the markers of the first were never written
        assertThat(markers).hasSize(1);
        assertThat(markers.get(0).producerId()).isEqualTo(one.producerId());
        assertThat(markers.get(0).commit()).isFalse();
        markers.get(0).done().complete(null);
        assertThat(state("decided")).isEqualTo(TransactionState.COMPLETE_ABORT);
        assertThat(state("open")).isEqualTo(TransactionState.ONGOING);
        time.advance(30_000);
        assertThat(state("open")).isEqualTo(TransactionState.PREPARE_ABORT);
    }

    @Test
    void requestsOfUnknownOrMismatchedProducersAndBadTimeoutsAreRefused() {
        assertThat(service.addPartitions("nobody", 5, (short) 0, List.of(A0)).join())
                .isEqualTo(Errors.INVALID_PRODUCER_ID_MAPPING);
        InitResult producer = init("tx");
        assertThat(service.addPartitions("tx", producer.producerId() + 1, (short) 0, List.of(A0)).join())
                .isEqualTo(Errors.INVALID_PRODUCER_ID_MAPPING);
        assertThat(service.endTransaction("tx", producer.producerId(), (short) 0, true).join())
                .as("nothing is open").isEqualTo(Errors.INVALID_TXN_STATE);
        assertThat(service.initProducerId("tx", 60_001, -1, (short) -1,
                () -> CompletableFuture.completedFuture(1L)).join().error()).isEqualTo(Errors.INVALID_TRANSACTION_TIMEOUT);
        assertThat(service.initProducerId("tx", 10_000, producer.producerId(), (short) 7,
                () -> CompletableFuture.completedFuture(1L)).join().error()).isEqualTo(Errors.PRODUCER_FENCED);
    }

    @Test
    void aFailedAppendLeavesTheStateAsTheLogHasIt() {
        InitResult producer = init("tx");
        log.failNext = true;
        assertThat(service.addPartitions("tx", producer.producerId(), (short) 0, List.of(A0)).join())
                .isEqualTo(Errors.NOT_COORDINATOR);
        assertThat(state("tx")).isEqualTo(TransactionState.EMPTY);
        assertThat(service.addPartitions("tx", producer.producerId(), (short) 0, List.of(A0)).join()).isEqualTo(Errors.NONE);
    }

    @Test
    void recordsUseKafkasTransactionLogSchemas() {
        InitResult producer = init("tx");
        service.addPartitions("tx", producer.producerId(), (short) 0, List.of(A0)).join();
        byte[][] last = log.records.get(log.records.size() - 1);
        var key = new org.apache.kafka.coordinator.transaction.generated.TransactionLogKey();
        ByteBuffer keyBytes = ByteBuffer.wrap(last[0]);
        assertThat(keyBytes.getShort()).isZero();
        key.read(new org.apache.kafka.common.protocol.ByteBufferAccessor(keyBytes), (short) 0);
        assertThat(key.transactionalId()).isEqualTo("tx");
        ByteBuffer valueBytes = ByteBuffer.wrap(last[1]);
        short version = valueBytes.getShort();
        var value = new org.apache.kafka.coordinator.transaction.generated.TransactionLogValue();
        value.read(new org.apache.kafka.common.protocol.ByteBufferAccessor(valueBytes), version);
        assertThat(value.producerId()).isEqualTo(producer.producerId());
        assertThat(value.transactionStatus()).isEqualTo(TransactionState.ONGOING.id());
        assertThat(value.transactionPartitions()).hasSize(1);
        assertThat(value.transactionTimeoutMs()).isEqualTo(30_000);
    }

    @Test
    void anIdleTransactionalIdExpiresAndStartsAfreshWithANewProducerId() {
        InitResult first = init("idle");
        InitResult busy = init("busy");
        service.addPartitions("busy", busy.producerId(), (short) 0, List.of(A0)).join();
        time.advance(600_000); // the cleanup runs every 60 s; "idle" has not changed for the expiration period
        assertThat(service.describe("idle").join()).as("expired").isNull();
        assertThat(service.describe("busy").join().state()).as("an open transaction is not expired, it times out")
                .isNotNull();
        InitResult again = init("idle");
        assertThat(again.producerId()).isNotEqualTo(first.producerId());
        assertThat(again.producerEpoch()).isZero();
    }
}
