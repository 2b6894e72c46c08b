package io.gregor.broker.handlers;

import io.gregor.coordinator.group.GroupCoordinatorService;
import io.gregor.coordinator.group.ClassicGroupManager.JoinRequest;
import io.gregor.coordinator.group.ClassicGroupManager.MemberMetadata;
import io.gregor.coordinator.group.ClassicGroupManager.Protocol;
import io.gregor.broker.network.RequestContext;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.JoinGroupRequestData;
import org.apache.kafka.common.message.JoinGroupResponseData;
import org.apache.kafka.common.message.JoinGroupResponseData.JoinGroupResponseMember;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;

/**
 * JoinGroup v0-9 (classic protocol). From v4 a member without id gets MEMBER_ID_REQUIRED and an id to rejoin with
 * (KIP-394). The response waits for the group's join barrier.
 *
 * <p>Errors: COORDINATOR_LOAD_IN_PROGRESS, INVALID_GROUP_ID, INVALID_SESSION_TIMEOUT, MEMBER_ID_REQUIRED,
 * UNKNOWN_MEMBER_ID, INCONSISTENT_GROUP_PROTOCOL, GROUP_MAX_SIZE_REACHED, FENCED_INSTANCE_ID, REBALANCE_IN_PROGRESS,
 * COORDINATOR_NOT_AVAILABLE.
 */
public final class JoinGroupHandler extends BrokerHandler<JoinGroupRequestData> {

    private final GroupCoordinatorService groups;

    public JoinGroupHandler(GroupCoordinatorService groups) {
        super(ApiKeys.JOIN_GROUP, 0, 9);
        this.groups = groups;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, JoinGroupRequestData request) {
        short version = context.apiVersion();
        List<Protocol> protocols = new ArrayList<>();
        request.protocols().forEach(p -> protocols.add(new Protocol(p.name(), p.metadata())));
        String host = context.clientAddress() == null ? "" : "/" + context.clientAddress().getAddress().getHostAddress();
        JoinRequest join = new JoinRequest(request.groupId(), request.memberId(), request.groupInstanceId(),
                request.protocolType(), protocols, request.sessionTimeoutMs(),
                version >= 1 ? request.rebalanceTimeoutMs() : request.sessionTimeoutMs(), context.clientId(), host,
                version >= 4, version >= 9);
        return groups.join(join).thenApply(result -> {
            JoinGroupResponseData response = new JoinGroupResponseData().setErrorCode(result.error().code())
                    .setGenerationId(result.generationId()).setLeader(result.leaderId() == null ? "" : result.leaderId())
                    .setMemberId(result.memberId() == null ? "" : result.memberId());
            if (version >= 7) {
                response.setProtocolType(result.protocolType());
            }
            if (version >= 9) {
                response.setSkipAssignment(result.skipAssignment());
            }
            response.setProtocolName(result.protocolName() != null || version >= 7 ? result.protocolName() : "");
            for (MemberMetadata m : result.members()) {
                JoinGroupResponseMember member = new JoinGroupResponseMember().setMemberId(m.memberId()).setMetadata(m.metadata());
                if (version >= 5) {
                    member.setGroupInstanceId(m.groupInstanceId());
                }
                response.members().add(member);
            }
            return response;
        });
    }
}
