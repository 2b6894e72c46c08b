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
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.protocol.Errors;

/**
 * Partition reassignments on the active controller, as Kafka runs them (KIP-455): a reassignment to target replicas T
 * of a partition on replicas R first makes the replicas T followed by R minus T, with T minus R "adding" and R minus T
 * "removing"; the adding replicas copy the log from the leader and join the ISR the usual way; once every target
 * replica is in the ISR the registration becomes T alone (a leader outside T hands over to the first in-sync target
 * replica) and the nodes that left delete their copy. A reassignment can be replaced by another one or cancelled
 * (back to R) while it runs.
 */
public final class ReassignmentOperations {
    private final MetadataManager metadata;

    public ReassignmentOperations(MetadataManager metadata) {
        this.metadata = metadata;
    }

    /** One partition of an AlterPartitionReassignments request; {@code target} null cancels. */
    public record Change(String topic, int partition, List<Integer> target) {
    }

    /** A reassignment in progress, as ListPartitionReassignments shows it. */
    public record Ongoing(String topic, int partition, List<Integer> replicas, List<Integer> adding,
                          List<Integer> removing) {
    }

    /**
     * Starts, replaces or cancels the reassignment of each partition of {@code changes}, all in one metadata entry;
     * completes with one outcome per change, in order. With {@code allowReplicationFactorChange} false a target of
     * another size than the current replicas is refused (INVALID_REPLICATION_FACTOR).
     */
    public CompletableFuture<List<ApiError>> alter(List<Change> changes, boolean allowReplicationFactorChange) {
        return metadata.write(image -> {
            List<MetadataRecord> records = new ArrayList<>();
            List<ApiError> outcomes = new ArrayList<>();
            MetadataImage working = image;
            for (Change change : changes) {
                TopicImage topic = working.topic(change.topic());
                PartitionRegistration current = topic == null || change.partition() < 0
                        || change.partition() >= topic.partitions() ? null : topic.registration(change.partition());
                if (current == null) {
                    outcomes.add(ApiError.of(Errors.UNKNOWN_TOPIC_OR_PARTITION, "Unable to find partition "
                            + change.topic() + "-" + change.partition() + "."));
                    continue;
                }
                ApiError invalid = change.target() == null ? cancellable(current)
                        : validTarget(working, current, change.target(), allowReplicationFactorChange);
                if (!invalid.isSuccess()) {
                    outcomes.add(invalid);
                    continue;
                }
                PartitionRegistration next = change.target() == null ? cancel(working, current)
                        : start(working, current, change.target());
                if (next == null) {
                    outcomes.add(ApiError.of(Errors.INVALID_REPLICA_ASSIGNMENT, "No replica of the original assignment "
                            + "of " + change.topic() + "-" + change.partition() + " is in sync: it cannot go back."));
                    continue;
                }
                if (!next.equals(current)) {
                    MetadataRecord record = new MetadataRecord.PartitionState(topic.id(), change.partition(), next);
                    records.add(record);
                    working = working.apply(working.offset(), List.of(record));
                }
                outcomes.add(ApiError.NONE);
            }
            return ControllerResult.of(records, outcomes);
        });
    }

    /** The reassignments in progress, of every partition ({@code wanted} null) or of the partitions named. */
    public List<Ongoing> list(java.util.Map<String, List<Integer>> wanted) {
        MetadataImage image = metadata.image();
        List<Ongoing> result = new ArrayList<>();
        for (TopicImage topic : image.topics()) {
            if (wanted != null && !wanted.containsKey(topic.name())) {
                continue;
            }
            topic.registrations().forEach((p, r) -> {
                if (r.reassigning() && (wanted == null || wanted.get(topic.name()).contains(p))) {
                    result.add(new Ongoing(topic.name(), p, r.replicas(), r.addingReplicas(), r.removingReplicas()));
                }
            });
        }
        result.sort(java.util.Comparator.comparing(Ongoing::topic).thenComparingInt(Ongoing::partition));
        return result;
    }

    private static ApiError cancellable(PartitionRegistration current) {
        return current.reassigning() ? ApiError.NONE
                : ApiError.of(Errors.NO_REASSIGNMENT_IN_PROGRESS, "No ongoing reassignment for this partition.");
    }

