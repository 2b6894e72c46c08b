package io.gregor.replication;

import static org.assertj.core.api.Assertions.assertThat;

import io.gregor.storage.FailureProbe;
import io.gregor.storage.LogConfig;
import io.gregor.storage.LogManager;
import io.gregor.storage.Time;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.message.OffsetForLeaderEpochRequestData;
import org.apache.kafka.common.message.OffsetForLeaderEpochResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.Record;
import org.apache.kafka.common.record.RecordBatch;
import org.apache.kafka.common.record.SimpleRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two replica managers over real logs, the follower fetching from the leader through an in-memory endpoint that
 * calls the leader's replica manager as its Fetch and OffsetForLeaderEpoch handlers do: copying, the high watermark
 * across both, and truncation of a diverged log after a leader change.
 */
class ReplicationTest {
    private static final Uuid TOPIC_ID = Uuid.randomUuid();

    @TempDir
    Path dir;
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final ExecutorService pool = Executors.newFixedThreadPool(4);

    /** One node: its logs and replica manager. */
    private final class Node {
        final int id;
        final LogManager logs;
        final ReplicaManager replicas;
        final Partition partition;

        Node(int id) {
            this.id = id;
            logs = new LogManager(dir.resolve("n" + id), Time.SYSTEM, FailureProbe.NONE);
            replicas = new ReplicaManager(id, pool);
            partition = replicas.addPartition("t", TOPIC_ID, 0, logs.getOrCreate("t", 0, LogConfig.defaults()), 1);
            closeables.add(replicas);
            closeables.add(logs);
        }
    }

    /** Serves Fetch and OffsetForLeaderEpoch from the node it is given, as the broker's handlers would. */
    private static final class InMemoryEndpoint implements ReplicaFetcherManager.LeaderEndpoint {
        private final Map<Integer, Node> nodes;

        InMemoryEndpoint(Map<Integer, Node> nodes) {
            this.nodes = nodes;
        }

        @Override
        public CompletableFuture<FetchResponseData> fetch(int leaderId, FetchRequestData request) {
            Node leader = nodes.get(leaderId);
            List<FetchParams.PartitionFetch> wanted = new ArrayList<>();
            for (FetchRequestData.FetchTopic t : request.topics()) {
                for (FetchRequestData.FetchPartition p : t.partitions()) {
                    wanted.add(new FetchParams.PartitionFetch(t.topic(), p.partition(), p.fetchOffset(),
                            p.partitionMaxBytes(), p.currentLeaderEpoch()));
                }
            }
            FetchParams params = new FetchParams(request.maxWaitMs(), request.minBytes(), request.maxBytes(), 1f, wanted,
                    request.replicaId());
            return leader.replicas.fetchMessages(params).thenApply(read -> {
                FetchResponseData response = new FetchResponseData();
                FetchResponseData.FetchableTopicResponse topic = new FetchResponseData.FetchableTopicResponse().setTopic("t");
                response.responses().add(topic);
                for (int i = 0; i < read.size(); i++) {
                    FetchPartitionData data = read.get(i);
                    MemoryRecords records = MemoryRecords.EMPTY;
                    if (data.records() != null) {
                        records = MemoryRecords.readableRecords(data.records().readAll());
                    }
                    topic.partitions().add(new FetchResponseData.PartitionData().setPartitionIndex(wanted.get(i).partition())
                            .setErrorCode(data.error().code()).setHighWatermark(data.highWatermark()).setRecords(records));
                }
                return response;
            });
        }

        @Override
        public CompletableFuture<OffsetForLeaderEpochResponseData> epochEnds(int leaderId,
                                                                             OffsetForLeaderEpochRequestData request) {
            Node leader = nodes.get(leaderId);
            OffsetForLeaderEpochResponseData response = new OffsetForLeaderEpochResponseData();
            for (var t : request.topics()) {
                var out = new OffsetForLeaderEpochResponseData.OffsetForLeaderTopicResult().setTopic(t.topic());
                response.topics().add(out);
                for (var p : t.partitions()) {
                    ReplicaManager.EpochEnd end = leader.replicas.endOffsetForEpoch(leader.partition, p.leaderEpoch());
                    out.partitions().add(new OffsetForLeaderEpochResponseData.EpochEndOffset().setPartition(p.partition())
                            .setLeaderEpoch(end.epoch()).setEndOffset(end.endOffset()));
                }
            }
            return CompletableFuture.completedFuture(response);
        }
    }

