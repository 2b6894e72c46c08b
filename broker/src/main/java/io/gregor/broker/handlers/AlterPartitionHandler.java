package io.gregor.broker.handlers;

import io.gregor.broker.controller.ClusterOperations;
import io.gregor.broker.controller.ControllerChannel;
import io.gregor.broker.network.RequestContext;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.AlterPartitionRequestData;
import org.apache.kafka.common.message.AlterPartitionResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * AlterPartition v2-3, served by the active controller: a partition leader's ISR change (shrink when a follower
 * falls behind, expand when it has caught up). Errors: NOT_CONTROLLER (top level); per partition
 * UNKNOWN_TOPIC_OR_PARTITION, NOT_LEADER_OR_FOLLOWER, FENCED_LEADER_EPOCH, INVALID_UPDATE_VERSION,
 * INELIGIBLE_REPLICA, INVALID_REQUEST.
 */
public final class AlterPartitionHandler extends BrokerHandler<AlterPartitionRequestData> {
    private final ControllerChannel controller;
    private final ClusterOperations cluster;

    public AlterPartitionHandler(ControllerChannel controller, ClusterOperations cluster) {
        super(ApiKeys.ALTER_PARTITION, 2, 3);
        this.controller = controller;
        this.cluster = cluster;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, AlterPartitionRequestData request) {
        if (!controller.isActive()) {
            return done(new AlterPartitionResponseData().setErrorCode(Errors.NOT_CONTROLLER.code()));
        }
        short version = context.apiVersion();
        AlterPartitionResponseData response = new AlterPartitionResponseData();
        List<ClusterOperations.IsrChange> changes = new ArrayList<>();
        List<AlterPartitionResponseData.PartitionData> results = new ArrayList<>();
        for (AlterPartitionRequestData.TopicData topic : request.topics()) {
            AlterPartitionResponseData.TopicData out = new AlterPartitionResponseData.TopicData().setTopicId(topic.topicId());
            response.topics().add(out);
            for (AlterPartitionRequestData.PartitionData p : topic.partitions()) {
                List<Integer> isr = new ArrayList<>();
                if (version >= 3) {
                    p.newIsrWithEpochs().forEach(b -> isr.add(b.brokerId()));
                } else {
                    isr.addAll(p.newIsr());
                }
                AlterPartitionResponseData.PartitionData result = new AlterPartitionResponseData.PartitionData()
                        .setPartitionIndex(p.partitionIndex());
                out.partitions().add(result);
                results.add(result);
                changes.add(new ClusterOperations.IsrChange(topic.topicId(), p.partitionIndex(), p.leaderEpoch(),
                        p.partitionEpoch(), isr));
            }
        }
        // Every partition of the request in one metadata entry.
        return cluster.alterPartitions(request.brokerId(), changes).handle((answers, e) -> {
            if (e != null) {
                return new AlterPartitionResponseData().setErrorCode(Errors.NOT_CONTROLLER.code());
            }
            for (int i = 0; i < answers.size(); i++) {
                ClusterOperations.IsrChanged changed = answers.get(i);
                AlterPartitionResponseData.PartitionData result = results.get(i);
                result.setErrorCode(changed.error().code());
                if (changed.registration() != null) {
                    result.setLeaderId(changed.registration().leader())
                            .setLeaderEpoch(changed.registration().leaderEpoch())
                            .setIsr(new ArrayList<>(changed.registration().isr()))
                            .setPartitionEpoch(changed.registration().partitionEpoch());
                }
            }
            return response;
        });
    }
}
