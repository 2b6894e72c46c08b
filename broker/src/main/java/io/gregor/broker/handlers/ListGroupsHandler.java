package io.gregor.broker.handlers;

import io.gregor.broker.group.GroupCoordinator.GroupListing;
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

    public ListGroupsHandler(BrokerServices services) {
        super(services, ApiKeys.LIST_GROUPS, 0, 5);
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, ListGroupsRequestData request) {
        short version = context.apiVersion();
        ListGroupsResponseData response = new ListGroupsResponseData();
        if (!services.groups().isLoaded()) {
            return done(response.setErrorCode(Errors.COORDINATOR_LOAD_IN_PROGRESS.code()));
        }
        List<GroupListing> groups = services.groups().list(version >= 4 ? request.statesFilter() : List.of(),
                version >= 5 ? request.typesFilter() : List.of());
        for (GroupListing g : groups) {
            ListedGroup listed = new ListedGroup().setGroupId(g.groupId()).setProtocolType(g.protocolType());
            if (version >= 4) {
                listed.setGroupState(g.state());
            }
            if (version >= 5) {
                listed.setGroupType(g.type());
            }
            response.groups().add(listed);
        }
        return done(response);
    }
}
