package io.gregor.broker.controller;

import io.gregor.metadata.ApiError;
import io.gregor.metadata.BrokerRegistration;
import io.gregor.metadata.ControllerResult;
import io.gregor.metadata.MetadataImage;
import io.gregor.metadata.MetadataManager;
import io.gregor.metadata.MetadataRecord;
import io.gregor.metadata.PartitionRegistration;
import io.gregor.metadata.TopicImage;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.protocol.Errors;

/**
 * Decisions about the nodes of the cluster, made by the active controller: registrations (a node registers at every
 * start, with a new incarnation id; its broker epoch is the index of the entry that registered it) and the adoption of
 * partitions created before clustering, which had no registration.
 */
public final class ClusterOperations {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ClusterOperations.class);
    private final MetadataManager metadata;
    private final long sessionTimeoutMs;
    private final java.util.function.LongSupplier clock;
    /** When each node was last heard from, on the active controller only (not logged: liveness is not metadata). */
    private final java.util.Map<Integer, Long> lastContact = new java.util.concurrent.ConcurrentHashMap<>();
    /** The connection each node's last heartbeat came on. */
    private final java.util.Map<Integer, String> heartbeatConnections = new java.util.concurrent.ConcurrentHashMap<>();
    private final long shortGraceMs;
    private final java.util.function.Predicate<TopicImage> uncleanAllowed;

    /** No topic allows unclean elections (unclean.leader.election.enable=false everywhere). */
    static final java.util.function.Predicate<TopicImage> NEVER_UNCLEAN = topic -> false;

    /**
     * @param sessionTimeoutMs    a node not heard from for this long is fenced (broker.session.timeout.ms)
     * @param heartbeatIntervalMs how often nodes send heartbeats (broker.heartbeat.interval.ms)
     * @param clock               milliseconds, monotonic
     */
    public ClusterOperations(MetadataManager metadata, long sessionTimeoutMs, long heartbeatIntervalMs,
                             java.util.function.LongSupplier clock) {
        this(metadata, sessionTimeoutMs, heartbeatIntervalMs, clock, NEVER_UNCLEAN);
    }

    /**
     * @param uncleanAllowed true for a topic whose partitions, when no ISR member is alive, take any live replica as
     *                       leader (unclean.leader.election.enable: the topic's, else the cluster's), losing what it lacks
     */
    public ClusterOperations(MetadataManager metadata, long sessionTimeoutMs, long heartbeatIntervalMs,
                             java.util.function.LongSupplier clock, java.util.function.Predicate<TopicImage> uncleanAllowed) {
        this.metadata = metadata;
        this.sessionTimeoutMs = sessionTimeoutMs;
        this.shortGraceMs = shortGrace(sessionTimeoutMs, heartbeatIntervalMs);
        this.clock = clock;
        this.uncleanAllowed = uncleanAllowed;
    }

    /**
     * How long a node whose heartbeat connection closed, or that a new active controller has not heard from yet, has
     * to send a heartbeat: two heartbeat intervals and a second, at least 3 s, at most the session. A live node
     * reconnects and heartbeats within one interval; a dead one (kill -9 closes its connections at once) is fenced
     * then instead of a whole session later.
     */
    static long shortGrace(long sessionTimeoutMs, long heartbeatIntervalMs) {
        return Math.min(sessionTimeoutMs, Math.max(3_000, 2 * heartbeatIntervalMs + 1_000));
    }

    /**
     * This node just became the active controller. It cannot know when the others last heard from each node (the
     * node that led before may be the one that died): every registered node has the short grace to be heard from.
     */
    public void activate() {
        long now = clock.getAsLong();
        lastContact.clear();
        heartbeatConnections.clear();
        metadata.image().brokers().keySet().forEach(id -> lastContact.put(id, now - sessionTimeoutMs + shortGraceMs));
        LOG.info("Active controller: {} registered nodes have {} ms to send a heartbeat", lastContact.size(), shortGraceMs);
    }

    /** A heartbeat (or the registration) of node {@code nodeId} arrived on connection {@code connectionId}. */
    public void heartbeatOn(int nodeId, String connectionId) {
        heartbeatConnections.put(nodeId, connectionId);
    }

    /**
     * A connection to this node closed: a node whose heartbeats came on it must send one within the short grace
     * (on a new connection) or be fenced.
     */
    public void connectionClosed(String connectionId) {
        long now = clock.getAsLong();
        heartbeatConnections.forEach((nodeId, id) -> {
            if (id.equals(connectionId) && heartbeatConnections.remove(nodeId, id)) {
                lastContact.computeIfPresent(nodeId, (n, seen) -> Math.min(seen, now - sessionTimeoutMs + shortGraceMs));
                LOG.info("The heartbeat connection of node {} closed: fenced unless it sends one within {} ms", nodeId,
                        shortGraceMs);
            }
        });
    }

    /** What a heartbeat answers. */
    public record Heartbeat(Errors error, boolean fenced, boolean shouldShutDown) {
    }

    /**
     * A heartbeat of node {@code nodeId} at broker epoch {@code epoch}: refreshes its session; unfences it when it
     * was fenced (and does not shut down), electing it leader of the partitions that had none and that it is in sync
     * for; a node that wants to shut down is fenced at once, its leaderships moving (controlled shutdown), and
     * answered {@code shouldShutDown} once that is committed. STALE_BROKER_EPOCH for an epoch that is not the node's
     * current registration (answered after a restart: the node registers again).
     */
    public CompletableFuture<Heartbeat> heartbeat(int nodeId, long epoch, boolean wantShutDown) {
        lastContact.put(nodeId, clock.getAsLong());
        return metadata.write(image -> {
            BrokerRegistration broker = image.broker(nodeId);
            if (broker == null || broker.epoch() != epoch) {
                return ControllerResult.noChange(new Heartbeat(Errors.STALE_BROKER_EPOCH, true, false));
            }
            if (wantShutDown) {
                if (broker.fenced()) {
                    return ControllerResult.noChange(new Heartbeat(Errors.NONE, true, true));
                }
                return ControllerResult.of(fence(image, broker, uncleanAllowed), new Heartbeat(Errors.NONE, true, true));
            }
            if (broker.fenced()) {
                return ControllerResult.of(unfence(image, broker, uncleanAllowed), new Heartbeat(Errors.NONE, false, false));
            }
            return ControllerResult.noChange(new Heartbeat(Errors.NONE, false, false));
        });
    }

    /** What an ISR change answers: NONE with the partition's registration after it, or the reason it was refused. */
    public record IsrChanged(Errors error, PartitionRegistration registration) {
    }

    /** One partition's part of an AlterPartition request. */
    public record IsrChange(Uuid topicId, int partition, int leaderEpoch, int partitionEpoch, List<Integer> newIsr) {
    }

    /**
     * AlterPartition for many partitions of leader {@code leaderId} at once: each decided as {@link #alterPartition}
     * on the image the ones before it left, all committed in one metadata entry (a node coming back into thousands of
     * ISRs costs one commit, not thousands). The answers are in the order of {@code changes}.
     */
    public CompletableFuture<List<IsrChanged>> alterPartitions(int leaderId, List<IsrChange> changes) {
        return metadata.write(image -> {
            List<MetadataRecord> records = new ArrayList<>();
            List<IsrChanged> answers = new ArrayList<>(changes.size());
            MetadataImage working = image;
            for (IsrChange c : changes) {
                ControllerResult<IsrChanged> one = alterPartition(working, leaderId, c.topicId(), c.partition(),
                        c.leaderEpoch(), c.partitionEpoch(), c.newIsr());
                answers.add(one.response());
                if (!one.records().isEmpty()) {
                    records.addAll(one.records());
                    working = working.apply(working.offset(), one.records());
                }
            }
            return ControllerResult.of(records, answers);
        });
    }

    /**
     * AlterPartition from the leader of partition {@code partition} of topic {@code topicId}, decided on {@code image}:
     * replaces its ISR with {@code newIsr} when the leader and both epochs are current (else NOT_LEADER_OR_FOLLOWER,
     * FENCED_LEADER_EPOCH or INVALID_UPDATE_VERSION) and every new member is a replica on an unfenced node (else
     * INELIGIBLE_REPLICA); the records and the answer.
     */
    static ControllerResult<IsrChanged> alterPartition(MetadataImage image, int leaderId, Uuid topicId, int partition,
                                                       int leaderEpoch, int partitionEpoch, List<Integer> newIsr) {
        TopicImage topic = image.topic(topicId);
        PartitionRegistration r = topic == null ? null : topic.registration(partition);
        if (r == null) {
            return ControllerResult.noChange(new IsrChanged(Errors.UNKNOWN_TOPIC_OR_PARTITION, null));
        }
        if (r.leader() != leaderId) {
            return ControllerResult.noChange(new IsrChanged(Errors.NOT_LEADER_OR_FOLLOWER, r));
        }
        if (r.leaderEpoch() != leaderEpoch) {
            return ControllerResult.noChange(new IsrChanged(Errors.FENCED_LEADER_EPOCH, r));
        }
        if (r.partitionEpoch() != partitionEpoch) {
            return ControllerResult.noChange(new IsrChanged(Errors.INVALID_UPDATE_VERSION, r));
        }
        if (newIsr.isEmpty() || !newIsr.contains(leaderId) || new java.util.HashSet<>(newIsr).size() != newIsr.size()) {
            return ControllerResult.noChange(new IsrChanged(Errors.INVALID_REQUEST, r));
        }
        for (int member : newIsr) {
            BrokerRegistration broker = image.broker(member);
            if (!r.replicas().contains(member) || broker == null || broker.fenced() && !r.isr().contains(member)) {
                return ControllerResult.noChange(new IsrChanged(Errors.INELIGIBLE_REPLICA, r));
            }
        }
        // An ISR that now holds every target replica of a running reassignment completes it.
        PartitionRegistration next = ReassignmentOperations.completeIfDone(image, r.withIsr(newIsr));
        return ControllerResult.of(List.of(new MetadataRecord.PartitionState(topicId, partition, next)),
                new IsrChanged(Errors.NONE, next));
    }

    /** On the active controller, now and then: fences every unfenced node not heard from for a session timeout. */
    public CompletableFuture<List<Integer>> fenceExpired() {
        long now = clock.getAsLong();
        return metadata.write(image -> {
            List<MetadataRecord> records = new ArrayList<>();
            List<Integer> fenced = new ArrayList<>();
            MetadataImage working = image;
            for (BrokerRegistration broker : image.brokers().values()) {
                // A node this controller has not heard from yet (its activation may not have run yet: the quorum's
                // leader checks sessions as soon as it leads) gets the short grace, as at activation.
                Long seen = lastContact.putIfAbsent(broker.id(), now - sessionTimeoutMs + shortGraceMs);
                if (!broker.fenced() && seen != null && now - seen > sessionTimeoutMs) {
                    List<MetadataRecord> change = fence(working, broker, uncleanAllowed);
                    records.addAll(change);
                    working = working.apply(working.offset(), change);
                    fenced.add(broker.id());
                }
            }
            return ControllerResult.of(records, fenced);
        });
    }

    /**
     * Fences {@code broker}: it leaves the ISRs (the last member stays), and what it led gets a leader from the live
     * ISR; with none, a topic that allows it gets any live replica (an unclean election), others no leader.
     */
    static List<MetadataRecord> fence(MetadataImage image, BrokerRegistration broker,
                                      java.util.function.Predicate<TopicImage> unclean) {
        List<MetadataRecord> records = new ArrayList<>();
        records.add(new MetadataRecord.BrokerFenceChanged(broker.id(), broker.epoch(), true));
        java.util.Set<Integer> unavailable = new java.util.HashSet<>();
        unavailable.add(broker.id());
        image.brokers().values().stream().filter(BrokerRegistration::fenced).forEach(b -> unavailable.add(b.id()));
        for (TopicImage topic : image.topics()) {
            topic.registrations().forEach((p, r) -> {
                if (!r.isr().contains(broker.id()) && r.leader() != broker.id()) {
                    return;
                }
                List<Integer> isr = r.isr().stream().filter(id -> !unavailable.contains(id)).toList();
                // The last member stays in the ISR (Kafka does the same): it is the only one known to have everything.
                List<Integer> newIsr = isr.isEmpty() ? r.isr() : isr;
                int leader = r.leader() != broker.id() && !unavailable.contains(r.leader()) ? r.leader()
                        : isr.isEmpty() ? -1 : isr.get(0);
                if (leader < 0 && unclean.test(topic)) {
                    int live = firstUnfenced(image, r.replicas().stream().filter(id -> id != broker.id()).toList());
                    if (live >= 0) {
                        logUnclean(topic, p, live, r);
                        records.add(new MetadataRecord.PartitionState(topic.id(), p, r.withLeader(live, List.of(live))));
                        return;
                    }
                }
                if (leader != r.leader()) {
                    records.add(new MetadataRecord.PartitionState(topic.id(), p, r.withLeader(leader, newIsr)));
                } else if (!newIsr.equals(r.isr())) {
                    records.add(new MetadataRecord.PartitionState(topic.id(), p, r.withIsr(newIsr)));
                }
            });
        }
        return records;
    }

    private static void logUnclean(TopicImage topic, int partition, int leader, PartitionRegistration r) {
        LOG.warn("Unclean leader election for {}-{}: node {} leads from outside the ISR {} (no ISR member is alive, "
                + "unclean.leader.election.enable=true); records it does not have are lost", topic.name(), partition,
                leader, r.isr());
    }

    /**
     * Unfences {@code broker}: partitions without a leader whose ISR holds it get it as leader; so do those of topics
     * that allow unclean elections whose ISR has no live member, when it is one of their replicas.
     */
    static List<MetadataRecord> unfence(MetadataImage image, BrokerRegistration broker,
                                        java.util.function.Predicate<TopicImage> unclean) {
        List<MetadataRecord> records = new ArrayList<>();
        records.add(new MetadataRecord.BrokerFenceChanged(broker.id(), broker.epoch(), false));
        records.addAll(electLeaderless(image, broker.id(), unclean));
        return records;
    }

    private static List<MetadataRecord> electLeaderless(MetadataImage image, int nodeId,
                                                        java.util.function.Predicate<TopicImage> unclean) {
        List<MetadataRecord> records = new ArrayList<>();
        for (TopicImage topic : image.topics()) {
            topic.registrations().forEach((p, r) -> {
                if (r.leader() >= 0) {
                    return;
                }
                if (r.isr().contains(nodeId)) {
                    records.add(new MetadataRecord.PartitionState(topic.id(), p, r.withLeader(nodeId, r.isr())));
                } else if (r.replicas().contains(nodeId) && unclean.test(topic)
                        && r.isr().stream().noneMatch(id -> unfenced(image, id))) {
                    logUnclean(topic, p, nodeId, r);
                    records.add(new MetadataRecord.PartitionState(topic.id(), p, r.withLeader(nodeId, List.of(nodeId))));
                }
            });
        }
        return records;
    }

    /**
     * The partitions without a leader, of topics that allow unclean elections, get one from their live replicas (after
     * the setting was turned on for partitions already offline, say). Completes with how many got one.
     */
    public CompletableFuture<Integer> electUncleanWhereAllowed() {
        MetadataImage image = metadata.image();
        List<TopicPartition> leaderless = new ArrayList<>();
        for (TopicImage topic : image.topics()) {
            topic.registrations().forEach((p, r) -> {
                if (r.leader() < 0 && uncleanAllowed.test(topic)
                        && r.replicas().stream().anyMatch(id -> unfenced(image, id))) {
                    leaderless.add(new TopicPartition(topic.name(), p));
                }
            });
        }
        if (leaderless.isEmpty()) {
            return CompletableFuture.completedFuture(0);
        }
        return electLeaders(Election.UNCLEAN, leaderless).thenApply(outcomes -> {
            int elected = (int) outcomes.values().stream().filter(ApiError::isSuccess).count();
            if (elected > 0) {
                LOG.warn("Unclean leader election (unclean.leader.election.enable=true) gave {} offline partitions a "
                        + "leader from outside their ISR; records those replicas do not have are lost", elected);
            }
            return elected;
        });
    }

    /** The two kinds of ElectLeaders election (Kafka's ElectionType: 0 preferred, 1 unclean). */
    public enum Election {
        PREFERRED, UNCLEAN
    }

    /** A partition by topic name and index. */
    public record TopicPartition(String topic, int partition) {
    }

    /**
     * ElectLeaders: elects a leader for each partition named (every partition when {@code wanted} is null), in one
     * metadata entry. PREFERRED moves leadership to the first replica when it is in sync on an unfenced node
     * (ELECTION_NOT_NEEDED when it leads already, PREFERRED_LEADER_NOT_AVAILABLE when it cannot); UNCLEAN gives a
     * partition without a leader one, from the ISR if it can and otherwise from any live replica, which loses what
     * that replica does not have, as Kafka does (ELECTION_NOT_NEEDED when a leader exists,
     * ELIGIBLE_LEADERS_NOT_AVAILABLE when no replica is live). When every partition is asked for, the ones that need
     * no election are left out of the answer, as Kafka does.
     */
    public CompletableFuture<java.util.Map<TopicPartition, ApiError>> electLeaders(Election type,
                                                                                   java.util.Collection<TopicPartition> wanted) {
        return metadata.write(image -> {
            java.util.Map<TopicPartition, ApiError> outcomes = new java.util.LinkedHashMap<>();
            List<MetadataRecord> records = new ArrayList<>();
            List<TopicPartition> partitions = wanted != null ? List.copyOf(wanted) : everyPartition(image);
            for (TopicPartition tp : partitions) {
                TopicImage topic = image.topic(tp.topic());
                PartitionRegistration r = topic == null || tp.partition() < 0 || tp.partition() >= topic.partitions()
                        ? null : topic.registration(tp.partition());
                if (r == null) {
                    outcomes.put(tp, ApiError.of(Errors.UNKNOWN_TOPIC_OR_PARTITION, "The partition does not exist."));
                    continue;
                }
                ApiError outcome;
                PartitionRegistration next = null;
                if (type == Election.PREFERRED) {
                    int preferred = r.replicas().get(0);
                    if (r.leader() == preferred) {
                        outcome = ApiError.of(Errors.ELECTION_NOT_NEEDED, "Leader election not needed for topic partition.");
                    } else if (!r.isr().contains(preferred) || !unfenced(image, preferred)) {
                        outcome = ApiError.of(Errors.PREFERRED_LEADER_NOT_AVAILABLE, "Failed to elect leader for partition "
                                + tp.topic() + "-" + tp.partition() + " under strategy PREFERRED: replica " + preferred
                                + " is not in sync or not alive.");
                    } else {
                        next = r.withLeader(preferred, r.isr());
                        outcome = ApiError.NONE;
                    }
                } else {
                    if (r.leader() >= 0 && unfenced(image, r.leader())) {
                        outcome = ApiError.of(Errors.ELECTION_NOT_NEEDED, "Leader election not needed for topic partition.");
                    } else {
                        int leader = firstUnfenced(image, r.replicas().stream().filter(r.isr()::contains).toList());
                        boolean unclean = leader < 0;
                        if (unclean) {
                            leader = firstUnfenced(image, r.replicas());
                        }
                        if (leader < 0) {
                            outcome = ApiError.of(Errors.ELIGIBLE_LEADERS_NOT_AVAILABLE, "No replica of "
                                    + tp.topic() + "-" + tp.partition() + " is alive.");
                        } else {
                            next = r.withLeader(leader, unclean ? List.of(leader) : r.isr());
                            outcome = ApiError.NONE;
                        }
                    }
                }
                if (next != null) {
                    records.add(new MetadataRecord.PartitionState(topic.id(), tp.partition(), next));
                }
                if (wanted != null || outcome.error() != Errors.ELECTION_NOT_NEEDED) {
                    outcomes.put(tp, outcome);
                }
            }
            return ControllerResult.of(records, outcomes);
        });
    }

    /**
     * auto.leader.rebalance.enable: the partitions whose preferred replica is in sync and alive but does not lead
     * get it as leader again (after a node came back from a restart, say). Completes with how many moved.
     */
    public CompletableFuture<Integer> balanceLeaders() {
        return electLeaders(Election.PREFERRED, null).thenApply(outcomes -> (int) outcomes.values().stream()
                .filter(ApiError::isSuccess).count());
    }

    private static List<TopicPartition> everyPartition(MetadataImage image) {
        List<TopicPartition> all = new ArrayList<>();
        for (TopicImage topic : image.topics()) {
            topic.registrations().keySet().stream().sorted().forEach(p -> all.add(new TopicPartition(topic.name(), p)));
        }
        return all;
    }

    private static boolean unfenced(MetadataImage image, int id) {
        BrokerRegistration broker = image.broker(id);
        return broker != null && !broker.fenced();
    }

    private static int firstUnfenced(MetadataImage image, List<Integer> candidates) {
        return candidates.stream().filter(id -> unfenced(image, id)).findFirst().orElse(-1);
    }

    /** What a registration answers: NONE with the broker epoch, or an error (wrong cluster id). */
    public record Registered(Errors error, String message, long brokerEpoch) {
    }

    /**
     * Registers node {@code nodeId}. A registration with the incarnation id already registered is answered with the
     * epoch it got (a retry after a lost answer), without a new record.
     */
    public CompletableFuture<Registered> register(int nodeId, String clusterId, Uuid incarnationId,
                                                  List<BrokerRegistration.Endpoint> endpoints, String rack) {
        return metadata.write(image -> {
            if (image.clusterId() != null && !image.clusterId().equals(clusterId)) {
                return ControllerResult.noChange(new Registered(Errors.INCONSISTENT_CLUSTER_ID, "Node " + nodeId
                        + " belongs to cluster " + clusterId + ", not to " + image.clusterId() + ".", -1));
            }
            BrokerRegistration current = image.broker(nodeId);
            if (current != null && current.incarnationId().equals(incarnationId)) {
                return ControllerResult.noChange(new Registered(Errors.NONE, null, current.epoch()));
            }
            lastContact.put(nodeId, clock.getAsLong());
            return ControllerResult.of(registration(image, nodeId, incarnationId, endpoints, rack, uncleanAllowed),
                    new Registered(Errors.NONE, null, -1));
        }).thenApply(r -> r.brokerEpoch() >= 0 || r.error() != Errors.NONE ? r
                : new Registered(Errors.NONE, null, metadata.image().broker(nodeId).epoch()));
    }

    /**
     * The records of a new registration of node {@code nodeId} (a new incarnation). A node registers once it has
     * caught up with the metadata log: it is unfenced at once, and leads again the partitions that lost their leader
     * while it was away and that it is still in sync for.
     *
     * <p>A node that comes back before its previous incarnation was fenced (a restart within the session timeout) is
     * fenced first: what it led moves to another member of the ISR, or to itself under a new leader epoch. It may have
     * lost what it had not fsynced, which its followers may hold; continuing in the same epoch would let its new
     * records and their old ones share offsets and an epoch, where truncation cannot tell them apart.
     */
    static List<MetadataRecord> registration(MetadataImage image, int nodeId, Uuid incarnationId,
                                             List<BrokerRegistration.Endpoint> endpoints, String rack,
                                             java.util.function.Predicate<TopicImage> uncleanAllowed) {
        List<MetadataRecord> records = new ArrayList<>();
        MetadataImage working = image;
        BrokerRegistration previous = image.broker(nodeId);
        if (previous != null && !previous.fenced()) {
            List<MetadataRecord> fenced = fence(image, previous, uncleanAllowed);
            records.addAll(fenced);
            working = image.apply(image.offset(), fenced);
        }
        records.add(new MetadataRecord.BrokerRegistered(nodeId, incarnationId, endpoints, rack));
        records.addAll(electLeaderless(working, nodeId, uncleanAllowed));
        return records;
    }

    /**
     * Gives every partition without a registration (a data directory from before clustering, where one node held
     * everything) a registration on node {@code holder}, the node that held it. A no-op when there are none.
     */
    public CompletableFuture<Integer> adoptUnregisteredPartitions(int holder) {
        return metadata.write(image -> {
            List<MetadataRecord> records = unregistered(image, holder);
            return ControllerResult.of(records, records.size());
        });
    }

    private static List<MetadataRecord> unregistered(MetadataImage image, int holder) {
        List<MetadataRecord> records = new ArrayList<>();
        for (TopicImage topic : image.topics()) {
            for (int p = 0; p < topic.partitions(); p++) {
                if (topic.registration(p) == null) {
                    records.add(new MetadataRecord.PartitionState(topic.id(), p, PartitionRegistration.of(List.of(holder))));
                }
            }
        }
        return records;
    }
}