    @AfterEach
    void tearDown() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
        pool.shutdownNow();
    }

    private static ByteBuffer batch(String... values) {
        SimpleRecord[] records = new SimpleRecord[values.length];
        for (int i = 0; i < values.length; i++) {
            records[i] = new SimpleRecord(System.currentTimeMillis(), null, values[i].getBytes());
        }
        return MemoryRecords.withRecords(Compression.NONE, records).buffer();
    }

    private static List<String> values(Partition partition) throws Exception {
        FileSliceRecords slice = partition.log().logEndOffset() == 0 ? null
                : new FileSliceRecords(partition.log().read(0, Integer.MAX_VALUE, Long.MAX_VALUE, true));
        List<String> values = new ArrayList<>();
        if (slice == null) {
            return values;
        }
        ByteBuffer bytes = slice.readAll();
        for (RecordBatch b : MemoryRecords.readableRecords(bytes).batches()) {
            for (Record r : b) {
                byte[] v = new byte[r.valueSize()];
                r.value().get(v);
                values.add(new String(v));
            }
        }
        return values;
    }

    private static void await(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting until " + what);
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
        }
    }

    @Test
    void aFollowerCopiesItsLeaderAndTruncatesWhatANewLeaderNeverHad() throws Exception {
        Node a = new Node(1);
        Node b = new Node(2);
        Map<Integer, Node> nodes = Map.of(1, a, 2, b);
        ReplicaFetcherManager fetchersOfB = new ReplicaFetcherManager(2, b.replicas, new InMemoryEndpoint(nodes),
                new ReplicaFetcherManager.Settings(100, 1 << 20, 10 << 20, 10));
        closeables.add(fetchersOfB);
        // Epoch 0: A leads, B follows; acks=all needs both (ISR [1, 2]).
        a.partition.updateState(new Partition.State(1, 0, 0, List.of(1, 2), List.of(1, 2)));
        b.partition.updateState(new Partition.State(1, 0, 0, List.of(1, 2), List.of(1, 2)));
        a.replicas.onStateChange(a.partition);
        fetchersOfB.follow(b.partition, 1);
        ReplicaManager.AppendResult acked = a.replicas.appendRecords(a.partition, batch("a0", "a1", "a2"), (short) -1,
                10_000).get(10, TimeUnit.SECONDS);
        assertThat(acked.error()).isEqualTo(Errors.NONE);
        assertThat(b.partition.logEndOffset()).as("acks=all answered only once the follower had it").isEqualTo(3);
        assertThat(b.partition.log().flushedOffset()).as("and had it fsynced").isEqualTo(3);
        assertThat(values(b.partition)).containsExactly("a0", "a1", "a2");

        // B stops fetching; A takes two more records that only it has (acks=1: never acknowledged as committed).
        fetchersOfB.stopFollowing(b.partition);
        a.replicas.appendRecords(a.partition, batch("lost0", "lost1"), (short) 1, 10_000).get(10, TimeUnit.SECONDS);
        assertThat(a.partition.logEndOffset()).isEqualTo(5);
        assertThat(a.partition.highWatermark()).as("not committed without the follower").isEqualTo(3);

        // Epoch 1: B leads (A was cut off); B takes new records; A comes back as follower of B.
        b.partition.updateState(new Partition.State(2, 1, 1, List.of(1, 2), List.of(2)));
        b.replicas.onStateChange(b.partition);
        b.replicas.appendRecords(b.partition, batch("b0", "b1", "b2", "b3"), (short) 1, 10_000).get(10, TimeUnit.SECONDS);
        ReplicaFetcherManager fetchersOfA = new ReplicaFetcherManager(1, a.replicas, new InMemoryEndpoint(nodes),
                new ReplicaFetcherManager.Settings(100, 1 << 20, 10 << 20, 10));
        closeables.add(fetchersOfA);
        a.partition.updateState(new Partition.State(2, 1, 1, List.of(1, 2), List.of(2)));
        a.replicas.onStateChange(a.partition);
        fetchersOfA.follow(a.partition, 2);
        await("A copied B's log", () -> a.partition.logEndOffset() == 7);
        assertThat(values(a.partition)).containsExactly("a0", "a1", "a2", "b0", "b1", "b2", "b3");
        assertThat(a.partition.log().latestEpoch()).isEqualTo(1);
        assertThat(a.partition.log().endOffsetForEpoch(0).endOffset()).isEqualTo(3);
        // A's fetches moved B's high watermark over the ISR it would have after A rejoins.
        await("B's high watermark at its log end", () -> b.partition.highWatermark() == 7);
    }
}
