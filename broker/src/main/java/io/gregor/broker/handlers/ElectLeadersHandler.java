package io.gregor.broker.handlers;

import io.gregor.broker.controller.ClusterOperations;
import io.gregor.broker.controller.ClusterOperations.Election;
import io.gregor.broker.controller.ClusterOperations.TopicPartition;
import io.gregor.broker.network.RequestContext;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.ElectLeadersRequestData;
import org.apache.kafka.common.message.ElectLeadersResponseData;
import org.apache.kafka.common.message.ElectLeadersResponseData.PartitionResult;
import org.apache.kafka.common.message.ElectLeadersResponseData.ReplicaElectionResult;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * ElectLeaders v0-2 (kafka-leader-election.sh, Admin.electLeaders), on the active controller: preferred (v0, and
 * election type 0) or unclean (type 1) leader elections; a null partition list means every partition. An unknown
 * election type is INVALID_REQUEST for the whole request.
 */
public final class ElectLeadersHandler extends BrokerHandler<ElectLeadersRequestData> {
    private final ClusterOperations cluster;

    public ElectLeadersHandler(ClusterOperations cluster) {
        super(ApiKeys.ELECT_LEADERS, 0, 2);
        this.cluster = cluster;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, ElectLeadersRequestData request) {
        ElectLeadersResponseData response = new ElectLeadersResponseData();
        byte typeCode = context.apiVersion() == 0 ? 0 : request.electionType();
        if (typeCode != 0 && typeCode != 1) {
            return done(response.setErrorCode(Errors.INVALID_REQUEST.code()));
        }
        Election type = typeCode == 0 ? Election.PREFERRED : Election.UNCLEAN;
        List<TopicPartition> wanted = null;
        if (request.topicPartitions() != null) {
            wanted = new ArrayList<>();
            for (ElectLeadersRequestData.TopicPartitions topic : request.topicPartitions()) {
                for (int p : topic.partitions()) {
                    TopicPartition tp = new TopicPartition(topic.topic(), p);
                    if (!wanted.contains(tp)) {
                        wanted.add(tp);
                    }
                }
            }
        }
        return cluster.electLeaders(type, wanted).thenApply(outcomes -> {
            Map<String, ReplicaElectionResult> byTopic = new LinkedHashMap<>();
            outcomes.forEach((tp, error) -> byTopic.computeIfAbsent(tp.topic(),
                    t -> new ReplicaElectionResult().setTopic(t)).partitionResult().add(new PartitionResult()
                    .setPartitionId(tp.partition()).setErrorCode(error.code()).setErrorMessage(error.message())));
            response.replicaElectionResults().addAll(byTopic.values());
            return response;
        });
    }
}
