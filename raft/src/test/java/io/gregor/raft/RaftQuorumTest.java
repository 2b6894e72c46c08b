package io.gregor.raft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Three metadata logs in one JVM on real sockets: election, replication of entries, failover and catch-up. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RaftQuorumTest {
    @TempDir
    Path dir;

    private final List<RaftMetadataLog> opened = new ArrayList<>();
    private List<RaftVoter> voters;

    @AfterEach
    void closeAll() {
        opened.forEach(RaftMetadataLog::close);
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    private RaftMetadataLog node(int id, RecordingStateMachine machine) {
        return node(id, machine, 10_000);
    }

    private RaftMetadataLog node(int id, RecordingStateMachine machine, long snapshotEveryEntries) {
        RaftVoter self = voters.get(id - 1);
        RaftMetadataLog log = new RaftMetadataLog(new RaftSettings(dir.resolve("n" + id), id, "127.0.0.1", self.port(),
                snapshotEveryEntries, Duration.ofSeconds(30), voters, Duration.ofMillis(300)), machine);
        opened.add(log);
        return log;
    }

    /** Three voters on free ports, each with a machine of {@code machines}, started; returns them in id order. */
    private List<RaftMetadataLog> startThreeVoters(List<RecordingStateMachine> machines, long snapshotEveryEntries)
            throws IOException {
        voters = List.of(new RaftVoter(1, "127.0.0.1", freePort()), new RaftVoter(2, "127.0.0.1", freePort()),
                new RaftVoter(3, "127.0.0.1", freePort()));
        List<RaftMetadataLog> logs = new ArrayList<>();
        for (int id = 1; id <= 3; id++) {
            machines.add(new RecordingStateMachine());
            logs.add(node(id, machines.get(id - 1), snapshotEveryEntries));
        }
        startAll(logs);
        await("one node leads", () -> leaderOf(logs) != null);
        return logs;
    }

    private static void startAll(List<RaftMetadataLog> logs) {
        // Each start waits for a majority, so they must run at once (each on a thread of its own).
        java.util.concurrent.ExecutorService threads = java.util.concurrent.Executors.newFixedThreadPool(logs.size());
        try {
            logs.stream().map(log -> CompletableFuture.runAsync(log::start, threads)).toList()
                    .forEach(CompletableFuture::join);
        } finally {
            threads.shutdown();
        }
    }

    private static void await(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting until " + what);
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
        }
    }

    private static RaftMetadataLog leaderOf(List<RaftMetadataLog> logs) {
        return logs.stream().filter(RaftMetadataLog::isLeader).findFirst().orElse(null);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void shouldElectOneLeaderReplicateAndFailOver() throws Exception {
        voters = List.of(new RaftVoter(1, "127.0.0.1", freePort()), new RaftVoter(2, "127.0.0.1", freePort()),
                new RaftVoter(3, "127.0.0.1", freePort()));
        List<RecordingStateMachine> machines = List.of(new RecordingStateMachine(), new RecordingStateMachine(),
                new RecordingStateMachine());
        List<RaftMetadataLog> logs = new ArrayList<>();
        for (int id = 1; id <= 3; id++) {
            logs.add(node(id, machines.get(id - 1)));
        }
        List<Integer> changes = new java.util.concurrent.CopyOnWriteArrayList<>();
        logs.get(0).addLeadershipListener(changes::add);
        startAll(logs);

        await("one node leads", () -> leaderOf(logs) != null);
        RaftMetadataLog leader = leaderOf(logs);
        int leaderId = logs.indexOf(leader) + 1;
        assertThat(logs.stream().filter(RaftMetadataLog::isLeader)).hasSize(1);
        await("every node knows the leader", () -> logs.stream().allMatch(l -> l.leaderId() == leaderId));
        await("node 1 was told of the leader", () -> changes.contains(leaderId));

        for (int i = 0; i < 20; i++) {
            leader.append(bytes("a" + i)).join();
        }
        // A follower refuses appends: only the leader writes.
        RaftMetadataLog follower = logs.stream().filter(l -> l != leader).findFirst().orElseThrow();
        assertThatThrownBy(() -> follower.append(bytes("x")).join()).isInstanceOf(CompletionException.class)
                .cause().isInstanceOfSatisfying(MetadataLogException.class,
                        e -> assertThat(e.reason()).isEqualTo(MetadataLogException.Reason.NOT_LEADER));
        List<String> first20 = machines.get(leaderId - 1).entries();
        assertThat(first20).hasSize(20).startsWith("a0").endsWith("a19");
        await("every node applied the 20 entries", () -> machines.stream().allMatch(m -> m.entries().equals(first20)));

        // The leader stops: the two others elect one of themselves and go on.
        leader.close();
        List<RaftMetadataLog> rest = logs.stream().filter(l -> l != leader).toList();
        await("a new leader among the other two", () -> leaderOf(rest) != null);
        RaftMetadataLog second = leaderOf(rest);
        for (int i = 0; i < 10; i++) {
            second.append(bytes("b" + i)).join();
        }

        // The old leader comes back on the same directory and port and catches up as a follower.
        RecordingStateMachine again = new RecordingStateMachine();
        RaftMetadataLog back = node(leaderId, again);
        back.start();
        List<String> all = machines.get(logs.indexOf(second)).entries();
        assertThat(all).hasSize(30).endsWith("b9");
        await("the restarted node applied all 30 entries", () -> again.entries().equals(all));
        assertThat(back.isLeader()).isFalse();
    }

    @Test
    void shouldWaitForAMajorityAndSayWhatItWaitsFor() throws Exception {
        voters = List.of(new RaftVoter(1, "127.0.0.1", freePort()), new RaftVoter(2, "127.0.0.1", freePort()),
                new RaftVoter(3, "127.0.0.1", freePort()));
        RaftVoter self = voters.get(0);
        RaftMetadataLog alone = new RaftMetadataLog(new RaftSettings(dir.resolve("n1"), 1, "127.0.0.1", self.port(),
                10_000, Duration.ofSeconds(2), voters, Duration.ofMillis(300)), new RecordingStateMachine());
        opened.add(alone);
        assertThatThrownBy(alone::start).isInstanceOfSatisfying(MetadataLogException.class, e -> {
            assertThat(e.reason()).isEqualTo(MetadataLogException.Reason.START_TIMEOUT);
            assertThat(e.getMessage()).contains("elected no leader");
        });
    }

    private RaftMetadataLog observer(int id, RecordingStateMachine machine, int snapshotEvery, List<RaftVoter> known,
                                     List<String> bootstrap) {
        RaftMetadataLog log = new RaftMetadataLog(new RaftSettings(dir.resolve("n" + id), id, "127.0.0.1", 0,
                snapshotEvery, Duration.ofSeconds(30), known, Duration.ofMillis(300), true, bootstrap), machine);
        opened.add(log);
        return log;
    }

    @Test
    void anObserverJoinsARunningQuorumCatchesUpFromASnapshotAndNeverLeads() throws Exception {
        List<RecordingStateMachine> machines = new ArrayList<>();
        // Snapshots every 10 entries purge the log, so a late member must be sent a snapshot.
        List<RaftMetadataLog> logs = startThreeVoters(machines, 10);
        for (int i = 0; i < 35; i++) {
            leaderOf(logs).append(bytes("a" + i)).join();
        }

        // Node 4 knows only one voter's address, without ids (controller.quorum.bootstrap.servers).
        RecordingStateMachine observed = new RecordingStateMachine();
        RaftMetadataLog four = observer(4, observed, 10, List.of(), List.of("127.0.0.1:" + voters.get(2).port()));
        four.start();
        List<String> first35 = machines.get(logs.indexOf(leaderOf(logs))).entries();
        assertThat(first35).hasSize(35).endsWith("a34");
        await("the observer has every entry", () -> observed.entries().equals(first35));
        assertThat(four.isLeader()).isFalse();
        assertThat(four.quorum().voters()).extracting(RaftMetadataLog.VoterState::nodeId).containsExactly(1, 2, 3);
        assertThat(leaderOf(logs).quorum().observers()).extracting(RaftMetadataLog.VoterState::nodeId).containsExactly(4);
        assertThatThrownBy(() -> four.append(bytes("x")).join()).isInstanceOf(CompletionException.class)
                .cause().isInstanceOfSatisfying(MetadataLogException.class,
                        e -> assertThat(e.reason()).isEqualTo(MetadataLogException.Reason.NOT_LEADER));

        // Restarted (on the port it chose at its first start), it joins again and gets what it missed.
        four.close();
        for (int i = 0; i < 5; i++) {
            leaderOf(logs).append(bytes("b" + i)).join();
        }
        RecordingStateMachine again = new RecordingStateMachine();
        RaftMetadataLog back = observer(4, again, 10, voters, List.of());
        back.start();
        List<String> all = machines.get(logs.indexOf(leaderOf(logs))).entries();
        assertThat(all).hasSize(40).endsWith("b4");
        await("the restarted observer has every entry", () -> again.entries().equals(all));

        // The leader stops: a voter is elected, never the observer, and the observer follows the new leader.
        RaftMetadataLog leader = leaderOf(logs);
        leader.close();
        List<RaftMetadataLog> rest = logs.stream().filter(l -> l != leader).toList();
        await("a new leader among the two voters left", () -> leaderOf(rest) != null);
        leaderOf(rest).append(bytes("c0")).join();
        await("the observer follows the new leader", () -> again.entries().size() == 41
                && back.leaderId() == logs.indexOf(leaderOf(rest)) + 1);
        assertThat(back.isLeader()).isFalse();
    }

    @Test
    void anObserverThatFindsNoVoterSaysWhereItLooked() throws Exception {
        int nobody = freePort();
        RaftMetadataLog lonely = new RaftMetadataLog(new RaftSettings(dir.resolve("n9"), 9, "127.0.0.1", 0, 10,
                Duration.ofSeconds(2), List.of(), Duration.ofMillis(300), true, List.of("127.0.0.1:" + nobody)),
                new RecordingStateMachine());
        opened.add(lonely);
        assertThatThrownBy(lonely::start).isInstanceOfSatisfying(MetadataLogException.class, e -> {
            assertThat(e.reason()).isEqualTo(MetadataLogException.Reason.START_TIMEOUT);
            assertThat(e.getMessage()).contains("127.0.0.1:" + nobody);
        });
    }

    private static List<Integer> ids(List<RaftMetadataLog.VoterState> members) {
        return members.stream().map(RaftMetadataLog.VoterState::nodeId).toList();
    }

    @Test
    void votersAreAddedAndRemovedAndARemovedVoterKeepsObserving() throws Exception {
        List<RecordingStateMachine> machines = new ArrayList<>();
        List<RaftMetadataLog> logs = new ArrayList<>(startThreeVoters(machines, 10_000));
        leaderOf(logs).append(bytes("a0")).join();

        // Node 4 joins as an observer on a fixed port (a voter to be), then is made a voter.
        int port4 = freePort();
        RecordingStateMachine machine4 = new RecordingStateMachine();
        machines.add(machine4);
        RaftMetadataLog four = new RaftMetadataLog(new RaftSettings(dir.resolve("n4"), 4, "127.0.0.1", port4, 10_000,
                Duration.ofSeconds(30), List.of(), Duration.ofMillis(300), true,
                List.of("127.0.0.1:" + voters.get(0).port())), machine4);
        opened.add(four);
        four.start();
        logs.add(four);
        assertThatThrownBy(() -> leaderOf(logs).addVoter(2, "127.0.0.1", voters.get(1).port()).join())
                .cause().isInstanceOfSatisfying(MetadataLogException.class,
                        e -> assertThat(e.reason()).isEqualTo(MetadataLogException.Reason.ALREADY_VOTER));
        // Only a node that observes the quorum, at the address it observes it on, can be made a voter.
        assertThatThrownBy(() -> leaderOf(logs).addVoter(5, "127.0.0.1", port4).join())
                .cause().isInstanceOfSatisfying(MetadataLogException.class,
                        e -> assertThat(e.reason()).isEqualTo(MetadataLogException.Reason.INVALID_CHANGE));
        assertThatThrownBy(() -> leaderOf(logs).addVoter(4, "127.0.0.1", port4 + 1).join())
                .cause().isInstanceOfSatisfying(MetadataLogException.class,
                        e -> assertThat(e.reason()).isEqualTo(MetadataLogException.Reason.INVALID_CHANGE));
        leaderOf(logs).addVoter(4, "127.0.0.1", port4).get(30, TimeUnit.SECONDS);
        await("every member sees four voters", () -> logs.stream().allMatch(l -> ids(l.quorum().voters())
                .equals(List.of(1, 2, 3, 4)) && l.quorum().observers().isEmpty()));

        // Node 3 is removed: it stays a listener and goes on receiving entries.
        assertThatThrownBy(() -> leaderOf(logs).removeVoter(9).join()).cause()
                .isInstanceOfSatisfying(MetadataLogException.class,
                        e -> assertThat(e.reason()).isEqualTo(MetadataLogException.Reason.NOT_VOTER));
        leaderOf(logs).removeVoter(3).get(30, TimeUnit.SECONDS);
        await("node 3 is an observer", () -> ids(leaderOf(logs).quorum().voters()).equals(List.of(1, 2, 4))
                && ids(leaderOf(logs).quorum().observers()).equals(List.of(3)));
        leaderOf(logs).append(bytes("a1")).join();
        await("node 3 still applies entries", () -> machines.get(2).entries().equals(List.of("a0", "a1")));

        // The leader itself is removed: the other two elect a leader; the old one observes.
        RaftMetadataLog oldLeader = leaderOf(logs);
        int oldId = logs.indexOf(oldLeader) + 1;
        oldLeader.removeVoter(oldId).get(30, TimeUnit.SECONDS);
        await("a new leader among the voters left", () -> leaderOf(logs) != null && leaderOf(logs) != oldLeader);
        assertThat(oldLeader.isLeader()).isFalse();
        leaderOf(logs).append(bytes("a2")).join();
        await("every member applied a2", () -> machines.stream().allMatch(m -> m.entries().equals(List.of("a0", "a1", "a2"))));
        assertThat(ids(leaderOf(logs).quorum().voters())).hasSize(2).doesNotContain(oldId, 3);

        // The old leader is made a voter again; then the leader stops. The two voters left elect one, while node 3,
        // no longer a voter, hears from nobody for longer than an election timeout: it must not stand for election
        // (the voters would shut it down as a stranger), and it goes on receiving entries from the new leader.
        leaderOf(logs).addVoter(oldId, "127.0.0.1", voters.get(oldId - 1).port()).get(30, TimeUnit.SECONDS);
        await("three voters again", () -> ids(leaderOf(logs).quorum().voters()).size() == 3);
        RaftMetadataLog stopped = leaderOf(logs);
        stopped.close();
        List<RaftMetadataLog> rest = logs.stream().filter(l -> l != stopped).toList();
        await("a leader among the two voters left", () -> leaderOf(rest) != null);
        leaderOf(rest).append(bytes("a3")).join();
        await("node 3 applied a3", () -> machines.get(2).entries().equals(List.of("a0", "a1", "a2", "a3")));
        assertThat(logs.get(2).isLeader()).isFalse();
        assertThat(ids(leaderOf(rest).quorum().observers())).containsExactly(3);

        // Node 4 restarts with its first settings (an observer's): its stored configuration makes it a voter.
        if (stopped != four && leaderOf(rest) != four) {
            four.close();
            RaftMetadataLog again = new RaftMetadataLog(new RaftSettings(dir.resolve("n4"), 4, "127.0.0.1", port4, 10_000,
                    Duration.ofSeconds(30), List.of(), Duration.ofMillis(300), true,
                    voters.stream().map(v -> "127.0.0.1:" + v.port()).toList()), new RecordingStateMachine());
            opened.add(again);
            again.start();
            assertThat(ids(again.quorum().voters())).contains(4);
        }
    }

    @Test
    void shouldRefuseSettingsThatDoNotNameThisNode() {
        List<RaftVoter> others = List.of(new RaftVoter(2, "127.0.0.1", 1), new RaftVoter(3, "127.0.0.1", 2));
        assertThatThrownBy(() -> new RaftSettings(dir, 1, "127.0.0.1", 5, 10, Duration.ofSeconds(1), others,
                Duration.ofSeconds(1))).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not one of");
    }
}
