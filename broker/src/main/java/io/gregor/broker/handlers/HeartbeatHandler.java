package io.gregor.broker.handlers;

import io.gregor.coordinator.group.GroupCoordinatorService;
import io.gregor.broker.network.RequestContext;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.HeartbeatRequestData;
import org.apache.kafka.common.message.HeartbeatResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;

/**
 * Heartbeat v0-4: keeps a member's session alive and tells it when to rejoin.
 *
 * <p>Errors: COORDINATOR_LOAD_IN_PROGRESS, UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION, REBALANCE_IN_PROGRESS,
 * FENCED_INSTANCE_ID.
 */
public final class HeartbeatHandler extends BrokerHandler<HeartbeatRequestData> {

    private final GroupCoordinatorService groups;

    public HeartbeatHandler(GroupCoordinatorService groups) {
        super(ApiKeys.HEARTBEAT, 0, 4);
        this.groups = groups;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, HeartbeatRequestData request) {
        return groups.heartbeat(request.groupId(), request.generationId(), request.memberId(),
                request.groupInstanceId()).thenApply(error -> new HeartbeatResponseData().setErrorCode(error.code()));
    }
}
