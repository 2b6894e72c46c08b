package io.gregor.broker.handlers;

import io.gregor.coordinator.group.GroupCoordinatorService;
import io.gregor.coordinator.group.ClassicGroupManager.LeaveResult;
import io.gregor.coordinator.group.ClassicGroupManager.LeavingMember;
import io.gregor.broker.network.RequestContext;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.LeaveGroupRequestData;
import org.apache.kafka.common.message.LeaveGroupResponseData;
import org.apache.kafka.common.message.LeaveGroupResponseData.MemberResponse;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * LeaveGroup v0-5, several members at once from v3 (KIP-345).
 *
 * <p>Errors: COORDINATOR_LOAD_IN_PROGRESS, UNKNOWN_MEMBER_ID (top level before v3, per member after),
 * FENCED_INSTANCE_ID per member.
 */
public final class LeaveGroupHandler extends BrokerHandler<LeaveGroupRequestData> {

    private final GroupCoordinatorService groups;

    public LeaveGroupHandler(GroupCoordinatorService groups) {
        super(ApiKeys.LEAVE_GROUP, 0, 5);
        this.groups = groups;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, LeaveGroupRequestData request) {
        short version = context.apiVersion();
        List<LeavingMember> leaving = new ArrayList<>();
        if (version >= 3) {
            request.members().forEach(m -> leaving.add(new LeavingMember(m.memberId(), m.groupInstanceId())));
        } else {
            leaving.add(new LeavingMember(request.memberId(), null));
        }
        return groups.leave(request.groupId(), leaving).thenApply(results -> {
            LeaveGroupResponseData response = new LeaveGroupResponseData();
            if (version < 3) {
                return response.setErrorCode(results.get(0).error().code());
            }
            boolean loading = results.stream().anyMatch(r -> r.error() == Errors.COORDINATOR_LOAD_IN_PROGRESS);
            if (loading) {
                return response.setErrorCode(Errors.COORDINATOR_LOAD_IN_PROGRESS.code());
            }
            for (LeaveResult r : results) {
                response.members().add(new MemberResponse().setMemberId(r.memberId()).setGroupInstanceId(r.groupInstanceId())
                        .setErrorCode(r.error().code()));
            }
            return response;
        });
    }
}
