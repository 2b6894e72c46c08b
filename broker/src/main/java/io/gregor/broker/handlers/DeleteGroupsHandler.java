package io.gregor.broker.handlers;

import io.gregor.coordinator.group.GroupCoordinatorService;
import io.gregor.broker.network.RequestContext;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.DeleteGroupsRequestData;
import org.apache.kafka.common.message.DeleteGroupsResponseData;
import org.apache.kafka.common.message.DeleteGroupsResponseData.DeletableGroupResult;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;

/**
 * DeleteGroups v0-2: removes empty groups and their offsets, answered once the tombstones are durable.
 * Errors per group: COORDINATOR_LOAD_IN_PROGRESS, GROUP_ID_NOT_FOUND, NON_EMPTY_GROUP, COORDINATOR_NOT_AVAILABLE.
 */
public final class DeleteGroupsHandler extends BrokerHandler<DeleteGroupsRequestData> {

    private final GroupCoordinatorService groups;

    public DeleteGroupsHandler(GroupCoordinatorService groups) {
        super(ApiKeys.DELETE_GROUPS, 0, 2);
        this.groups = groups;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, DeleteGroupsRequestData request) {
        return groups.delete(request.groupsNames()).thenApply(results -> {
            DeleteGroupsResponseData response = new DeleteGroupsResponseData();
            results.forEach((id, error) -> response.results().add(new DeletableGroupResult().setGroupId(id)
                    .setErrorCode(error.code())));
            return response;
        });
    }
}
