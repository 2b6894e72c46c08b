package io.gregor.raft;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import org.apache.ratis.RaftConfigKeys;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.netty.NettyConfigKeys;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.protocol.GroupInfoReply;
import org.apache.ratis.protocol.SetConfigurationRequest;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.rpc.SupportedRpcType;
import org.apache.ratis.util.TimeDuration;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.SnapshotManagementRequest;
import org.apache.ratis.protocol.exceptions.AlreadyClosedException;
import org.apache.ratis.protocol.exceptions.LeaderNotReadyException;
import org.apache.ratis.protocol.exceptions.LeaderSteppingDownException;
import org.apache.ratis.protocol.exceptions.NotLeaderException;
import org.apache.ratis.server.DivisionInfo;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster-metadata log of one node: a Raft group on Apache Ratis whose committed entries are
 * applied, in order, to a {@link MetadataStateMachine}. The group is the voters of {@link RaftSettings#voters()}: one
 * peer, this node, for a single node; the nodes of {@code controller.quorum.voters} in a cluster, where every node
 * applies the same committed entries and only the leader accepts appends.
 *
 * <p>On-disk layout under {@link RaftSettings#dir()} (see {@code docs/metadata-log.md}):
 * <pre>
 * meta.properties                      group id and node id, written once
 * raft/&lt;group-uuid&gt;/in_use.lock
 * raft/&lt;group-uuid&gt;/current/raft-meta    term and vote
 * raft/&lt;group-uuid&gt;/current/raft-meta.conf  last committed configuration
 * raft/&lt;group-uuid&gt;/current/log_inprogress_&lt;first&gt;, log_&lt;first&gt;-&lt;last&gt;   Raft log segments
 * raft/&lt;group-uuid&gt;/sm/snapshot.&lt;term&gt;_&lt;index&gt;[.md5]   snapshots ({@link SnapshotFile})
 * </pre>
 *
 * <p>Thread-safety: {@link #append}, {@link #lastAppliedIndex} and {@link #isLeader} may be called
 * from any thread; {@link #start} once; {@link #close} from any thread, any number of times.
 * Futures returned by {@code append} complete on a dedicated single thread
 * ({@code gregor-metadata-completions}), in commit order, never on the Ratis apply thread, so
 * dependent stages may block briefly or append again without stalling the log.
 */
public final class RaftMetadataLog implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(RaftMetadataLog.class);

    /** Ratis storage root under {@link RaftSettings#dir()}; group directories live inside. */
    static final String RAFT_DIR = "raft";

    static final long CLOSE_TIMEOUT_MS = 10_000;

    /** The Raft port an observer chose at its first start (an ephemeral one), kept for every later start. */
    static final String OBSERVER_PORT_FILE = "observer.port";

    static final long CLOSE_SNAPSHOT_TIMEOUT_MS = 5_000;

    private enum State { NEW, STARTING, RUNNING, CLOSED }

    private final RaftSettings settings;
    private final RatisStateMachine stateMachine;
    private final Consumer<RaftProperties> propertyOverrides;
    private final RaftPeerId peerId;
    private final ClientId clientId = ClientId.randomId();
    private final AtomicLong callIds = new AtomicLong();
    private final Set<CompletableFuture<Long>> pending = ConcurrentHashMap.newKeySet();
    private final ExecutorService completions;

    private volatile State state = State.NEW;
    private volatile RaftGroupId groupId;
    private volatile RaftServer server;
    private volatile RaftServer.Division division;
    /** Whether this node's elections are paused (see {@link #pauseElectionsUnlessVoter}); on the completions thread. */
    private boolean electionsPaused;
    private final java.util.List<LeadershipListener> leadershipListeners = new java.util.concurrent.CopyOnWriteArrayList<>();

    /** Told about leadership on the completions thread, in the order Ratis reported it. */
    public interface LeadershipListener {
        /** The leader changed; {@code leaderId} is -1 while there is none (an election is running). */
        void onLeaderChange(int leaderId);

        /** This node became leader and has applied every entry committed before (appends now succeed). */
        default void onBecomeReadyLeader() {
        }
    }

    public RaftMetadataLog(RaftSettings settings, MetadataStateMachine stateMachine) {
        this(settings, stateMachine, properties -> {});
    }

    /** For tests: {@code propertyOverrides} may change any Ratis property before the server is built. */
    RaftMetadataLog(RaftSettings settings, MetadataStateMachine stateMachine,
            Consumer<RaftProperties> propertyOverrides) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.stateMachine = new RatisStateMachine(Objects.requireNonNull(stateMachine, "stateMachine"),
                new RatisStateMachine.LeadershipEvents() {
                    @Override
                    public void leaderChanged(RaftPeerId leader) {
                        int id = leader == null ? -1 : RaftVoter.nodeIdOf(leader.toString());
                        runOnCompletions(() -> leadershipListeners.forEach(l -> l.onLeaderChange(id)));
                    }

                    @Override
                    public void leaderReady() {
                        runOnCompletions(() -> leadershipListeners.forEach(LeadershipListener::onBecomeReadyLeader));
                    }

                    @Override
                    public void configurationChanged(org.apache.ratis.proto.RaftProtos.RaftConfigurationProto conf) {
                        boolean voter = conf.getPeersList().stream()
                                .anyMatch(p -> p.getId().equals(peerId.toByteString()));
                        runOnCompletions(() -> pauseElectionsUnlessVoter(voter));
                    }
                });
        this.propertyOverrides = Objects.requireNonNull(propertyOverrides, "propertyOverrides");
        this.peerId = RaftPeerId.valueOf(RaftVoter.peerId(settings.nodeId()));
        this.completions = Executors.newSingleThreadExecutor(
                Thread.ofPlatform().daemon().name("gregor-metadata-completions").factory());
    }

    /**
     * Starts the Ratis server, then waits until there is a leader and this node has applied every entry it knows to
     * be committed (the snapshot is restored and the log after it replayed before this returns). A single node waits
     * to be that leader; a node of a quorum waits for a majority of the voters to be up and to elect one, logging
     * what it waits for every few seconds.
     *
     * @throws MetadataLogException {@code START_TIMEOUT} after {@link RaftSettings#startTimeout()},
     *     {@code FAILED} on I/O errors, {@code CLOSED} if closed meanwhile
     * @throws IllegalStateException if called twice
     */
    public void start() {
        long startNs = System.nanoTime();
        long deadlineNs = startNs + settings.startTimeout().toNanos();
        synchronized (this) {
            if (state != State.NEW) {
                throw new IllegalStateException("Metadata log already " + state.name().toLowerCase());
            }
            state = State.STARTING;
            RatisLogging.quietUnlessConfigured();
        }
        NodeMetaProperties meta;
        java.util.List<RaftPeer> members;
        try {
            meta = NodeMetaProperties.loadOrCreate(settings.dir(), settings.nodeId());
            groupId = RaftGroupId.valueOf(meta.groupId());
            // An observer learns the quorum's current members from any voter it can reach; a voter knows them.
            members = settings.observer() ? discoverMembers(deadlineNs) : votersAsPeers();
        } catch (RuntimeException e) {
            failStart();
            throw e instanceof MetadataLogException m ? m : new MetadataLogException(MetadataLogException.Reason.FAILED,
                    "Cannot start the metadata log in " + settings.dir() + ": " + e.getMessage(), e);
        }
        synchronized (this) {
            if (state != State.STARTING) {
                throw closed();
            }
            try {
                startServer(members);
            } catch (IOException | RuntimeException e) {
                failStart();
                throw new MetadataLogException(MetadataLogException.Reason.FAILED,
                        "Cannot start the metadata log in " + settings.dir() + ": " + e.getMessage(), e);
            }
        }
        if (settings.observer()) {
            joinAsObserver(deadlineNs);
        }
        if (settings.multiVoter()) {
            awaitQuorum(deadlineNs);
        } else {
            awaitReadyLeader(deadlineNs);
        }
        synchronized (this) {
            if (state != State.STARTING) {
                throw closed();
            }
            state = State.RUNNING;
        }
        InetSocketAddress address = server.getServerRpc().getInetSocketAddress();
        LOG.info("Metadata log started in {} ms: node {} at {} ({}), group {}, leader node {}, last applied index {}",
                (System.nanoTime() - startNs) / 1_000_000, settings.nodeId(), address,
                division.getRaftConf().getPeer(peerId, RaftPeerRole.FOLLOWER) != null ? "voter" : "observer", groupId,
                leaderId(), lastAppliedIndex());
    }

    private synchronized void failStart() {
        closeServer();
        state = State.CLOSED;
        completions.shutdown();
    }

    private java.util.List<RaftPeer> votersAsPeers() {
        java.util.List<RaftPeer> peers = new java.util.ArrayList<>();
        for (RaftVoter voter : settings.effectiveVoters()) {
            peers.add(RaftPeer.newBuilder().setId(RaftVoter.peerId(voter.nodeId())).setAddress(voter.address()).build());
        }
        return peers;
    }

    private void startServer(java.util.List<RaftPeer> members) throws IOException {
        Path storageDir = settings.dir().resolve(RAFT_DIR);
        int port = settings.port();
        Path portFile = settings.dir().resolve(OBSERVER_PORT_FILE);
        if (settings.observer() && port == 0 && java.nio.file.Files.exists(portFile)) {
            // The leader keeps the first address it was given for a member, so an observer keeps its port.
            port = Integer.parseInt(java.nio.file.Files.readString(portFile).trim());
        }
        RaftProperties properties = RatisProperties.of(settings, storageDir);
        NettyConfigKeys.Server.setPort(properties, port);
        propertyOverrides.accept(properties);
        // The addresses in the group only matter to other peers. The stored configuration wins
        // over them on restart, which is harmless for a single peer: it never calls itself.
        java.util.List<RaftPeer> peers = new java.util.ArrayList<>(members);
        if (settings.observer()) {
            // Listed as a listener, this node starts as one (it never stands for election); its own address here is
            // never called: the leader learns the real one from joinAsObserver.
            peers.removeIf(p -> p.getId().equals(peerId));
            peers.add(RaftPeer.newBuilder().setId(peerId).setAddress(new RaftVoter(settings.nodeId(), settings.host(),
                    settings.port()).address()).setStartupRole(RaftPeerRole.LISTENER).build());
        }
        server = RaftServer.newBuilder()
                .setServerId(peerId)
                .setGroup(RaftGroup.valueOf(groupId, peers))
                .setStateMachine(stateMachine)
                .setProperties(properties)
                // RECOVER formats an empty directory and loads an existing one; FORMAT would wipe it.
                .setOption(RaftStorage.StartupOption.RECOVER)
                .build();
        // Known before the start: a single node becomes a ready leader during it, and its first append (the cluster id)
        // must find the log accepting.
        division = server.getDivision(groupId);
        try {
            server.start();
        } catch (IOException | RuntimeException e) {
            if (port != settings.port()) {
                throw new IOException("cannot listen on port " + port + ", the port this node receives the metadata log "
                        + "on (kept in " + portFile + " since its first start; the quorum knows it by it): "
                        + e.getMessage(), e);
            }
            throw e;
        }
        if (settings.observer() && port == 0) {
            SnapshotFile.writeAtomically(portFile, java.nio.ByteBuffer.wrap(
                    (rpcAddress().getPort() + "\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
        }
    }

    /**
     * A voter that was removed (made a listener) keeps Ratis' follower role until it restarts, and a follower that stops
     * hearing from a leader stands for election, which makes the voters shut it down as a stranger: its elections are
     * paused for as long as it is not a voter, so it goes on receiving the log as a listener would. Resumed if it is
     * made a voter again.
     */
    private void pauseElectionsUnlessVoter(boolean voter) {
        RaftServer current = server;
        if (current == null || state == State.CLOSED || electionsPaused == !voter) {
            return;
        }
        var request = voter
                ? org.apache.ratis.protocol.LeaderElectionManagementRequest.newResume(clientId, peerId, groupId,
                        callIds.incrementAndGet())
                : org.apache.ratis.protocol.LeaderElectionManagementRequest.newPause(clientId, peerId, groupId,
                        callIds.incrementAndGet());
        try {
            RaftClientReply reply = current.leaderElectionManagementAsync(request).get(5, TimeUnit.SECONDS);
            if (reply.isSuccess()) {
                electionsPaused = !voter;
                LOG.info("Node {} {} the metadata quorum: elections {}", settings.nodeId(),
                        voter ? "votes in" : "observes", voter ? "resumed" : "paused");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            LOG.warn("Could not {} elections on node {}: {}", voter ? "resume" : "pause", settings.nodeId(), e.toString());
        }
    }

    /** Properties of the short-lived Ratis clients an observer uses to find and join the quorum. */
    private RaftProperties clientProperties() {
        RaftProperties properties = new RaftProperties();
        RaftConfigKeys.Rpc.setType(properties, SupportedRpcType.NETTY);
        NettyConfigKeys.Client.setUseEpoll(properties, false);
        RaftClientConfigKeys.Rpc.setRequestTimeout(properties, TimeDuration.valueOf(
                Math.max(1_000, 3 * settings.electionTimeout().toMillis()), TimeUnit.MILLISECONDS));
        return properties;
    }

    /**
     * The quorum's current members (voters and listeners, this node excluded) as a voter reachable at one of the
     * configured addresses describes them; retried until the deadline, saying what it waits for every few seconds.
     */
    private java.util.List<RaftPeer> discoverMembers(long deadlineNs) {
        java.util.List<String> addresses = new java.util.ArrayList<>();
        settings.voters().forEach(v -> addresses.add(v.address()));
        settings.bootstrapServers().stream().filter(a -> !addresses.contains(a)).forEach(addresses::add);
        RaftProperties properties = clientProperties();
        long nextReportNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        String lastError = "no answer yet";
        while (state == State.STARTING) {
            for (int i = 0; i < addresses.size(); i++) {
                RaftPeer probe = RaftPeer.newBuilder().setId("bootstrap-" + i).setAddress(addresses.get(i)).build();
                try (RaftClient client = RaftClient.newBuilder().setProperties(properties)
                        .setRaftGroup(RaftGroup.valueOf(groupId, probe)).setRetryPolicy(RetryPolicies.noRetry()).build()) {
                    GroupInfoReply reply = client.getGroupManagementApi(probe.getId()).info(groupId);
                    java.util.List<RaftPeer> members = membersOf(reply);
                    if (!members.isEmpty()) {
                        LOG.info("Metadata quorum found through {}: {}", addresses.get(i), members);
                        return members;
                    }
                    lastError = addresses.get(i) + " listed no voter";
                } catch (IOException | RuntimeException e) {
                    lastError = addresses.get(i) + ": " + e.getMessage();
                }
            }
            long now = System.nanoTime();
            if (now - deadlineNs > 0) {
                throw new MetadataLogException(MetadataLogException.Reason.START_TIMEOUT, "No voter of the metadata "
                        + "quorum answered at " + addresses + " within " + settings.startTimeout().toMillis() + " ms ("
                        + lastError + ")");
            }
            if (now - nextReportNs > 0) {
                LOG.info("Waiting for a voter of the metadata quorum at {} ({})", addresses, lastError);
                nextReportNs = now + TimeUnit.SECONDS.toNanos(5);
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(200));
        }
        throw closed();
    }

    private static java.util.List<RaftPeer> membersOf(GroupInfoReply reply) {
        java.util.List<RaftPeer> members = new java.util.ArrayList<>();
        if (reply.getConf().isPresent()) {
            var conf = reply.getConf().get();
            for (var peer : conf.getPeersList()) {
                members.add(RaftPeer.newBuilder().setId(peer.getId().toStringUtf8()).setAddress(peer.getAddress()).build());
            }
            for (var peer : conf.getListenersList()) {
                members.add(RaftPeer.newBuilder().setId(peer.getId().toStringUtf8()).setAddress(peer.getAddress())
                        .setStartupRole(RaftPeerRole.LISTENER).build());
            }
        } else if (reply.getGroup() != null) {
            members.addAll(reply.getGroup().getPeers());
        }
        return members;
    }

    /**
     * Asks the quorum's leader to list this node as a listener at the address its Raft server is bound to (Ratis'
     * ADD membership change, which replaces an entry of the same id), retrying until it is done or the deadline.
     */
    private void joinAsObserver(long deadlineNs) {
        InetSocketAddress bound = rpcAddress();
        RaftPeer self = RaftPeer.newBuilder().setId(peerId)
                .setAddress(new RaftVoter(settings.nodeId(), settings.host(), bound.getPort()).address())
                .setStartupRole(RaftPeerRole.LISTENER).build();
        if (division.getRaftConf().getPeer(peerId, RaftPeerRole.FOLLOWER) != null) {
            // Made a voter since it first joined (AddRaftVoter): its stored configuration says so.
            LOG.info("Node {} is a voter of the metadata quorum", settings.nodeId());
            return;
        }
        RaftProperties properties = clientProperties();
        long nextReportNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        String lastError = "no answer yet";
        while (state == State.STARTING) {
            java.util.List<RaftPeer> voters = java.util.List.copyOf(
                    division.getRaftConf().getAllPeers(RaftPeerRole.FOLLOWER));
            try (RaftClient client = RaftClient.newBuilder().setProperties(properties)
                    .setRaftGroup(RaftGroup.valueOf(groupId, voters))
                    .setRetryPolicy(RetryPolicies.retryUpToMaximumCountWithFixedSleep(voters.size() + 2,
                            TimeDuration.valueOf(100, TimeUnit.MILLISECONDS))).build()) {
                RaftClientReply reply = client.admin().setConfiguration(SetConfigurationRequest.Arguments.newBuilder()
                        .setServersInNewConf(java.util.List.of()).setListenersInNewConf(java.util.List.of(self))
                        .setMode(SetConfigurationRequest.Mode.ADD).build());
                if (reply.isSuccess()) {
                    LOG.info("Node {} is a listener of the metadata quorum at {}", settings.nodeId(), self.getAddress());
                    return;
                }
                lastError = String.valueOf(reply.getException());
            } catch (IOException | RuntimeException e) {
                lastError = e.getMessage();
            }
            long now = System.nanoTime();
            if (now - deadlineNs > 0) {
                String detail = describe();
                close();
                throw new MetadataLogException(MetadataLogException.Reason.START_TIMEOUT, "The metadata quorum did not "
                        + "add node " + settings.nodeId() + " as a listener within " + settings.startTimeout().toMillis()
                        + " ms (" + lastError + "; " + detail + ")");
            }
            if (now - nextReportNs > 0) {
                LOG.info("Waiting for the metadata quorum to add node {} as a listener ({})", settings.nodeId(), lastError);
                nextReportNs = now + TimeUnit.SECONDS.toNanos(5);
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(200));
        }
        throw closed();
    }

    private void awaitReadyLeader(long deadlineNs) {
        try {
            stateMachine.firstLeaderReady().get(Math.max(0, deadlineNs - System.nanoTime()), TimeUnit.NANOSECONDS);
            // Ratis notifies while applying the leader's start-up entry, just before it marks that
            // entry applied; the gap is microseconds. Caught up once is enough: an entry committed
            // right after (a write already waiting) must not turn a ready leader into a timeout.
            while (System.nanoTime() < deadlineNs && state == State.STARTING) {
                if (readyLeaderCaughtUp()) {
                    return;
                }
                LockSupport.parkNanos(50_000);
            }
            if (readyLeaderCaughtUp()) {
                return;
            }
        } catch (TimeoutException e) {
            // reported below
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            close();
            throw new MetadataLogException(MetadataLogException.Reason.FAILED,
                    "Interrupted while starting the metadata log", e);
        } catch (ExecutionException e) {
            close();
            throw closed();
        }
        if (state != State.STARTING) {
            throw closed();
        }
        String detail = describe();
        close();
        throw new MetadataLogException(MetadataLogException.Reason.START_TIMEOUT,
                "Metadata log in " + settings.dir() + " did not become a ready leader within "
                        + settings.startTimeout().toMillis() + " ms (" + detail + ")");
    }

    /** Waits for a leader of the quorum and for this node to apply what is committed, logging progress. */
    private void awaitQuorum(long deadlineNs) {
        long nextReportNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (state == State.STARTING) {
            RaftServer.Division current = division;
            DivisionInfo info = current.getInfo();
            boolean leaderKnown = info.getLeaderId() != null && (!info.isLeader() || info.isLeaderReady());
            if (leaderKnown && lastAppliedIndex() >= current.getRaftLog().getLastCommittedIndex()) {
                return;
            }
            long now = System.nanoTime();
            if (now - deadlineNs > 0) {
                String detail = describe();
                close();
                throw new MetadataLogException(MetadataLogException.Reason.START_TIMEOUT,
                        "The metadata quorum " + settings.voters() + " elected no leader within "
                                + settings.startTimeout().toMillis() + " ms (" + detail + ")");
            }
            if (now - nextReportNs > 0) {
                LOG.info("Waiting for the metadata quorum: a majority of the voters {} must be up ({})",
                        settings.voters(), describe());
                nextReportNs = now + TimeUnit.SECONDS.toNanos(5);
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        }
        throw closed();
    }

    private boolean readyLeaderCaughtUp() {
        return division.getInfo().isLeaderReady()
                && lastAppliedIndex() >= division.getRaftLog().getLastCommittedIndex();
    }

    /** This node's view of the quorum in one line (role, term, leader, committed and applied index): for diagnostics. */
    public String status() {
        return describe();
    }

    private String describe() {
        RaftServer.Division current = division;
        if (current == null) {
            return "server not started";
        }
        DivisionInfo info = current.getInfo();
        return "node " + settings.nodeId() + " role=" + info.getCurrentRole() + " term=" + info.getCurrentTerm()
                + " leader=" + info.getLeaderId() + " committed=" + current.getRaftLog().getLastCommittedIndex()
                + " applied=" + lastAppliedIndex() + " conf=" + current.getRaftConf();
    }

    /**
     * Appends one entry. The future completes with the entry's log index once the entry is
     * committed (fsynced on a majority, here this node) and {@link MetadataStateMachine#apply}
     * has returned for it; exceptionally with a {@link MetadataLogException} when this node is not
     * the leader, the log is closed (pending appends fail with {@code CLOSED} on close; such an
     * entry may still have been committed), or Ratis or the state machine fails.
     */
    public CompletableFuture<Long> append(byte[] entry) {
        Objects.requireNonNull(entry, "entry");
        // While starting, the leader may already append (what it does when it becomes leader).
        if (!accepting()) {
            return CompletableFuture.failedFuture(closed());
        }
        CompletableFuture<Long> result = new CompletableFuture<>();
        pending.add(result);
        if (!accepting()) {
            // close() may have drained the pending set before we added to it.
            fail(result, closed());
            return result;
        }
        RaftClientRequest request = RaftClientRequest.newBuilder()
                .setClientId(clientId)
                .setServerId(peerId)
                .setGroupId(groupId)
                .setCallId(callIds.incrementAndGet())
                .setMessage(Message.valueOf(ByteString.copyFrom(entry)))
                .setType(RaftClientRequest.writeRequestType())
                .build();
        try {
            server.submitClientRequestAsync(request).whenComplete((reply, error) -> complete(result, reply, error));
        } catch (IOException | RuntimeException e) {
            complete(result, null, e);
        }
        return result;
    }

    /**
     * Makes node {@code nodeId}, which observes the quorum with its Raft server at {@code host:port}, a voter (Kafka's
     * AddRaftVoter); it stops being a listener. Ratis first brings the new voter's log up to date, then commits the new
     * configuration (joint consensus); the future completes once committed. On the leader only.
     */
    public CompletableFuture<Void> addVoter(int nodeId, String host, int port) {
        return changeMembership(conf -> {
            RaftPeerId id = RaftPeerId.valueOf(RaftVoter.peerId(nodeId));
            java.util.List<RaftPeer> voters = new java.util.ArrayList<>(conf.getAllPeers(RaftPeerRole.FOLLOWER));
            if (voters.stream().anyMatch(p -> p.getId().equals(id))) {
                throw new MetadataLogException(MetadataLogException.Reason.ALREADY_VOTER,
                        "node " + nodeId + " is already a voter");
            }
            String address = new RaftVoter(nodeId, host, port).address();
            RaftPeer observing = conf.getPeer(id, RaftPeerRole.LISTENER);
            if (observing == null) {
                throw new MetadataLogException(MetadataLogException.Reason.INVALID_CHANGE, "node " + nodeId
                        + " does not observe the metadata quorum: start it first (process.roles=broker,controller with "
                        + "controller.quorum.bootstrap.servers), then add it");
            }
            if (!address.equals(observing.getAddress())) {
                throw new MetadataLogException(MetadataLogException.Reason.INVALID_CHANGE, "node " + nodeId
                        + " observes the quorum at " + observing.getAddress() + ", not at " + address);
            }
            voters.add(RaftPeer.newBuilder().setId(id).setAddress(address).build());
            java.util.List<RaftPeer> listeners = new java.util.ArrayList<>(conf.getAllPeers(RaftPeerRole.LISTENER));
            listeners.removeIf(p -> p.getId().equals(id));
            return new Membership(voters, listeners);
        });
    }

    /**
     * Removes node {@code nodeId} from the voters (Kafka's RemoveRaftVoter); it stays a listener at the same address, so
     * a node that goes on running keeps receiving the log (as an observer). The future completes once the new
     * configuration is committed. On the leader only; the last voter cannot be removed.
     */
    public CompletableFuture<Void> removeVoter(int nodeId) {
        return changeMembership(conf -> {
            RaftPeerId id = RaftPeerId.valueOf(RaftVoter.peerId(nodeId));
            java.util.List<RaftPeer> voters = new java.util.ArrayList<>(conf.getAllPeers(RaftPeerRole.FOLLOWER));
            RaftPeer removed = voters.stream().filter(p -> p.getId().equals(id)).findFirst().orElseThrow(() ->
                    new MetadataLogException(MetadataLogException.Reason.NOT_VOTER, "node " + nodeId
                            + " is not a voter"));
            if (voters.size() == 1) {
                throw new MetadataLogException(MetadataLogException.Reason.INVALID_CHANGE,
                        "node " + nodeId + " is the last voter");
            }
            voters.remove(removed);
            java.util.List<RaftPeer> listeners = new java.util.ArrayList<>(conf.getAllPeers(RaftPeerRole.LISTENER));
            listeners.add(RaftPeer.newBuilder().setId(id).setAddress(removed.getAddress())
                    .setStartupRole(RaftPeerRole.LISTENER).build());
            return new Membership(voters, listeners);
        });
    }

    /** The members of a configuration of the quorum. */
    private record Membership(java.util.List<RaftPeer> voters, java.util.List<RaftPeer> listeners) {
    }

    /** {@code change} maps the current configuration to the next; applied only if nothing changed meanwhile. */
    private CompletableFuture<Void> changeMembership(
            java.util.function.Function<org.apache.ratis.server.RaftConfiguration, Membership> change) {
        if (state != State.RUNNING) {
            return CompletableFuture.failedFuture(closed());
        }
        if (!isLeader()) {
            return CompletableFuture.failedFuture(new MetadataLogException(MetadataLogException.Reason.NOT_LEADER,
                    "Node " + settings.nodeId() + " is not the metadata leader"));
        }
        RaftServer.Division current = division;
        org.apache.ratis.server.RaftConfiguration conf = current.getRaftConf();
        Membership next;
        try {
            next = change.apply(conf);
        } catch (MetadataLogException e) {
            return CompletableFuture.failedFuture(e);
        }
        SetConfigurationRequest.Arguments arguments = SetConfigurationRequest.Arguments.newBuilder()
                .setServersInCurrentConf(java.util.List.copyOf(conf.getAllPeers(RaftPeerRole.FOLLOWER)))
                .setListenersInCurrentConf(java.util.List.copyOf(conf.getAllPeers(RaftPeerRole.LISTENER)))
                .setServersInNewConf(next.voters()).setListenersInNewConf(next.listeners())
                .setMode(SetConfigurationRequest.Mode.COMPARE_AND_SET).build();
        CompletableFuture<Void> result = new CompletableFuture<>();
        if (next.voters().stream().noneMatch(p -> p.getId().equals(peerId))) {
            // A Ratis leader that removes itself goes on leading a configuration without it (and so blocks elections):
            // leadership moves to a remaining voter first, which then makes the change.
            RaftPeerId successor = next.voters().get(0).getId();
            Thread.ofPlatform().daemon().name("gregor-metadata-membership").start(() -> {
                try {
                    // Retried: Ratis can fail a transfer at once when its start-election call meets one still in
                    // flight on the same connection ("previous is expected to be null"); a new call id goes through.
                    RaftClientReply moved = null;
                    for (int attempt = 1; ; attempt++) {
                        try {
                            moved = server.transferLeadershipAsync(new org.apache.ratis.protocol.TransferLeadershipRequest(
                                    clientId, peerId, groupId, callIds.incrementAndGet(), successor, 10_000))
                                    .get(15, TimeUnit.SECONDS);
                        } catch (java.util.concurrent.ExecutionException failed) {
                            if (attempt == 3) {
                                throw failed;
                            }
                            LOG.info("Moving metadata leadership to {} failed ({}); trying again", successor,
                                    failed.getCause());
                            continue;
                        }
                        if (moved.isSuccess() || attempt == 3) {
                            break;
                        }
                        LOG.info("Moving metadata leadership to {} failed ({}); trying again", successor,
                                moved.getException() == null ? "no reason given" : moved.getException().getMessage());
                    }
                    if (!moved.isSuccess()) {
                        throw moved.getException();
                    }
                    try (RaftClient client = RaftClient.newBuilder().setProperties(clientProperties())
                            .setRaftGroup(RaftGroup.valueOf(groupId, next.voters()))
                            .setRetryPolicy(RetryPolicies.retryUpToMaximumCountWithFixedSleep(10,
                                    TimeDuration.valueOf(200, TimeUnit.MILLISECONDS))).build()) {
                        RaftClientReply reply = client.admin().setConfiguration(arguments);
                        if (!reply.isSuccess()) {
                            throw reply.getException();
                        }
                    }
                    LOG.info("Metadata quorum membership changed: voters {}, listeners {}", next.voters(), next.listeners());
                    result.complete(null);
                } catch (Exception e) {
                    result.completeExceptionally(translateChange(e));
                }
            });
            return result;
        }
        SetConfigurationRequest request = new SetConfigurationRequest(clientId, peerId, groupId, callIds.incrementAndGet(),
                arguments);
        try {
            server.setConfigurationAsync(request).whenComplete((reply, error) -> {
                Throwable failure = error != null ? error : reply.isSuccess() ? null : reply.getException();
                if (failure == null) {
                    LOG.info("Metadata quorum membership changed: voters {}, listeners {}", next.voters(), next.listeners());
                    result.complete(null);
                } else {
                    result.completeExceptionally(translateChange(failure));
                }
            });
        } catch (IOException | RuntimeException e) {
            result.completeExceptionally(translateChange(e));
        }
        return result;
    }

    private MetadataLogException translateChange(Throwable error) {
        Throwable cause = error;
        while ((cause instanceof CompletionException || cause instanceof ExecutionException) && cause.getCause() != null) {
            cause = cause.getCause();
        }
        if (cause instanceof org.apache.ratis.protocol.exceptions.ReconfigurationInProgressException) {
            return new MetadataLogException(MetadataLogException.Reason.CHANGE_IN_PROGRESS,
                    "Another change of the metadata quorum's membership is in progress: " + cause.getMessage(), cause);
        }
        if (cause instanceof org.apache.ratis.protocol.exceptions.SetConfigurationException) {
            return new MetadataLogException(MetadataLogException.Reason.CHANGE_IN_PROGRESS,
                    "The metadata quorum's membership changed meanwhile: " + cause.getMessage(), cause);
        }
        return translate(cause);
    }

    private boolean accepting() {
        return state == State.RUNNING || state == State.STARTING && division != null;
    }

    private void complete(CompletableFuture<Long> result, RaftClientReply reply, Throwable error) {
        Runnable completion;
        if (error != null) {
            completion = () -> fail(result, translate(error));
        } else if (!reply.isSuccess()) {
            completion = () -> fail(result, translate(reply.getException()));
        } else {
            long index = reply.getLogIndex();
            completion = () -> {
                pending.remove(result);
                result.complete(index);
            };
        }
        try {
            completions.execute(completion);
        } catch (RejectedExecutionException closing) {
            completion.run();
        }
    }

    private void fail(CompletableFuture<Long> result, MetadataLogException error) {
        pending.remove(result);
        result.completeExceptionally(error);
    }

    private MetadataLogException translate(Throwable error) {
        Throwable cause = error;
        while ((cause instanceof CompletionException || cause instanceof ExecutionException)
                && cause.getCause() != null) {
            cause = cause.getCause();
        }
        if (cause instanceof MetadataLogException e) {
            return e;
        }
        if (cause instanceof NotLeaderException || cause instanceof LeaderNotReadyException
                || cause instanceof LeaderSteppingDownException) {
            return new MetadataLogException(MetadataLogException.Reason.NOT_LEADER,
                    "Node " + settings.nodeId() + " is not the metadata leader: " + cause.getMessage(), cause);
        }
        if (cause instanceof AlreadyClosedException || state == State.CLOSED) {
            return new MetadataLogException(MetadataLogException.Reason.CLOSED, "Metadata log is closed", cause);
        }
        return new MetadataLogException(MetadataLogException.Reason.FAILED,
                "Metadata append failed: " + cause, cause);
    }

    private MetadataLogException closed() {
        return new MetadataLogException(MetadataLogException.Reason.CLOSED,
                state == State.NEW ? "Metadata log is not started" : "Metadata log is closed");
    }

    /**
     * Index of the last entry applied to the state machine (or restored from a snapshot); -1 when
     * none. Raft-internal entries count, so this may be above the last index given to
     * {@link MetadataStateMachine#apply}.
     */
    public long lastAppliedIndex() {
        return stateMachine.lastAppliedIndex();
    }

    /** True if this node is the leader and has applied every committed entry, so appends succeed. */
    public boolean isLeader() {
        RaftServer.Division current = division;
        if (state != State.RUNNING || current == null) {
            return false;
        }
        DivisionInfo info = current.getInfo();
        return info.isLeader() && info.isLeaderReady();
    }

    /**
     * The quorum as this node sees it: the leader and its term, the commit index, the voters and the observers
     * (listeners) of the current configuration, each with the index it has replicated and how long ago the leader heard
     * from it (known on the leader only; -1 elsewhere).
     */
    public record QuorumState(int leaderId, long term, long commitIndex, java.util.List<VoterState> voters,
                              java.util.List<VoterState> observers) {
        public QuorumState(int leaderId, long term, long commitIndex, java.util.List<VoterState> voters) {
            this(leaderId, term, commitIndex, voters, java.util.List.of());
        }
    }

    /**
     * One member: its node id, the host and port of its Raft server, the last index it holds (-1 unknown), ms since the
     * leader last heard from it (-1).
     */
    public record VoterState(int nodeId, String host, int port, long matchIndex, long lastContactAgoMs) {
    }

    public QuorumState quorum() {
        RaftServer.Division current = division;
        java.util.List<VoterState> voters = new java.util.ArrayList<>();
        java.util.List<VoterState> observers = new java.util.ArrayList<>();
        if (current == null || state == State.CLOSED) {
            return new QuorumState(-1, -1, -1, voters, observers);
        }
        DivisionInfo info = current.getInfo();
        long commit = current.getRaftLog().getLastCommittedIndex();
        java.util.Map<Integer, long[]> known = new java.util.HashMap<>();
        if (info.isLeader()) {
            var followers = info.getRoleInfoProto().getLeaderInfo().getFollowerInfoList();
            long[] match = info.getFollowerMatchIndices();
            for (int i = 0; i < followers.size(); i++) {
                int id = RaftVoter.nodeIdOf(followers.get(i).getId().getId().toStringUtf8());
                known.put(id, new long[] {i < match.length ? match[i] : -1, followers.get(i).getLastRpcElapsedTimeMs()});
            }
            var last = current.getRaftLog().getLastEntryTermIndex();
            known.put(settings.nodeId(), new long[] {last == null ? -1 : last.getIndex(), 0});
        }
        var conf = current.getRaftConf();
        addMembers(voters, conf.getAllPeers(RaftPeerRole.FOLLOWER), known);
        addMembers(observers, conf.getAllPeers(RaftPeerRole.LISTENER), known);
        return new QuorumState(leaderId(), info.getCurrentTerm(), commit, voters, observers);
    }

    private static void addMembers(java.util.List<VoterState> into, java.util.Collection<RaftPeer> peers,
                                   java.util.Map<Integer, long[]> known) {
        for (RaftPeer peer : peers) {
            int id = RaftVoter.nodeIdOf(peer.getId().toString());
            String address = peer.getAddress() == null ? "" : peer.getAddress();
            int colon = address.lastIndexOf(':');
            String host = colon < 0 ? address : address.substring(0, colon);
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            int port;
            try {
                port = colon < 0 ? 0 : Integer.parseInt(address.substring(colon + 1));
            } catch (NumberFormatException e) {
                port = 0;
            }
            long[] progress = known.getOrDefault(id, new long[] {-1, -1});
            into.add(new VoterState(id, host, port, progress[0], progress[1]));
        }
        into.sort(java.util.Comparator.comparingInt(VoterState::nodeId));
    }

    /** The Raft term this node knows of (the leader epoch of the metadata log), or -1 before the start. */
    public long currentTerm() {
        RaftServer.Division current = division;
        return current == null || state == State.CLOSED ? -1 : current.getInfo().getCurrentTerm();
    }

    /** The node id of the current leader, or -1 while none is known. */
    public int leaderId() {
        RaftServer.Division current = division;
        if (current == null || state == State.CLOSED) {
            return -1;
        }
        RaftPeerId leader = current.getInfo().getLeaderId();
        return leader == null ? -1 : RaftVoter.nodeIdOf(leader.toString());
    }

    public void addLeadershipListener(LeadershipListener listener) {
        leadershipListeners.add(listener);
    }

    private void runOnCompletions(Runnable task) {
        try {
            completions.execute(task);
        } catch (RejectedExecutionException closing) {
            // closed: nobody listens any more
        }
    }

    /** Address the Raft RPC server is bound to (the ephemeral port when {@code port} was 0). */
    InetSocketAddress rpcAddress() {
        return server.getServerRpc().getInetSocketAddress();
    }

    /**
     * Stops the Ratis server. Appends still pending afterwards complete exceptionally with
     * {@code CLOSED}; none is left hanging. Idempotent.
     */
    @Override
    public void close() {
        close(true);
    }

    /** {@code snapshotFirst=false} lets tests restart as after a crash: the log tail is replayed. */
    void close(boolean snapshotFirst) {
        boolean wasRunning;
        synchronized (this) {
            if (state == State.CLOSED) {
                return;
            }
            wasRunning = state == State.RUNNING;
            state = State.CLOSED;
        }
        stateMachine.firstLeaderReady().completeExceptionally(closed());
        long startNs = System.nanoTime();
        if (wasRunning && snapshotFirst) {
            maybeSnapshotBeforeClose();
        }
        closeServer();
        MetadataLogException closed = closed();
        for (CompletableFuture<Long> future : pending) {
            fail(future, closed);
        }
        completions.shutdown();
        LOG.info("Metadata log closed in {} ms at applied index {}", (System.nanoTime() - startNs) / 1_000_000,
                lastAppliedIndex());
    }

    /**
     * Asks Ratis for a snapshot of everything applied so far, so that the next start restores it
     * instead of replaying up to {@code snapshotEveryEntries} entries (the slow part of a start on
     * a cold JVM). Bounded by {@link #CLOSE_SNAPSHOT_TIMEOUT_MS}; a failure only costs replay time.
     */
    private void maybeSnapshotBeforeClose() {
        SnapshotManagementRequest request = SnapshotManagementRequest.newCreate(
                clientId, peerId, groupId, callIds.incrementAndGet(), CLOSE_SNAPSHOT_TIMEOUT_MS, 1);
        try {
            RaftClientReply reply = server.snapshotManagementAsync(request)
                    .get(CLOSE_SNAPSHOT_TIMEOUT_MS, TimeUnit.MILLISECONDS);
            if (!reply.isSuccess()) {
                LOG.warn("Snapshot before close failed in {}: {}", settings.dir(), reply.getException());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            LOG.warn("Snapshot before close failed in {}", settings.dir(), e);
        }
    }

    /**
     * Closes the Ratis server, waiting at most {@link #CLOSE_TIMEOUT_MS}: Ratis waits for its own
     * threads without a bound, and a broker shutdown must not hang on a stuck one.
     */
    private void closeServer() {
        RaftServer current = server;
        if (current == null) {
            return;
        }
        Thread closer = Thread.ofPlatform().daemon().name("gregor-metadata-close").start(() -> {
            try {
                current.close();
            } catch (IOException | RuntimeException e) {
                LOG.warn("Error closing the metadata Raft server in {}", settings.dir(), e);
            }
        });
        try {
            if (!closer.join(Duration.ofMillis(CLOSE_TIMEOUT_MS))) {
                LOG.error("Metadata Raft server in {} did not close within {} ms; abandoning it ({})",
                        settings.dir(), CLOSE_TIMEOUT_MS, describe());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
