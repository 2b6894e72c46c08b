package io.gregor.broker.txn;

import io.gregor.broker.controller.TopicOperations;
import io.gregor.broker.group.OffsetsTopic;
import io.gregor.coordinator.runtime.CoordinatorLog;
import io.gregor.coordinator.transaction.TransactionCoordinatorService;
import io.gregor.coordinator.transaction.TransactionRecord;
import io.gregor.metadata.ApiError;
import io.gregor.metadata.MetadataCache;
import io.gregor.replication.ReplicaManager;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.function.IntSupplier;
import org.apache.kafka.common.protocol.Errors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The partitions of {@code __transaction_state} as the transaction coordinator's log (one batch per operation,
 * durable as acks=all; read back from the start when a shard loads), and its creation: on demand, at the first
 * FindCoordinator for a transactional id, as Kafka does, so a cluster that never uses transactions has no such topic.
 * Thread-safe.
 */
public final class TransactionStateTopic implements CoordinatorLog<TransactionRecord> {
    public static final String TOPIC = TransactionCoordinatorService.TOPIC;
    private static final Logger log = LoggerFactory.getLogger(TransactionStateTopic.class);

    /** How the topic is made: its settings (transaction.state.log.* properties). */
    public record Settings(int numPartitions, short replicationFactor, int minIsr, int segmentBytes) {
    }

    private final ReplicaManager partitions;
    private final MetadataCache metadata;
    private final Settings settings;
    private final Function<TopicOperations.NewTopic, CompletableFuture<ApiError>> create;
    private final IntSupplier liveBrokers;
    private final AtomicReference<CompletableFuture<Void>> creating = new AtomicReference<>();

    /**
     * @param create creates a topic through the active controller and completes with the outcome
     * @param liveBrokers the live brokers now (the topic gets at most as many replicas)
     */
    public TransactionStateTopic(ReplicaManager partitions, MetadataCache metadata, Settings settings,
                                 Function<TopicOperations.NewTopic, CompletableFuture<ApiError>> create,
                                 IntSupplier liveBrokers) {
        this.partitions = partitions;
        this.metadata = metadata;
        this.settings = settings;
        this.create = create;
        this.liveBrokers = liveBrokers;
    }

    /** Whether the topic exists in this node's metadata. */
    public boolean exists() {
        return metadata.image().topic(TOPIC) != null;
    }

    /**
     * Starts creating the topic unless it exists or is being created; the future completes when the controller has
     * answered (the leaders then load their partitions as the metadata reaches them).
     */
    public CompletableFuture<Void> ensureCreated() {
        if (exists()) {
            return CompletableFuture.completedFuture(null);
        }
        CompletableFuture<Void> started = new CompletableFuture<>();
        CompletableFuture<Void> running = creating.compareAndExchange(null, started);
        if (running != null) {
            return running;
        }
        short replicas = (short) Math.max(1, Math.min(settings.replicationFactor(), liveBrokers.getAsInt()));
        int minIsr = Math.max(1, Math.min(settings.minIsr(), replicas));
        log.info("Creating {} ({} partitions, replication factor {}, min.insync.replicas {})", TOPIC,
                settings.numPartitions(), replicas, minIsr);
        create.apply(new TopicOperations.NewTopic(TOPIC, settings.numPartitions(), replicas,
                        Map.of("cleanup.policy", "compact", "min.insync.replicas", String.valueOf(minIsr),
                                "unclean.leader.election.enable", "false",
                                "segment.bytes", String.valueOf(settings.segmentBytes()))))
                .whenComplete((error, e) -> {
                    creating.set(null);
                    if (e != null) {
                        log.warn("Creating {} failed: {}", TOPIC, e.toString());
                        started.completeExceptionally(e);
                    } else if (!error.isSuccess() && error.error() != Errors.TOPIC_ALREADY_EXISTS) {
                        log.warn("Creating {} failed: {}", TOPIC, error.message());
                        started.completeExceptionally(error.error().exception(error.message()));
                    } else {
                        started.complete(null);
                    }
                });
        return started;
    }

    @Override
    public Append append(int partition, List<TransactionRecord> records) {
        return OffsetsTopic.appendKeyValues(partitions, TOPIC, partition, records.stream()
                .map(r -> new byte[][] {r.keyBytes(), r.valueBytes()}).toList());
    }

    @Override
    public long read(int partition, RecordSink<TransactionRecord> sink) {
        long[] count = {0};
        OffsetsTopic.scan(partitions, TOPIC, partition, (offset, record) -> {
            TransactionRecord decoded;
            try {
                decoded = TransactionRecord.read(record.key(), record.hasValue() ? record.value() : null);
            } catch (IllegalArgumentException e) {
                log.warn("Skipping unreadable record at offset {} of {}-{}: {}", offset, TOPIC, partition, e.getMessage());
                return;
            }
            sink.accept(offset, decoded);
            count[0]++;
        });
        return count[0];
    }
}
