package io.gregor.broker.handlers;

import io.gregor.coordinator.group.GroupCoordinatorService;
import io.gregor.broker.network.RequestContext;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.SyncGroupRequestData;
import org.apache.kafka.common.message.SyncGroupResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;

/**
 * SyncGroup v0-5: the leader hands in the assignment; every member's response waits until it is durable.
 *
 * <p>Errors: COORDINATOR_LOAD_IN_PROGRESS, UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION, INCONSISTENT_GROUP_PROTOCOL,
 * REBALANCE_IN_PROGRESS, FENCED_INSTANCE_ID, COORDINATOR_NOT_AVAILABLE.
 */
public final class SyncGroupHandler extends BrokerHandler<SyncGroupRequestData> {

    private final GroupCoordinatorService groups;

    public SyncGroupHandler(GroupCoordinatorService groups) {
        super(ApiKeys.SYNC_GROUP, 0, 5);
        this.groups = groups;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, SyncGroupRequestData request) {
        short version = context.apiVersion();
        Map<String, byte[]> assignments = new HashMap<>();
        request.assignments().forEach(a -> assignments.put(a.memberId(), a.assignment()));
        return groups.sync(request.groupId(), request.generationId(), request.memberId(),
                request.groupInstanceId(), version >= 5 ? request.protocolType() : null,
                version >= 5 ? request.protocolName() : null, assignments).thenApply(result -> {
                    SyncGroupResponseData response = new SyncGroupResponseData().setErrorCode(result.error().code())
                            .setAssignment(result.assignment());
                    if (version >= 5) {
                        response.setProtocolType(result.protocolType()).setProtocolName(result.protocolName());
                    }
                    return response;
                });
    }
}
