package io.gregor.broker.handlers;

import io.gregor.broker.controller.ReassignmentOperations;
import io.gregor.broker.network.RequestContext;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.ListPartitionReassignmentsRequestData;
import org.apache.kafka.common.message.ListPartitionReassignmentsResponseData;
import org.apache.kafka.common.message.ListPartitionReassignmentsResponseData.OngoingPartitionReassignment;
import org.apache.kafka.common.message.ListPartitionReassignmentsResponseData.OngoingTopicReassignment;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;

/**
 * ListPartitionReassignments v0 (kafka-reassign-partitions.sh --verify / --list): the reassignments in progress, of
 * every partition or of the ones named (partitions without one are left out, as Kafka does).
 */
public final class ListPartitionReassignmentsHandler extends BrokerHandler<ListPartitionReassignmentsRequestData> {
    private final ReassignmentOperations reassignments;

    public ListPartitionReassignmentsHandler(ReassignmentOperations reassignments) {
        super(ApiKeys.LIST_PARTITION_REASSIGNMENTS, 0, 0);
        this.reassignments = reassignments;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, ListPartitionReassignmentsRequestData request) {
        Map<String, List<Integer>> wanted = null;
        if (request.topics() != null) {
            wanted = new LinkedHashMap<>();
            for (var topic : request.topics()) {
                wanted.computeIfAbsent(topic.name(), t -> new java.util.ArrayList<>()).addAll(topic.partitionIndexes());
            }
        }
        Map<String, OngoingTopicReassignment> byTopic = new LinkedHashMap<>();
        for (ReassignmentOperations.Ongoing o : reassignments.list(wanted)) {
            byTopic.computeIfAbsent(o.topic(), t -> new OngoingTopicReassignment().setName(t)).partitions()
                    .add(new OngoingPartitionReassignment().setPartitionIndex(o.partition()).setReplicas(o.replicas())
                            .setAddingReplicas(o.adding()).setRemovingReplicas(o.removing()));
        }
        ListPartitionReassignmentsResponseData response = new ListPartitionReassignmentsResponseData();
        response.topics().addAll(byTopic.values());
        return done(response);
    }
}
