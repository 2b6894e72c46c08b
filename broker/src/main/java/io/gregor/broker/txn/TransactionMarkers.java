package io.gregor.broker.txn;

import io.gregor.broker.network.NodeClient;
import io.gregor.coordinator.transaction.TransactionMarkerWriter;
import io.gregor.metadata.MetadataCache;
import io.gregor.metadata.MetadataImage;
import io.gregor.metadata.PartitionRegistration;
import io.gregor.metadata.TopicImage;
import io.gregor.replication.Partition;
import io.gregor.replication.ReplicaManager;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.message.WriteTxnMarkersRequestData;
import org.apache.kafka.common.message.WriteTxnMarkersResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes a decided transaction's markers to the leaders of its partitions: on this node directly (a partition of
 * {@code __consumer_offsets} through its group coordinator shard, which then counts or drops the transaction's
 * offsets), on another node with WriteTxnMarkers on its inter-broker listener. Partitions whose leader is unknown, down or moved are retried
 * every {@value #RETRY_MS} ms until their marker is written; a partition whose topic was deleted needs none.
 */
public final class TransactionMarkers implements TransactionMarkerWriter, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TransactionMarkers.class);
    static final long RETRY_MS = 200;

    private final int nodeId;
    private final MetadataCache metadata;
    private final ReplicaManager replicas;
    private final io.gregor.coordinator.group.GroupCoordinatorService groups;
    private final NodeClient client;
    private final IntFunction<InetSocketAddress> addressOf;
    /** Retries run on a thread of their own (never the JVM's common pool, which a blocked task elsewhere may hold). */
    private final java.util.concurrent.ScheduledExecutorService retries =
            java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "gregor-txn-markers");
                t.setDaemon(true);
                return t;
            });

    /** @param addressOf the inter-broker address of a node, or null when it has none registered */
    public TransactionMarkers(int nodeId, MetadataCache metadata, ReplicaManager replicas,
                              io.gregor.coordinator.group.GroupCoordinatorService groups, NodeClient client,
                              IntFunction<InetSocketAddress> addressOf) {
        this.nodeId = nodeId;
        this.metadata = metadata;
        this.replicas = replicas;
        this.groups = groups;
        this.client = client;
        this.addressOf = addressOf;
    }

    @Override
    public CompletableFuture<Void> write(long producerId, short producerEpoch, boolean commit, int coordinatorEpoch,
                                         Set<TopicPartition> partitions, java.util.function.BooleanSupplier keepTrying) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        attempt(producerId, producerEpoch, commit, coordinatorEpoch, new HashSet<>(partitions), done, 0, keepTrying);
        return done;
    }

    private void attempt(long producerId, short epoch, boolean commit, int coordinatorEpoch, Set<TopicPartition> left,
                         CompletableFuture<Void> done, int round, java.util.function.BooleanSupplier keepTrying) {
        if (!keepTrying.getAsBoolean()) {
            done.completeExceptionally(new IllegalStateException("no longer the coordinator of producer " + producerId
                    + "'s transaction: its next coordinator writes the markers"));
            return;
        }
        MetadataImage image = metadata.image();
        Map<Integer, List<TopicPartition>> byLeader = new HashMap<>();
        for (TopicPartition tp : new ArrayList<>(left)) {
            TopicImage topic = image.topic(tp.topic());
            if (topic == null || tp.partition() >= topic.partitions()) {
                left.remove(tp); // deleted: nothing to mark
                continue;
            }
            PartitionRegistration registration = topic.registration(tp.partition());
            int leader = registration == null ? nodeId : registration.leader();
            if (leader >= 0) {
                byLeader.computeIfAbsent(leader, l -> new ArrayList<>()).add(tp);
            }
        }
        if (left.isEmpty()) {
            done.complete(null);
            return;
        }
        List<CompletableFuture<Map<TopicPartition, Errors>>> sent = new ArrayList<>();
        byLeader.forEach((leader, tps) -> sent.add(leader == nodeId
                ? writeHere(producerId, epoch, commit, coordinatorEpoch, tps)
                : writeThere(leader, producerId, epoch, commit, coordinatorEpoch, tps)));
        CompletableFuture.allOf(sent.toArray(CompletableFuture[]::new)).whenComplete((v, e) -> {
            for (CompletableFuture<Map<TopicPartition, Errors>> f : sent) {
                if (f.getNow(Map.of()).containsValue(Errors.TRANSACTION_COORDINATOR_FENCED)) {
                    // A newer coordinator wrote this producer's markers there: this one is stale and stops.
                    log.warn("Markers of producer {} refused: a newer transaction coordinator took over", producerId);
                    done.completeExceptionally(Errors.TRANSACTION_COORDINATOR_FENCED.exception());
                    return;
                }
            }
            for (CompletableFuture<Map<TopicPartition, Errors>> f : sent) {
                f.getNow(Map.of()).forEach((tp, error) -> {
                    if (error == Errors.NONE) {
                        left.remove(tp);
                    } else if (round % 25 == 0) {
                        log.info("Marker of producer {} for {} not written yet ({}); retrying", producerId, tp, error);
                    }
                });
            }
            if (left.isEmpty()) {
                done.complete(null);
            } else {
                try {
                    retries.schedule(() -> attempt(producerId, epoch, commit, coordinatorEpoch, left, done, round + 1,
                            keepTrying), RETRY_MS, TimeUnit.MILLISECONDS);
                } catch (java.util.concurrent.RejectedExecutionException closed) {
                    done.completeExceptionally(closed);
                }
            }
        });
    }

    @Override
    public void close() {
        retries.shutdownNow();
    }

    /** Writes the markers of {@code partitions} that this node leads. */
    public CompletableFuture<Map<TopicPartition, Errors>> writeHere(long producerId, short epoch, boolean commit,
                                                                    int coordinatorEpoch, List<TopicPartition> partitions) {
        Map<TopicPartition, CompletableFuture<Errors>> writes = new HashMap<>();
        for (TopicPartition tp : partitions) {
            if (tp.topic().equals(io.gregor.coordinator.group.GroupCoordinatorService.TOPIC)) {
                // The group coordinator writes its own partition's marker, so its offsets of the transaction count.
                writes.put(tp, groups.completeTransaction(tp.partition(), producerId, epoch, commit, coordinatorEpoch));
                continue;
            }
            Partition partition = replicas.partition(tp.topic(), tp.partition());
            writes.put(tp, partition == null ? CompletableFuture.completedFuture(Errors.UNKNOWN_TOPIC_OR_PARTITION)
                    : replicas.appendTxnMarker(partition, producerId, epoch, commit, coordinatorEpoch));
        }
        return CompletableFuture.allOf(writes.values().toArray(CompletableFuture[]::new)).thenApply(v -> {
            Map<TopicPartition, Errors> out = new HashMap<>();
            writes.forEach((tp, f) -> out.put(tp, f.join()));
            return out;
        });
    }

    private CompletableFuture<Map<TopicPartition, Errors>> writeThere(int leader, long producerId, short epoch,
                                                                      boolean commit, int coordinatorEpoch,
                                                                      List<TopicPartition> partitions) {
        InetSocketAddress address = addressOf.apply(leader);
        if (address == null) {
            return CompletableFuture.completedFuture(Map.of());
        }
        Map<String, WriteTxnMarkersRequestData.WritableTxnMarkerTopic> topics = new HashMap<>();
        for (TopicPartition tp : partitions) {
            topics.computeIfAbsent(tp.topic(), t -> new WriteTxnMarkersRequestData.WritableTxnMarkerTopic().setName(t))
                    .partitionIndexes().add(tp.partition());
        }
        WriteTxnMarkersRequestData request = new WriteTxnMarkersRequestData().setMarkers(List.of(
                new WriteTxnMarkersRequestData.WritableTxnMarker().setProducerId(producerId).setProducerEpoch(epoch)
                        .setTransactionResult(commit).setCoordinatorEpoch(coordinatorEpoch)
                        .setTopics(new ArrayList<>(topics.values()))));
        return client.send("txn-markers", address, request, (short) 1, Duration.ofSeconds(30)).handle((response, e) -> {
            Map<TopicPartition, Errors> out = new HashMap<>();
            if (e != null) {
                return out;
            }
            for (var marker : ((WriteTxnMarkersResponseData) response).markers()) {
                for (var topic : marker.topics()) {
                    for (var p : topic.partitions()) {
                        out.put(new TopicPartition(topic.name(), p.partitionIndex()), Errors.forCode(p.errorCode()));
                    }
                }
            }
            return out;
        });
    }
}
