package io.gregor.broker.handlers;

import io.gregor.broker.controller.ReassignmentOperations;
import io.gregor.broker.network.RequestContext;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.AlterPartitionReassignmentsRequestData;
import org.apache.kafka.common.message.AlterPartitionReassignmentsResponseData;
import org.apache.kafka.common.message.AlterPartitionReassignmentsResponseData.ReassignablePartitionResponse;
import org.apache.kafka.common.message.AlterPartitionReassignmentsResponseData.ReassignableTopicResponse;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;

/**
 * AlterPartitionReassignments v0-1 (kafka-reassign-partitions.sh --execute / --cancel, Admin.alterPartitionReassignments),
 * on the active controller: starts, replaces or cancels (null replicas) the reassignment of each partition named.
 * Errors per partition: UNKNOWN_TOPIC_OR_PARTITION, INVALID_REPLICA_ASSIGNMENT, NO_REASSIGNMENT_IN_PROGRESS,
 * INVALID_REPLICATION_FACTOR (v1 with AllowReplicationFactorChange false).
 */
public final class AlterPartitionReassignmentsHandler extends BrokerHandler<AlterPartitionReassignmentsRequestData> {
    private final ReassignmentOperations reassignments;

    public AlterPartitionReassignmentsHandler(ReassignmentOperations reassignments) {
        super(ApiKeys.ALTER_PARTITION_REASSIGNMENTS, 0, 1);
        this.reassignments = reassignments;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, AlterPartitionReassignmentsRequestData request) {
        List<ReassignmentOperations.Change> changes = new ArrayList<>();
        for (var topic : request.topics()) {
            for (var partition : topic.partitions()) {
                changes.add(new ReassignmentOperations.Change(topic.name(), partition.partitionIndex(),
                        partition.replicas() == null ? null : List.copyOf(partition.replicas())));
            }
        }
        boolean allowChange = context.apiVersion() < 1 || request.allowReplicationFactorChange();
        return reassignments.alter(changes, allowChange).thenApply(outcomes -> {
            AlterPartitionReassignmentsResponseData response = new AlterPartitionReassignmentsResponseData()
                    .setAllowReplicationFactorChange(allowChange);
            Map<String, ReassignableTopicResponse> byTopic = new LinkedHashMap<>();
            for (int i = 0; i < changes.size(); i++) {
                var change = changes.get(i);
                byTopic.computeIfAbsent(change.topic(), t -> new ReassignableTopicResponse().setName(t)).partitions()
                        .add(new ReassignablePartitionResponse().setPartitionIndex(change.partition())
                                .setErrorCode(outcomes.get(i).code()).setErrorMessage(outcomes.get(i).message()));
            }
            response.responses().addAll(byTopic.values());
            return response;
        });
    }
}
