package io.gregor.broker.handlers;

import io.gregor.coordinator.group.GroupCoordinatorService;
import io.gregor.coordinator.group.ClassicGroupManager.GroupDescription;
import io.gregor.coordinator.group.ClassicGroupManager.MemberDescription;
import io.gregor.broker.network.RequestContext;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.DescribeGroupsRequestData;
import org.apache.kafka.common.message.DescribeGroupsResponseData;
import org.apache.kafka.common.message.DescribeGroupsResponseData.DescribedGroup;
import org.apache.kafka.common.message.DescribeGroupsResponseData.DescribedGroupMember;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * DescribeGroups v0-6. An unknown group is reported as Dead, with GROUP_ID_NOT_FOUND from v6 (as Kafka does).
 * Errors per group: COORDINATOR_LOAD_IN_PROGRESS, GROUP_ID_NOT_FOUND.
 */
public final class DescribeGroupsHandler extends BrokerHandler<DescribeGroupsRequestData> {

    private final GroupCoordinatorService groups;

    public DescribeGroupsHandler(GroupCoordinatorService groups) {
        super(ApiKeys.DESCRIBE_GROUPS, 0, 6);
        this.groups = groups;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, DescribeGroupsRequestData request) {
        short version = context.apiVersion();
        DescribeGroupsResponseData response = new DescribeGroupsResponseData();
        List<CompletableFuture<GroupDescription>> each = new java.util.ArrayList<>();
        for (String groupId : request.groups()) {
            each.add(groups.describe(groupId));
        }
        return CompletableFuture.allOf(each.toArray(CompletableFuture[]::new)).thenApply(v -> {
            for (CompletableFuture<GroupDescription> f : each) {
                response.groups().add(described(f.join(), version));
            }
            return response;
        });
    }

    private static DescribedGroup described(GroupDescription d, short version) {
        String groupId = d.groupId();
        Errors error = d.error() == Errors.GROUP_ID_NOT_FOUND && version < 6 ? Errors.NONE : d.error();
        DescribedGroup group = new DescribedGroup().setGroupId(groupId).setErrorCode(error.code())
                .setGroupState(d.state()).setProtocolType(d.protocolType()).setProtocolData(d.protocolName());
        if (version >= 6 && error != Errors.NONE) {
            group.setErrorMessage(error.message());
        }
        for (MemberDescription m : d.members()) {
            DescribedGroupMember member = new DescribedGroupMember().setMemberId(m.memberId())
                    .setClientId(m.clientId() == null ? "" : m.clientId()).setClientHost(m.clientHost())
                    .setMemberMetadata(m.metadata()).setMemberAssignment(m.assignment());
            if (version >= 4) {
                member.setGroupInstanceId(m.groupInstanceId());
            }
            group.members().add(member);
        }
        return group;
    }
}
