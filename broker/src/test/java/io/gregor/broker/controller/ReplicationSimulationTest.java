package io.gregor.broker.controller;

import static org.assertj.core.api.Assertions.assertThat;

import io.gregor.metadata.BrokerRegistration;
import io.gregor.metadata.ControllerResult;
import io.gregor.metadata.MetadataImage;
import io.gregor.metadata.MetadataRecord;
import io.gregor.metadata.PartitionRegistration;
import io.gregor.replication.Partition;
import io.gregor.replication.ReplicaFetcherManager;
import io.gregor.storage.FailureProbe;
import io.gregor.storage.FetchSlice;
import io.gregor.storage.Log;
import io.gregor.storage.LogAppendInfo;
import io.gregor.storage.LogConfig;
import io.gregor.storage.OffsetOutOfRangeException;
import io.gregor.storage.Time;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.Record;
import org.apache.kafka.common.record.RecordBatch;
import org.apache.kafka.common.record.SimpleRecord;
import org.junit.jupiter.api.Test;

/**
 * A seeded simulation of replication and leader election on three nodes: one partition, replication factor 3,
 * min.insync.replicas 2. Each step picks one thing to happen at random: a produce (acks=all) on the node that believes
 * it leads, a leader's fsync, a follower's Fetch or OffsetForLeaderEpoch, the delivery of any message in flight (so
 * messages are reordered), the loss of a message (its sender sees a timeout), a node learning the next metadata
 * (nodes lag the controller), an ISR check, a crash that drops everything a node had not fsynced, a restart, the
 * controller fencing a node whose session expired, or time passing.
 *
 * <p>What runs is Gregor's own code wherever a decision is made: real logs on disk ({@link Log}: appends, fsync,
 * truncation, recovery after the crash), the leader's {@link Partition} (follower tracking, the high watermark over
 * the durable ends of the ISR, ISR expansion and shrinking), the follower's truncation rule
 * ({@link ReplicaFetcherManager#truncationOffset}) and the controller's operations on a real {@link MetadataImage}
 * (AlterPartition, fencing, registration). The simulation supplies the network, the disks' power and the glue the
 * request handlers and fetcher threads are (kept to what they do).
 *
 * <p>Invariants, checked as it runs and after a final phase where every node is up and nothing is lost: no
 * acknowledged record is lost or replaced; records below a leader's high watermark (seen by consumers) stay in every
 * later leader's log; the logs of the ISR agree up to the leader's high watermark; one node leads an epoch. A failure
 * names its seed: {@code -Dgregor.sim.seed=N -Dgregor.sim.seeds=1} replays it.
 */
class ReplicationSimulationTest {

    @Test
    void noAcknowledgedRecordIsLostUnderMessageLossReorderingAndCrashes() throws Exception {
        long first = Long.getLong("gregor.sim.seed", 1);
        int seeds = Integer.getInteger("gregor.sim.seeds", 64);
        int steps = Integer.getInteger("gregor.sim.steps", 4000);
        long acknowledged = 0;
        long crashes = 0;
        long elections = 0;
        for (long seed = first; seed < first + seeds; seed++) {
            Path dir = Files.createTempDirectory(tempRoot(), "gregor-sim-" + seed + "-");
            try {
                Simulation sim = new Simulation(seed, dir, steps);
                try {
                    sim.run();
                } catch (AssertionError | RuntimeException e) {
                    throw new AssertionError("seed " + seed + " at step " + sim.step + " (replay: -Dgregor.sim.seed=" + seed
                            + " -Dgregor.sim.seeds=1): " + e + "\n" + sim.trace(), e);
                } finally {
                    sim.close();
                }
                acknowledged += sim.acked.size();
                if (seeds == 1) {
                    System.out.printf("refused %d, expired %d, abandoned %d, no leader %d%n%s%n", sim.refused, sim.expired,
                            sim.abandoned, sim.notLeader, Boolean.getBoolean("gregor.sim.print") ? sim.trace() : "");
                }
                crashes += sim.crashes;
                elections += sim.elections;
            } finally {
                deleteTree(dir);
            }
        }
        System.out.printf("ReplicationSimulationTest: %d seeds x %d steps: %d records acknowledged, %d crashes, %d leader"
                + " changes%n", seeds, steps, acknowledged, crashes, elections);
        // A run in which nothing was acknowledged, or nothing failed, would prove nothing.
        assertThat(acknowledged).as("acknowledged records").isGreaterThan(seeds * 20L);
        assertThat(crashes).as("crashes").isGreaterThan(seeds);
        assertThat(elections).as("leader changes").isGreaterThan(seeds);
    }