    private static ApiError validTarget(MetadataImage image, PartitionRegistration current, List<Integer> target,
                                        boolean allowReplicationFactorChange) {
        if (target.isEmpty()) {
            return ApiError.of(Errors.INVALID_REPLICA_ASSIGNMENT, "The target replicas must not be empty.");
        }
        if (new HashSet<>(target).size() != target.size()) {
            return ApiError.of(Errors.INVALID_REPLICA_ASSIGNMENT, "Duplicate brokers in the target replicas " + target + ".");
        }
        for (int id : target) {
            if (image.broker(id) == null) {
                return ApiError.of(Errors.INVALID_REPLICA_ASSIGNMENT, "Broker " + id + " of the target replicas "
                        + target + " is not registered.");
            }
        }
        List<Integer> original = current.originalReplicas();
        if (current.isr().stream().noneMatch(id -> target.contains(id) || original.contains(id))) {
            return ApiError.of(Errors.INVALID_REPLICA_ASSIGNMENT, "No in-sync replica " + current.isr()
                    + " would remain with the target replicas " + target + ".");
        }
        int size = original.size();
        if (!allowReplicationFactorChange && target.size() != size) {
            return ApiError.of(Errors.INVALID_REPLICATION_FACTOR, "The replication factor would change from " + size
                    + " to " + target.size() + ", and the request does not allow that.");
        }
        return ApiError.NONE;
    }

    /** The registration of a reassignment from the original replicas to {@code target} (complete at once if it can). */
    private static PartitionRegistration start(MetadataImage image, PartitionRegistration current, List<Integer> target) {
        List<Integer> original = current.originalReplicas();
        if (!current.reassigning() && original.equals(target)) {
            return current;
        }
        Set<Integer> merged = new LinkedHashSet<>(target);
        merged.addAll(original);
        List<Integer> adding = target.stream().filter(id -> !original.contains(id)).toList();
        List<Integer> removing = original.stream().filter(id -> !target.contains(id)).toList();
        // Replicas that a replaced reassignment was adding and this one does not keep leave the ISR with it.
        List<Integer> isr = current.isr().stream().filter(merged::contains).toList();
        PartitionRegistration next = new PartitionRegistration(List.copyOf(merged), isr, current.leader(),
                current.leaderEpoch(), current.partitionEpoch() + 1, adding, removing);
        if (!merged.contains(current.leader())) {
            next = electFrom(image, next, target);
        }
        return completeIfDone(image, next);
    }

    /** Back to the replicas before the reassignment; null when none of them is in sync. */
    private static PartitionRegistration cancel(MetadataImage image, PartitionRegistration current) {
        List<Integer> original = current.originalReplicas();
        List<Integer> isr = current.isr().stream().filter(original::contains).toList();
        if (isr.isEmpty()) {
            return null;
        }
        PartitionRegistration next = new PartitionRegistration(original, isr, current.leader(), current.leaderEpoch(),
                current.partitionEpoch() + 1);
        return original.contains(current.leader()) ? next : electFrom(image, next, original);
    }

    /**
     * A reassignment whose target replicas are all in the ISR completes: the replicas become the target, the ISR
     * keeps only target replicas, and a leader outside the target hands over. Any other registration is returned
     * as it is.
     */
    public static PartitionRegistration completeIfDone(MetadataImage image, PartitionRegistration r) {
        if (!r.reassigning()) {
            return r;
        }
        List<Integer> target = r.targetReplicas();
        if (!r.isr().containsAll(target)) {
            return r;
        }
        List<Integer> isr = r.isr().stream().filter(target::contains).toList();
        PartitionRegistration done = new PartitionRegistration(target, isr, r.leader(), r.leaderEpoch(),
                r.partitionEpoch() + 1);
        return target.contains(r.leader()) ? done : electFrom(image, done, target);
    }

    /** {@code r} led by the first of {@code candidates} that is in its ISR on an unfenced node (or by nobody). */
    private static PartitionRegistration electFrom(MetadataImage image, PartitionRegistration r, List<Integer> candidates) {
        int leader = -1;
        for (int id : candidates) {
            BrokerRegistration broker = image.broker(id);
            if (r.isr().contains(id) && broker != null && !broker.fenced()) {
                leader = id;
                break;
            }
        }
        return new PartitionRegistration(r.replicas(), r.isr(), leader, r.leaderEpoch() + 1, r.partitionEpoch(),
                r.addingReplicas(), r.removingReplicas());
    }
}
