package io.gregor.replication;

import static org.assertj.core.api.Assertions.assertThat;

import io.gregor.storage.FailureProbe;
import io.gregor.storage.LogConfig;
import io.gregor.storage.LogManager;
import io.gregor.storage.Time;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.SimpleRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The replica manager over real logs in a temporary directory. */
class ReplicaManagerTest {
    @TempDir
    Path dir;
    private LogManager logs;
    private ExecutorService pool;
    private ReplicaManager replicas;
    private Partition orders;

    @BeforeEach
    void setUp() {
        logs = new LogManager(dir, Time.SYSTEM, FailureProbe.NONE);
        pool = Executors.newFixedThreadPool(2);
        replicas = new ReplicaManager(7, pool);
        orders = replicas.addPartition("orders", Uuid.randomUuid(), 0, logs.getOrCreate("orders", 0, LogConfig.defaults()), 1);
    }

    @AfterEach
    void tearDown() throws Exception {
        replicas.close();
        pool.shutdownNow();
        logs.close();
    }

    private static ByteBuffer batch(String... keysAndValues) {
        SimpleRecord[] records = new SimpleRecord[keysAndValues.length / 2];
        for (int i = 0; i < records.length; i++) {
            String key = keysAndValues[2 * i];
            records[i] = new SimpleRecord(System.currentTimeMillis(), key == null ? null : key.getBytes(),
                    keysAndValues[2 * i + 1].getBytes());
        }
        return MemoryRecords.withRecords(Compression.NONE, records).buffer();
    }

    private static <T> T get(CompletableFuture<T> f) throws Exception {
        return f.get(10, TimeUnit.SECONDS);
    }

    @Test
    void aPartitionIsLedByThisNodeAloneUntilTheClusterSaysOtherwise() {
        assertThat(orders.state()).isEqualTo(new Partition.State(7, 0, 0, List.of(7), List.of(7)));
        assertThat(orders.isrSize()).isEqualTo(1);
        assertThat(orders.checkLeaderEpoch(-1)).isEqualTo(Errors.NONE);
        assertThat(orders.checkLeaderEpoch(1)).isEqualTo(Errors.UNKNOWN_LEADER_EPOCH);
        orders.updateState(new Partition.State(7, 3, 1, List.of(7, 8, 9), List.of(7, 8)));
        assertThat(orders.checkLeaderEpoch(2)).isEqualTo(Errors.FENCED_LEADER_EPOCH);
        assertThat(orders.isrSize()).isEqualTo(2);
    }

    @Test
    void acksAllIsAnsweredOnceTheRecordsAreCommittedAndOffsetsFollowEachOther() throws Exception {
        ReplicaManager.AppendResult first = get(replicas.appendRecords(orders, batch("a", "1", "b", "2"), (short) -1, 30_000));
        assertThat(first.error()).isEqualTo(Errors.NONE);
        assertThat(first.baseOffset()).isZero();
        assertThat(orders.highWatermark()).as("answered only once the high watermark passed the records").isEqualTo(2);
        ReplicaManager.AppendResult second = get(replicas.appendRecords(orders, batch("c", "3"), (short) 1, 30_000));
        assertThat(second.baseOffset()).isEqualTo(2);
        awaitNoParkedOperations();
    }