    /** A RAM-backed directory when there is one (fsync costs nothing there), else the default temporary directory. */
    private static Path tempRoot() {
        Path shm = Path.of("/dev/shm");
        return Files.isDirectory(shm) && Files.isWritable(shm) ? shm : Path.of(System.getProperty("java.io.tmpdir"));
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** One seeded run. */
    private static final class Simulation implements AutoCloseable {
        private static final String TOPIC = "sim";
        private static final int NODES = 3;
        private static final int MIN_ISR = 2;
        /** replica.lag.time.max.ms, in simulated milliseconds. */
        private static final long LAG_MS = 200;
        private static final long PRODUCE_TIMEOUT_MS = 2_000;
        private static final LogConfig LOG_CONFIG = LogConfig.defaults().withSegmentBytes(4096);

        final Random random;
        final Path dir;
        final int steps;
        int step;
        long now = 1_000;
        long crashes;
        long elections;
        long refused;
        long expired;
        long abandoned;
        long notLeader;
        private long nextMessageId;
        private final Uuid topicId = Uuid.randomUuid();
        private MetadataImage image = MetadataImage.EMPTY;
        private final List<MetadataImage> versions = new ArrayList<>();
        private final Node[] nodes = new Node[NODES + 1];
        private final List<Message> inFlight = new ArrayList<>();
        /** Acknowledged records: offset to value. */
        final Map<Long, String> acked = new TreeMap<>();
        /** Records some leader exposed below its high watermark: offset to batch checksum and value. */
        private final Map<Long, String> exposed = new TreeMap<>();
        private final Map<Integer, Integer> epochLeaders = new HashMap<>();
        private final java.util.ArrayDeque<String> trace = new java.util.ArrayDeque<>();
        private int nextValue;

        Simulation(long seed, Path dir, int steps) {
            this.random = new Random(seed);
            this.dir = dir;
            this.steps = steps;
        }

        // ---- The world -------------------------------------------------------------------------------------------

        private final class Node {
            final int id;
            final Path logDir;
            boolean alive = true;
            int incarnation;
            Log log;
            Partition partition;
            int seen = -1;
            boolean started;
            /** The follower side: which leader and epoch it follows, whether it truncated, what it waits for. */
            int followLeader = -1;
            int followEpoch = -1;
            boolean truncated;
            int followGeneration;
            boolean awaiting;
            long deadAt;
            final List<PendingProduce> pending = new ArrayList<>();

            Node(int id) {
                this.id = id;
                this.logDir = dir.resolve("n" + id).resolve(TOPIC + "-0");
                open(true);
            }

            void open(boolean clean) {
                log = Log.open(logDir, LOG_CONFIG, Time.SYSTEM, FailureProbe.NONE, clean);
                // As the replica manager adds a partition: the durable records count as committed until the leader
                // says otherwise.
                if (log.highWatermark() < log.flushedOffset()) {
                    log.updateHighWatermark(log.flushedOffset());
                }
                partition = new Partition(TOPIC, topicId, 0, log, Partition.State.soleLeader(id, Math.max(0, log.latestEpoch())),
                        MIN_ISR);
                started = false;
                followLeader = -1;
                followGeneration++;
                awaiting = false;
            }

            MetadataImage view() {
                return seen < 0 ? MetadataImage.EMPTY : versions.get(seen);
            }

            boolean leads() {
                return alive && started && partition.isLeader(id);
            }
        }

        private record PendingProduce(long requiredOffset, int leaderEpoch, long firstOffset, List<String> values,
                                      long deadline) {
        }

        /** A message between nodes (0 is the controller); {@code generation} tells a reply to a request that is gone. */
        private record Message(long id, int from, int to, int toIncarnation, int generation, Object body) {
        }

        private record FetchRequest(long fetchOffset, int currentLeaderEpoch, long logStartOffset, int maxBytes) {
        }

        private record FetchResponse(Errors error, ByteBuffer records, long highWatermark, long logStartOffset) {
        }

        private record EpochRequest(int currentLeaderEpoch, int epoch) {
        }

        private record EpochResponse(Errors error, int epoch, long endOffset) {
        }

        private record AlterPartitionRequest(int leaderEpoch, int partitionEpoch, List<Integer> isr) {
        }

        private record AlterPartitionResponse(Errors error) {
        }

        /** A request or its answer was lost: its sender gives up on it. */
        private record Timeout() {
        }

        // ---- The run ---------------------------------------------------------------------------------------------

        void run() {
            List<MetadataRecord> start = new ArrayList<>();
            for (int id = 1; id <= NODES; id++) {
                nodes[id] = new Node(id);
            }
            for (int id = 1; id <= NODES; id++) {
                commit(ClusterOperations.registration(image, id, Uuid.randomUuid(), List.of(), null,
                        ClusterOperations.NEVER_UNCLEAN));
            }
            start.add(new MetadataRecord.TopicCreated(TOPIC, topicId, 1, Map.of()));
            start.add(new MetadataRecord.PartitionState(topicId, 0, PartitionRegistration.of(List.of(1, 2, 3))));
            commit(start);
            for (step = 0; step < steps; step++) {
                act(false);
                if (step % 20 == 0) {
                    checkIsrAgreement();
                }
            }
            converge();
            checkIsrAgreement();
            checkFinalLogs();
        }

        private void act(boolean calm) {
            int choice = random.nextInt(1000);
            if (choice < 150) {
                if (!calm) {
                    produce();
                }
            } else if (choice < 250) {
                leaderFsync(randomNode());
            } else if (choice < 420) {
                followerRequest(randomNode());
            } else if (choice < 680) {
                deliver();
            } else if (choice < 710) {
                if (!calm) {
                    lose();
                }
            } else if (choice < 820) {
                learnMetadata(randomNode());
            } else if (choice < 870) {
                checkIsrs(randomNode());
            } else if (choice < 876) {
                if (!calm) {
                    crash(randomNode());
                }
            } else if (choice < 916) {
                restart(randomNode());
            } else if (choice < 946) {
                fenceExpired();
            } else {
                now += 1 + random.nextInt(40);
                for (Node n : live()) {
                    expireProduces(n);
                }
            }
        }

        /**
     * Every node up, no more produces, crashes or lost messages, until every replica holds what the leader holds and
     * all of it is committed.
     */
        private void converge() {
            for (int round = 0; round < 20_000; round++) {
                for (Node n : nodes) {
                    if (n != null && !n.alive) {
                        now += 1_000;
                        fenceExpired();
                        restart(n);
                    }
                }
                act(true);
                step++;
                if (round % 50 == 0 && converged()) {
                    return;
                }
            }
            throw new AssertionError("no convergence after every node came back: " + describe());
        }

        private boolean converged() {
            PartitionRegistration r = registration(image);
            if (r.leader() < 0 || r.isr().size() < NODES) {
                return false;
            }
            Node leader = nodes[r.leader()];
            if (!leader.leads() || leader.partition.leaderEpoch() != r.leaderEpoch()) {
                return false;
            }
            long end = leader.log.logEndOffset();
            if (leader.log.highWatermark() != end || !leader.pending.isEmpty()) {
                return false;
            }
            for (Node n : nodes) {
                if (n != null && (n.log.logEndOffset() != end || n.seen != versions.size() - 1)) {
                    return false;
                }
            }
            return true;
        }

        // ---- Produce and the leader -------------------------------------------------------------------------------

        private void produce() {
            boolean anyLeader = live().stream().anyMatch(Node::leads);
            if (!anyLeader) {
                notLeader++;
            }
            for (Node n : live()) {
                if (!n.leads()) {
                    continue;
                }
                if (n.partition.isrSize() < n.partition.minInsyncReplicas()) {
                    refused++;
                    note("n%d refuses a produce: ISR %s below min.insync.replicas", n.id, n.partition.state().isr());
                    return;
                }
                int count = 1 + random.nextInt(3);
                List<String> values = new ArrayList<>();
                SimpleRecord[] records = new SimpleRecord[count];
                for (int i = 0; i < count; i++) {
                    String value = "v" + nextValue++;
                    values.add(value);
                    records[i] = new SimpleRecord(now, "k".getBytes(StandardCharsets.UTF_8), value.getBytes(StandardCharsets.UTF_8));
                }
                int epoch = n.partition.leaderEpoch();
                assertThat(epochLeaders.get(epoch)).as("the node that appends as leader of epoch %d", epoch).isEqualTo(n.id);
                LogAppendInfo info = n.log.append(MemoryRecords.withRecords(Compression.NONE, records).buffer(), epoch);
                n.pending.add(new PendingProduce(info.lastOffset() + 1, epoch, info.firstOffset(), values,
                        now + PRODUCE_TIMEOUT_MS));
                note("n%d appends %s at %d (epoch %d)", n.id, values, info.firstOffset(), epoch);
                return;
            }
        }

        private void leaderFsync(Node n) {
            if (n == null || !n.alive) {
                return;
            }
            n.log.flush();
            if (n.leads()) {
                advanceHighWatermark(n);
            }
        }

        private void advanceHighWatermark(Node n) {
            n.partition.maybeAdvanceHighWatermark();
            recordExposed(n);
            completeProduces(n);
        }

        /** As the replica manager's delayed produce: acknowledged once the high watermark passes it, same epoch. */
        private void completeProduces(Node n) {
            for (var it = n.pending.iterator(); it.hasNext(); ) {
                PendingProduce p = it.next();
                if (!n.partition.isLeader(n.id) || n.partition.leaderEpoch() != p.leaderEpoch()) {
                    it.remove(); // NOT_LEADER_OR_FOLLOWER: never acknowledged
                    abandoned++;
                } else if (n.partition.highWatermark() >= p.requiredOffset()) {
                    it.remove();
                    if (n.partition.isrSize() < n.partition.minInsyncReplicas()) {
                        continue; // NOT_ENOUGH_REPLICAS_AFTER_APPEND
                    }
                    for (int i = 0; i < p.values().size(); i++) {
                        String was = acked.put(p.firstOffset() + i, p.values().get(i));
                        assertThat(was).as("an acknowledged record at offset %d replaced", p.firstOffset() + i).isNull();
                    }
                    note("n%d acknowledges %s at %d", n.id, p.values(), p.firstOffset());
                }
            }
        }

        private void expireProduces(Node n) {
            expired += n.pending.stream().filter(p -> now > p.deadline()).count();
            n.pending.removeIf(p -> now > p.deadline()); // REQUEST_TIMED_OUT
        }

        /** Records below a leader's high watermark are visible to consumers: remember what they are. */
        private void recordExposed(Node n) {
            long hw = n.log.highWatermark();
            long from = exposed.isEmpty() ? n.log.logStartOffset() : Math.max(n.log.logStartOffset(),
                    ((TreeMap<Long, String>) exposed).lastKey() + 1);
            for (Map.Entry<Long, String> e : read(n.log, from, hw).entrySet()) {
                String was = exposed.putIfAbsent(e.getKey(), e.getValue());
                assertThat(was == null || was.equals(e.getValue())).as("offset %d below a high watermark was %s, n%d now"
                        + " exposes %s", e.getKey(), was, n.id, e.getValue()).isTrue();
            }
        }

        /** A follower's Fetch, on the node it was sent to (the Fetch handler and the replica manager's read). */
        private void onFetch(Node leader, Message m, FetchRequest req) {
            Partition p = leader.partition;
            if (p.isLeader(leader.id) && p.state().replicas().contains(m.from())
                    && p.checkLeaderEpoch(req.currentLeaderEpoch()) == Errors.NONE) {
                p.recordFollowerFetch(m.from(), req.fetchOffset(), leader.log.logEndOffset(), now);
                advanceHighWatermark(leader);
                List<Integer> expanded = p.isrWithCaughtUpFollower(m.from(), req.fetchOffset(), now);
                BrokerRegistration b = leader.view().broker(m.from());
                if (expanded != null && b != null && !b.fenced()) {
                    p.setPendingIsr(expanded);
                    send(leader.id, 0, 0, new AlterPartitionRequest(p.leaderEpoch(), p.state().partitionEpoch(), expanded));
                    note("n%d proposes ISR %s (n%d caught up at %d)", leader.id, expanded, m.from(), req.fetchOffset());
                }
            }
            Errors error = p.checkLeaderEpoch(req.currentLeaderEpoch());
            if (error == Errors.NONE && (!p.isLeader(leader.id) || !p.state().replicas().contains(m.from()))) {
                error = Errors.NOT_LEADER_OR_FOLLOWER;
            }
            if (error != Errors.NONE) {
                reply(m, new FetchResponse(error, null, -1, -1));
                return;
            }
            try {
                FetchSlice slice = leader.log.read(req.fetchOffset(), req.maxBytes(), Long.MAX_VALUE, true);
                reply(m, new FetchResponse(Errors.NONE, bytesOf(slice), leader.log.highWatermark(),
                        leader.log.logStartOffset()));
            } catch (OffsetOutOfRangeException e) {
                reply(m, new FetchResponse(Errors.OFFSET_OUT_OF_RANGE, null, leader.log.highWatermark(),
                        leader.log.logStartOffset()));
            }
        }

        /** OffsetForLeaderEpoch, as its handler answers it. */
        private void onEpochRequest(Node leader, Message m, EpochRequest req) {
            Errors error = leader.partition.checkLeaderEpoch(req.currentLeaderEpoch());
            if (error != Errors.NONE) {
                reply(m, new EpochResponse(error, -1, -1));
                return;
            }
            var found = leader.log.endOffsetForEpoch(req.epoch());
            reply(m, new EpochResponse(Errors.NONE, found.epoch(), found.endOffset()));
        }

        private void checkIsrs(Node n) {
            if (n == null || !n.leads()) {
                return;
            }
            List<Integer> resend = n.partition.pendingIsrToResend(now);
            if (resend != null) {
                send(n.id, 0, 0, new AlterPartitionRequest(n.partition.leaderEpoch(), n.partition.state().partitionEpoch(),
                        resend));
                note("n%d proposes ISR %s again (no answer)", n.id, resend);
                return;
            }
            List<Integer> kept = n.partition.isrWithoutLaggingFollowers(n.id, now, LAG_MS);
            if (kept != null) {
                n.partition.setPendingIsr(kept);
                send(n.id, 0, 0, new AlterPartitionRequest(n.partition.leaderEpoch(), n.partition.state().partitionEpoch(),
                        kept));
                note("n%d proposes ISR %s (lagging followers)", n.id, kept);
            }
        }

        private void onAlterPartitionAnswer(Node leader, AlterPartitionResponse answer) {
            if (answer.error() != Errors.NONE) {
                // As the replica manager's isrChangeFailed (a timeout is an unknown outcome).
                leader.partition.onIsrChangeFailed(answer.error() == Errors.REQUEST_TIMED_OUT ? null : answer.error(), now,
                        50);
            }
        }

        // ---- The follower -----------------------------------------------------------------------------------------

        private void followerRequest(Node n) {
            if (n == null || !n.alive || n.followLeader < 0 || n.awaiting) {
                return;
            }
            if (!n.truncated) {
                int latest = n.log.latestEpoch();
                if (latest < 0) {
                    n.truncated = true;
                    return;
                }
                n.awaiting = true;
                send(n.id, n.followLeader, n.followGeneration, new EpochRequest(n.followEpoch, latest));
                return;
            }
            if (n.log.flushedOffset() < n.log.logEndOffset()) {
                n.log.flush(); // a fetch offset claims durability
            }
            n.awaiting = true;
            send(n.id, n.followLeader, n.followGeneration, new FetchRequest(n.log.logEndOffset(), n.followEpoch,
                    n.log.logStartOffset(), 64 + random.nextInt(1500)));
        }

        private void onEpochAnswer(Node n, EpochResponse answer) {
            n.awaiting = false;
            if (answer.error() != Errors.NONE) {
                return;
            }
            long target = ReplicaFetcherManager.truncationOffset(n.log, answer.epoch(), answer.endOffset());
            if (target < n.log.logEndOffset()) {
                note("n%d truncates from %d to %d (leader n%d: epoch %d ends at %d)", n.id, n.log.logEndOffset(), target,
                        n.followLeader, answer.epoch(), answer.endOffset());
                n.log.truncateTo(target);
            }
            n.truncated = true;
        }

        /** As the fetcher thread and the replica manager's appendAsFollower; the fsync comes before the next fetch. */
        private void onFetchAnswer(Node n, FetchResponse answer) {
            n.awaiting = false;
            if (answer.error() == Errors.OFFSET_OUT_OF_RANGE && answer.logStartOffset() >= 0
                    && n.log.logEndOffset() < answer.logStartOffset()) {
                n.log.truncateFullyAndStartAt(answer.logStartOffset());
                return;
            }
            if (answer.error() == Errors.OFFSET_OUT_OF_RANGE) {
                n.truncated = false;
                return;
            }
            if (answer.error() != Errors.NONE) {
                note("n%d fetch from n%d: %s", n.id, n.followLeader, answer.error());
                return;
            }
            if (answer.records() != null && answer.records().hasRemaining()) {
                try {
                    n.log.appendAsFollower(answer.records());
                } catch (RuntimeException e) {
                    note("n%d cannot append what n%d sent: %s", n.id, n.followLeader, e.getMessage());
                    n.truncated = false;
                    return;
                }
            }
            long hw = Math.min(answer.highWatermark(), n.log.logEndOffset());
            if (hw > n.log.highWatermark()) {
                n.log.updateHighWatermark(hw);
            }
        }

        // ---- Metadata and the controller ------------------------------------------------------------------------

        private void commit(List<MetadataRecord> records) {
            if (records.isEmpty()) {
                return;
            }
            PartitionRegistration before = image.topic(topicId) == null ? null : registration(image);
            image = image.apply(image.offset() + 1, records);
            versions.add(image);
            PartitionRegistration after = image.topic(topicId) == null ? null : registration(image);
            if (after != null && after.leader() >= 0) {
                Integer was = epochLeaders.putIfAbsent(after.leaderEpoch(), after.leader());
                assertThat(was == null || was == after.leader()).as("one leader of epoch %d: n%d and n%d",
                        after.leaderEpoch(), was, after.leader()).isTrue();
            }
            if (before != null && after != null && after.leaderEpoch() != before.leaderEpoch()) {
                elections++;
                note("controller: leader n%d epoch %d, ISR %s", after.leader(), after.leaderEpoch(), after.isr());
                if (after.leader() > 0) {
                    checkHoldsEverything(nodes[after.leader()], "the new leader n" + after.leader());
                }
            } else if (before != null && after != null && !after.equals(before)) {
                note("controller: ISR %s (partition epoch %d)", after.isr(), after.partitionEpoch());
            }
        }

        private PartitionRegistration registration(MetadataImage of) {
            return of.topic(topicId).registration(0);
        }

        /** The next metadata version reaches node {@code n} (the metadata log is applied in order, late). */
        private void learnMetadata(Node n) {
            if (n == null || !n.alive || n.seen >= versions.size() - 1) {
                return;
            }
            n.seen++;
            applyRegistration(n);
        }

        /** As the partition manager applies a registration to a partition and the replica manager reacts. */
        private void applyRegistration(Node n) {
            MetadataImage view = n.view();
            if (view.topic(topicId) == null) {
                return;
            }
            PartitionRegistration r = registration(view);
            Partition p = n.partition;
            Partition.State next = new Partition.State(r.leader(), r.leaderEpoch(), r.partitionEpoch(), r.replicas(), r.isr());
            Partition.State current = p.state();
            boolean fresh = !n.started;
            if (next.equals(current) && !fresh) {
                return;
            }
            if (r.leaderEpoch() < current.leaderEpoch() && current.partitionEpoch() > 0) {
                return;
            }
            p.updateState(next, now);
            if (fresh) {
                p.forgetHighWatermarkIfReplicated();
            }
            n.started = true;
            if (p.isLeader(n.id)) {
                if (p.leaderEpoch() > n.log.latestEpoch()) {
                    n.log.assignEpoch(p.leaderEpoch(), n.log.logEndOffset());
                }
                advanceHighWatermark(n);
            } else {
                completeProduces(n);
            }
            if (next.leaderId() != current.leaderId() || next.leaderEpoch() != current.leaderEpoch() || fresh) {
                n.followGeneration++;
                n.awaiting = false;
                if (next.leaderId() == n.id || next.leaderId() < 0) {
                    n.followLeader = -1;
                } else {
                    n.followLeader = next.leaderId();
                    n.followEpoch = next.leaderEpoch();
                    n.truncated = false;
                }
            }
        }

        private void onAlterPartition(Message m, AlterPartitionRequest req) {
            ControllerResult<ClusterOperations.IsrChanged> result = ClusterOperations.alterPartition(image, m.from(), topicId,
                    0, req.leaderEpoch(), req.partitionEpoch(), req.isr());
            commit(result.records());
            reply(m, new AlterPartitionResponse(result.response().error()));
        }

        /** The controller fences a node that has been silent for a session timeout. */
        private void fenceExpired() {
            for (Node n : nodes) {
                if (n == null || n.alive || now - n.deadAt < 300) {
                    continue;
                }
                BrokerRegistration b = image.broker(n.id);
                if (b != null && !b.fenced()) {
                    note("controller: fences n%d", n.id);
                    commit(ClusterOperations.fence(image, b, ClusterOperations.NEVER_UNCLEAN));
                    return;
                }
            }
        }

        // ---- Faults ----------------------------------------------------------------------------------------------

        /** Power loss: what the node had not fsynced is gone; so are its requests and what was sent to it. */
        private void crash(Node n) {
            if (n == null || !n.alive || live().size() < 2) {
                return;
            }
            crashes++;
            note("n%d crashes: log end %d, fsynced to %d, high watermark %d", n.id, n.log.logEndOffset(),
                    n.log.flushedOffset(), n.log.highWatermark());
            n.log.truncateTo(n.log.flushedOffset());
            n.log.close();
            n.alive = false;
            n.deadAt = now;
            n.pending.clear();
            n.incarnation++;
            List<Message> lost = inFlight.stream().filter(m -> m.to() == n.id).toList();
            inFlight.removeAll(lost);
            lost.forEach(this::timeout); // its peers' requests time out; answers to it are gone
        }

        /**
         * A node starts again: recovers its log, catches up with the metadata, registers (a new incarnation) and waits
         * until its registration is in its metadata.
         */
        private void restart(Node n) {
            if (n == null || n.alive) {
                return;
            }
            n.alive = true;
            n.open(false);
            n.seen = versions.size() - 1;
            applyRegistration(n);
            note("n%d restarts: log end %d, latest epoch %d", n.id, n.log.logEndOffset(), n.log.latestEpoch());
            commit(ClusterOperations.registration(image, n.id, Uuid.randomUuid(), List.of(), null,
                    ClusterOperations.NEVER_UNCLEAN));
            // As the broker: it serves requests (and so leads) only once its registration is in its own metadata.
            n.seen = versions.size() - 1;
            applyRegistration(n);
        }

        private void lose() {
            if (inFlight.isEmpty()) {
                return;
            }
            Message m = inFlight.get(random.nextInt(inFlight.size()));
            if (m.body() instanceof Timeout) {
                return; // a timeout is the requester's own clock, not a message that can be lost
            }
            inFlight.remove(m);
            timeout(m);
        }

        /** A lost request or answer: the requester times out. */
        private void timeout(Message m) {
            if (m.body() instanceof Timeout) {
                return;
            }
            boolean request = isRequest(m.body());
            int requester = request ? m.from() : m.to();
            if (requester == 0) {
                return; // the controller answers no one's timeout
            }
            int incarnation = request ? nodes[requester].incarnation : m.toIncarnation();
            boolean isrChange = m.body() instanceof AlterPartitionRequest || m.body() instanceof AlterPartitionResponse;
            inFlight.add(new Message(nextMessageId++, request ? m.to() : m.from(), requester, incarnation, m.generation(),
                    isrChange ? new AlterPartitionResponse(Errors.REQUEST_TIMED_OUT) : new Timeout()));
        }

        private static boolean isRequest(Object body) {
            return body instanceof FetchRequest || body instanceof EpochRequest || body instanceof AlterPartitionRequest;
        }

        // ---- The network -----------------------------------------------------------------------------------------

        private void send(int from, int to, int generation, Object body) {
            int incarnation = to == 0 ? 0 : nodes[to].incarnation;
            inFlight.add(new Message(nextMessageId++, from, to, incarnation, generation, body));
        }

        private void reply(Message request, Object body) {
            int incarnation = request.from() == 0 ? 0 : nodes[request.from()].incarnation;
            inFlight.add(new Message(nextMessageId++, request.to(), request.from(), incarnation, request.generation(), body));
        }

        /** Delivers one message in flight, any one (so they are reordered). */
        private void deliver() {
            if (inFlight.isEmpty()) {
                return;
            }
            Message m = inFlight.remove(random.nextInt(inFlight.size()));
            if (m.to() == 0) {
                if (m.body() instanceof AlterPartitionRequest req) {
                    onAlterPartition(m, req);
                }
                return;
            }
            Node n = nodes[m.to()];
            if (!n.alive || n.incarnation != m.toIncarnation()) {
                if (isRequest(m.body())) {
                    timeout(m); // sent to a process that is gone: the request times out
                }
                return;
            }
            switch (m.body()) {
                case FetchRequest req -> onFetch(n, m, req);
                case EpochRequest req -> onEpochRequest(n, m, req);
                case AlterPartitionResponse answer -> onAlterPartitionAnswer(n, answer);
                case FetchResponse answer -> {
                    if (m.generation() == n.followGeneration) {
                        onFetchAnswer(n, answer);
                    }
                }
                case EpochResponse answer -> {
                    if (m.generation() == n.followGeneration) {
                        onEpochAnswer(n, answer);
                    }
                }
                case Timeout ignored -> {
                    if (m.generation() == n.followGeneration) {
                        n.awaiting = false;
                    }
                }
                default -> throw new IllegalStateException("unknown message " + m);
            }
        }

        // ---- Invariants ------------------------------------------------------------------------------------------

        /** A new leader must hold every acknowledged record and every record a leader exposed, at its offset. */
        private void checkHoldsEverything(Node leader, String who) {
            if (!leader.alive || acked.isEmpty() && exposed.isEmpty()) {
                return;
            }
            Map<Long, String> has = read(leader.log, leader.log.logStartOffset(), leader.log.logEndOffset());
            for (Map.Entry<Long, String> a : acked.entrySet()) {
                assertThat(valueOf(has.get(a.getKey()))).as("acknowledged %s at offset %d, on %s", a.getValue(), a.getKey(), who)
                        .isEqualTo(a.getValue());
            }
            for (Map.Entry<Long, String> e : exposed.entrySet()) {
                assertThat(has.get(e.getKey())).as("record %s at offset %d, below a high watermark, on %s", e.getValue(),
                        e.getKey(), who).isEqualTo(e.getValue());
            }
        }

        /** Each live member of the ISR holds the leader's records up to the leader's high watermark. */
        private void checkIsrAgreement() {
            PartitionRegistration r = registration(image);
            if (r.leader() < 0 || !nodes[r.leader()].leads() || nodes[r.leader()].partition.leaderEpoch() != r.leaderEpoch()) {
                return;
            }
            Node leader = nodes[r.leader()];
            long hw = leader.log.highWatermark();
            Map<Long, String> reference = read(leader.log, leader.log.logStartOffset(), hw);
            for (int member : r.isr()) {
                Node n = nodes[member];
                if (n == leader || !n.alive) {
                    continue;
                }
                Map<Long, String> has = read(n.log, n.log.logStartOffset(), Math.min(hw, n.log.logEndOffset()));
                assertThat(n.log.logEndOffset()).as("log end of ISR member n%d against leader n%d's high watermark",
                        member, leader.id).isGreaterThanOrEqualTo(hw);
                for (Map.Entry<Long, String> e : reference.entrySet()) {
                    if (e.getKey() >= n.log.logStartOffset()) {
                        assertThat(has.get(e.getKey())).as("offset %d on ISR member n%d against leader n%d", e.getKey(),
                                member, leader.id).isEqualTo(e.getValue());
                    }
                }
            }
        }

        private void checkFinalLogs() {
            Node leader = nodes[registration(image).leader()];
            checkHoldsEverything(leader, "the final leader n" + leader.id);
            Map<Long, String> reference = read(leader.log, leader.log.logStartOffset(), leader.log.logEndOffset());
            for (Node n : nodes) {
                if (n != null && n != leader) {
                    assertThat(read(n.log, n.log.logStartOffset(), n.log.logEndOffset())).as("the log of n%d against the"
                            + " final leader n%d", n.id, leader.id).isEqualTo(reference);
                }
            }
        }

        // ---- Helpers ---------------------------------------------------------------------------------------------

        /** Offset to "value@epoch" of every record in [from, to). */
        private static Map<Long, String> read(Log log, long from, long to) {
            Map<Long, String> out = new TreeMap<>();
            long offset = from;
            while (offset < to) {
                FetchSlice slice = log.read(offset, Integer.MAX_VALUE, to, true);
                if (slice.isEmpty()) {
                    break;
                }
                for (RecordBatch batch : MemoryRecords.readableRecords(bytesOf(slice)).batches()) {
                    for (Record record : batch) {
                        if (record.offset() >= from && record.offset() < to) {
                            out.put(record.offset(), StandardCharsets.UTF_8.decode(record.value()) + "@"
                                    + batch.partitionLeaderEpoch());
                        }
                    }
                    offset = batch.lastOffset() + 1;
                }
            }
            return out;
        }

        /** The value of a "value@epoch" that {@link #read} gives, null for null. */
        private static String valueOf(String valueAtEpoch) {
            return valueAtEpoch == null ? null : valueAtEpoch.substring(0, valueAtEpoch.lastIndexOf('@'));
        }

        private static ByteBuffer bytesOf(FetchSlice slice) {
            if (slice.isEmpty()) {
                return ByteBuffer.allocate(0);
            }
            ByteBuffer buffer = ByteBuffer.allocate(slice.size());
            try {
                while (buffer.hasRemaining()) {
                    if (slice.channel().read(buffer, slice.position() + buffer.position()) < 0) {
                        break;
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return buffer.flip();
        }

        private Node randomNode() {
            return nodes[1 + random.nextInt(NODES)];
        }

        private List<Node> live() {
            List<Node> out = new ArrayList<>();
            for (Node n : nodes) {
                if (n != null && n.alive) {
                    out.add(n);
                }
            }
            return out;
        }

        private void note(String format, Object... args) {
            trace.addLast(step + ": " + String.format(format, args));
            if (trace.size() > Integer.getInteger("gregor.sim.trace", 60)) {
                trace.removeFirst();
            }
        }

        String trace() {
            return "last events:\n  " + String.join("\n  ", trace) + "\nstate: " + describe() + "\nin flight: " + inFlight;
        }

        private String describe() {
            StringBuilder b = new StringBuilder("controller ").append(registration(image));
            for (Node n : nodes) {
                if (n != null) {
                    b.append(String.format("%n  n%d %s: state %s, log end %d, fsynced %d, hw %d, epoch %d, follows %d"
                                    + " (truncated %s, awaiting %s), pending ISR %s, metadata %d/%d, fenced %s",
                            n.id, n.alive ? "up" : "down", n.partition.state(), n.log.logEndOffset(),
                            n.log.flushedOffset(), n.log.highWatermark(), n.log.latestEpoch(), n.followLeader,
                            n.truncated, n.awaiting, n.partition.hasPendingIsr() ? n.partition.maximalIsr() : "none",
                            n.seen + 1, versions.size(), image.broker(n.id) == null ? "?" : image.broker(n.id).fenced()));
                }
            }
            return b.toString();
        }

        @Override
        public void close() {
            for (Node n : nodes) {
                if (n != null && n.alive) {
                    n.log.close();
                }
            }
        }
    }
}
