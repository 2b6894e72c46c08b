package io.gregor.broker.controller;

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
    private final MetadataManager metadata;

    public ClusterOperations(MetadataManager metadata) {
        this.metadata = metadata;
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
            return ControllerResult.of(List.of(new MetadataRecord.BrokerRegistered(nodeId, incarnationId, endpoints, rack)),
                    new Registered(Errors.NONE, null, -1));
        }).thenApply(r -> r.brokerEpoch() >= 0 || r.error() != Errors.NONE ? r
                : new Registered(Errors.NONE, null, metadata.image().broker(nodeId).epoch()));
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
