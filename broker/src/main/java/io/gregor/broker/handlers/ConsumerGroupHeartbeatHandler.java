package io.gregor.broker.handlers;

import io.gregor.coordinator.group.GroupCoordinatorService;
import io.gregor.coordinator.group.ConsumerGroupManager.Heartbeat;
import io.gregor.broker.network.RequestContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatRequestData;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatResponseData;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatResponseData.TopicPartitions;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;

/**
 * ConsumerGroupHeartbeat v0-1 (KIP-848): join (epoch 0), heartbeat and acknowledge, leave (-1) or leave for a restart
 * (-2, static members). From v1 the client chooses its member id and may subscribe by regex.
 *
 * <p>Errors: COORDINATOR_LOAD_IN_PROGRESS, INVALID_REQUEST, GROUP_ID_NOT_FOUND, UNKNOWN_MEMBER_ID, FENCED_MEMBER_EPOCH,
 * UNRELEASED_INSTANCE_ID, FENCED_INSTANCE_ID, GROUP_MAX_SIZE_REACHED, UNSUPPORTED_ASSIGNOR, INVALID_REGULAR_EXPRESSION,
 * COORDINATOR_NOT_AVAILABLE.
 */
public final class ConsumerGroupHeartbeatHandler extends BrokerHandler<ConsumerGroupHeartbeatRequestData> {

    private final GroupCoordinatorService groups;

    public ConsumerGroupHeartbeatHandler(GroupCoordinatorService groups) {
        super(ApiKeys.CONSUMER_GROUP_HEARTBEAT, 0, 1);
        this.groups = groups;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, ConsumerGroupHeartbeatRequestData request) {
        short version = context.apiVersion();
        Map<Uuid, Set<Integer>> owned = null;
        if (request.topicPartitions() != null) {
            owned = new TreeMap<>();
            for (var t : request.topicPartitions()) {
                if (!t.partitions().isEmpty()) {
                    owned.computeIfAbsent(t.topicId(), id -> new TreeSet<>()).addAll(t.partitions());
                }
            }
        }
        String host = context.clientAddress() == null ? "" : "/" + context.clientAddress().getAddress().getHostAddress();
        Heartbeat heartbeat = new Heartbeat(request.groupId(), request.memberId(), request.memberEpoch(),
                request.instanceId(), request.rackId(), request.rebalanceTimeoutMs(), request.subscribedTopicNames(),
                version >= 1 ? request.subscribedTopicRegex() : null, request.serverAssignor(), owned, context.clientId(),
                host, version >= 1);
        return groups.consumerGroupHeartbeat(heartbeat).thenApply(result -> {
            ConsumerGroupHeartbeatResponseData response = new ConsumerGroupHeartbeatResponseData()
                    .setErrorCode(result.error().code()).setErrorMessage(result.message())
                    .setMemberId(result.memberId()).setMemberEpoch(result.memberEpoch())
                    .setHeartbeatIntervalMs(result.heartbeatIntervalMs());
            if (result.assignment() != null) {
                List<TopicPartitions> partitions = new ArrayList<>();
                result.assignment().forEach((topic, set) -> partitions.add(new TopicPartitions().setTopicId(topic)
                        .setPartitions(new ArrayList<>(set))));
                response.setAssignment(new ConsumerGroupHeartbeatResponseData.Assignment().setTopicPartitions(partitions));
            }
            return response;
        });
    }
}
