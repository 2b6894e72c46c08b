package io.gregor.broker.handlers;

import io.gregor.coordinator.group.GroupCoordinatorService;
import io.gregor.coordinator.group.ClassicGroupManager.GroupListing;
import io.gregor.broker.network.RequestContext;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.ListGroupsRequestData;
import org.apache.kafka.common.message.ListGroupsResponseData;
import org.apache.kafka.common.message.ListGroupsResponseData.ListedGroup;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/** ListGroups v0-5, with state (v4) and type (v5) filters; groups of both protocols. Errors: COORDINATOR_LOAD_IN_PROGRESS. */
public final class ListGroupsHandler extends BrokerHandler<ListGroupsRequestData> {

    private final GroupCoordinatorService groups;

    public ListGroupsHandler(GroupCoordinatorService groups) {
        super(ApiKeys.LIST_GROUPS, 0, 5);
        this.groups = groups;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, ListGroupsRequestData request) {
        short version = context.apiVersion();
        ListGroupsResponseData response = new ListGroupsResponseData();
        return groups.list(version >= 4 ? request.statesFilter() : List.of(),
                version >= 5 ? request.typesFilter() : List.of()).thenApply(result -> {
                    if (result.error() != Errors.NONE) {
                        return response.setErrorCode(result.error().code());
                    }
                    for (GroupListing g : result.groups()) {
                        response.groups().add(listed(g, version));
                    }
                    return response;
                });
    }

    private static ListedGroup listed(GroupListing g, short version) {
        ListedGroup listed = new ListedGroup().setGroupId(g.groupId()).setProtocolType(g.protocolType());
        if (version >= 4) {
            listed.setGroupState(g.state());
        }
        if (version >= 5) {
            listed.setGroupType(g.type());
        }
        return listed;
    }
}