    /** A completed produce leaves the timer wheel and the watch lists (its cleanup follows its answer). */
    private void awaitNoParkedOperations() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (replicas.parkedOperations() > 0 && System.nanoTime() < deadline) {
            Thread.onSpinWait();
            Thread.yield();
        }
        assertThat(replicas.parkedOperations()).as("operations still parked").isZero();
    }

    @Test
    void manyAcksAllProducesLeaveNothingParked() throws Exception {
        List<CompletableFuture<ReplicaManager.AppendResult>> all = new java.util.ArrayList<>();
        for (int i = 0; i < 200; i++) {
            all.add(replicas.appendRecords(orders, batch("k" + i, "v"), (short) -1, 30_000));
        }
        for (CompletableFuture<ReplicaManager.AppendResult> f : all) {
            assertThat(get(f).error()).isEqualTo(Errors.NONE);
        }
        assertThat(orders.highWatermark()).isEqualTo(200);
        awaitNoParkedOperations();
    }

    @Test
    void acksAllNeedsMinInsyncReplicasAndCompactedTopicsNeedKeys() throws Exception {
        orders.updateConfig(2, Recompression.PRODUCER);
        ReplicaManager.AppendResult refused = get(replicas.appendRecords(orders, batch("a", "1"), (short) -1, 30_000));
        assertThat(refused.error()).isEqualTo(Errors.NOT_ENOUGH_REPLICAS);
        assertThat(get(replicas.appendRecords(orders, batch("a", "1"), (short) 1, 30_000)).error()).isEqualTo(Errors.NONE);

        Partition compacted = replicas.addPartition("changelog", Uuid.randomUuid(), 0, logs.getOrCreate("changelog", 0,
                LogConfig.defaults().withCompaction(new LogConfig.Compaction(true, false, 0.5, 0, Long.MAX_VALUE, 86_400_000L))), 1);
        ReplicaManager.AppendResult keyless = get(replicas.appendRecords(compacted, batch("k", "v", null, "no key"), (short) 1, 1000));
        assertThat(keyless.error()).isEqualTo(Errors.INVALID_RECORD);
        assertThat(compacted.logEndOffset()).isZero();
    }

    @Test
    void aFetchWaitsForMinBytesAndAnswersWhenRecordsArrive() throws Exception {
        FetchParams params = new FetchParams(10_000, 1, 1 << 20, 1f,
                List.of(new FetchParams.PartitionFetch("orders", 0, 0, 1 << 20, -1)));
        CompletableFuture<List<FetchPartitionData>> parked = replicas.fetchMessages(params);
        assertThat(parked).isNotDone();
        get(replicas.appendRecords(orders, batch("a", "1"), (short) -1, 30_000));
        FetchPartitionData data = get(parked).get(0);
        assertThat(data.error()).isEqualTo(Errors.NONE);
        assertThat(data.highWatermark()).isEqualTo(1);
        assertThat(data.records()).isNotNull();
        assertThat(MemoryRecords.readableRecords(data.records().readAll()).records()).hasSize(1);

        FetchParams empty = new FetchParams(50, 1, 1 << 20, 1f, List.of(new FetchParams.PartitionFetch("orders", 0, 1, 1 << 20, -1)));
        FetchPartitionData nothing = get(replicas.fetchMessages(empty)).get(0);
        assertThat(nothing.error()).isEqualTo(Errors.NONE);
        assertThat(nothing.records()).as("max wait passed with nothing new").isNull();
    }

    @Test
    void fetchErrorsComePerPartition() throws Exception {
        get(replicas.appendRecords(orders, batch("a", "1"), (short) -1, 30_000));
        FetchParams params = new FetchParams(0, 1, 1 << 20, 1f, List.of(
                new FetchParams.PartitionFetch("orders", 0, 5, 1 << 20, -1),
                new FetchParams.PartitionFetch(null, 0, 0, 1 << 20, -1),
                new FetchParams.PartitionFetch("orders", 0, 0, 1 << 20, 4),
                new FetchParams.PartitionFetch("orders", 0, 0, 1 << 20, 0)));
        List<FetchPartitionData> read = get(replicas.fetchMessages(params));
        assertThat(read).extracting(FetchPartitionData::error).containsExactly(Errors.OFFSET_OUT_OF_RANGE,
                Errors.UNKNOWN_TOPIC_OR_PARTITION, Errors.UNKNOWN_LEADER_EPOCH, Errors.NONE);
    }

    @Test
    void offsetsForTimestampsAndDeleteRecords() throws Exception {
        get(replicas.appendRecords(orders, batch("a", "1", "b", "2", "c", "3"), (short) -1, 30_000));
        assertThat(replicas.fetchOffsetForTimestamp(orders, ReplicaManager.LATEST).offset()).isEqualTo(3);
        assertThat(replicas.fetchOffsetForTimestamp(orders, ReplicaManager.EARLIEST).offset()).isZero();
        assertThat(replicas.fetchOffsetForTimestamp(orders, 0).offset()).isZero();
        assertThat(replicas.fetchOffsetForTimestamp(orders, -9).error()).isEqualTo(Errors.INVALID_REQUEST);
        assertThat(replicas.deleteRecords(orders, 2)).isEqualTo(new ReplicaManager.DeleteRecordsResult(Errors.NONE, 2));
        assertThat(replicas.deleteRecords(orders, 9).error()).isEqualTo(Errors.OFFSET_OUT_OF_RANGE);
        assertThat(replicas.fetchOffsetForTimestamp(orders, ReplicaManager.EARLIEST).offset()).isEqualTo(2);
        assertThat(replicas.endOffsetForEpoch(orders, 0)).isEqualTo(new ReplicaManager.EpochEnd(0, 3));
    }

    @Test
    void aReadCommittedFetchStopsAtTheLastStableOffsetAndNamesTheAbortedTransactions() throws Exception {
        long pid = 77;
        ByteBuffer txn = MemoryRecords.withTransactionalRecords(Compression.NONE, pid, (short) 0, 0,
                new SimpleRecord("a".getBytes(), "1".getBytes()), new SimpleRecord("b".getBytes(), "2".getBytes()))
                .buffer();
        assertThat(get(replicas.appendRecords(orders, txn, (short) -1, 30_000)).error()).isEqualTo(Errors.NONE);
        assertThat(get(replicas.appendRecords(orders, batch("c", "3"), (short) -1, 30_000)).error())
                .isEqualTo(Errors.NONE);
        FetchParams.PartitionFetch from0 = new FetchParams.PartitionFetch("orders", 0, 0, 1 << 20, -1);
        FetchParams committed = new FetchParams(0, 1, 1 << 20, 1f, List.of(from0), -1, true);
        FetchParams uncommitted = new FetchParams(0, 1, 1 << 20, 1f, List.of(from0), -1, false);
        FetchPartitionData open = get(replicas.fetchMessages(committed)).get(0);
        assertThat(open.highWatermark()).isEqualTo(3);
        assertThat(open.lastStableOffset()).isZero();
        assertThat(open.records()).as("nothing is stable yet").isNull();
        assertThat(get(replicas.fetchMessages(uncommitted)).get(0).records().sizeInBytes()).isPositive();

        // A client may not write the marker itself.
        ByteBuffer abort = MemoryRecords.withEndTransactionMarker(System.currentTimeMillis(), pid, (short) 0,
                new org.apache.kafka.common.record.EndTransactionMarker(
                        org.apache.kafka.common.record.ControlRecordType.ABORT, 0)).buffer();
        assertThat(get(replicas.appendRecords(orders, abort.duplicate(), (short) -1, 30_000)).error())
                .isEqualTo(Errors.INVALID_RECORD);
        orders.log().append(abort, orders.leaderEpoch());
        orders.log().flush();
        orders.log().updateHighWatermark(orders.log().logEndOffset());
        FetchPartitionData decided = get(replicas.fetchMessages(committed)).get(0);
        assertThat(decided.lastStableOffset()).isEqualTo(4);
        assertThat(decided.records().sizeInBytes()).isPositive();
        assertThat(decided.abortedTransactions()).hasSize(1);
        assertThat(decided.abortedTransactions().get(0).producerId()).isEqualTo(pid);
        assertThat(decided.abortedTransactions().get(0).firstOffset()).isZero();
        assertThat(get(replicas.fetchMessages(uncommitted)).get(0).abortedTransactions()).isNull();
        assertThat(replicas.fetchOffsetForTimestamp(orders, ReplicaManager.LATEST, true).offset()).isEqualTo(4);
    }
}
