package io.gregor.broker.handlers;

import io.gregor.coordinator.group.GroupCoordinatorService;
import io.gregor.broker.config.Endpoint;
import io.gregor.broker.network.RequestContext;
import io.gregor.metadata.MetadataCache;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.FindCoordinatorRequestData;
import org.apache.kafka.common.message.FindCoordinatorResponseData;
import org.apache.kafka.common.message.FindCoordinatorResponseData.Coordinator;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.FindCoordinatorRequest.CoordinatorType;

/**
 * FindCoordinator v0-6, batched keys from v4. A group's coordinator is the leader of its partition of
 * {@code __consumer_offsets} ({@code abs(groupId.hashCode()) % partitions}), a transactional id's the leader of its
 * partition of {@code __transaction_state} (created at the first such request, as Kafka does); this node answers for
 * the partitions it holds (loading or loaded). Errors: COORDINATOR_NOT_AVAILABLE for a key whose partition is not
 * here (yet) or has no leader (the client asks again), INVALID_REQUEST for an unknown key type.
 */
public final class FindCoordinatorHandler extends BrokerHandler<FindCoordinatorRequestData> {

    private static final String OFFSETS_TOPIC = "__consumer_offsets";

    private final LocalNode node;
    private final MetadataCache metadata;
    private final GroupCoordinatorService groups;
    private final io.gregor.coordinator.transaction.TransactionCoordinatorService transactions;
    private final io.gregor.broker.txn.TransactionStateTopic transactionTopic;

    public FindCoordinatorHandler(LocalNode node, MetadataCache metadata, GroupCoordinatorService groups,
                                  io.gregor.coordinator.transaction.TransactionCoordinatorService transactions,
                                  io.gregor.broker.txn.TransactionStateTopic transactionTopic) {
        super(ApiKeys.FIND_COORDINATOR, 0, 6);
        this.node = node;
        this.metadata = metadata;
        this.groups = groups;
        this.transactions = transactions;
        this.transactionTopic = transactionTopic;
    }

    /**
     * The node that coordinates the group in {@code partition} of {@code __consumer_offsets}: its leader when that is
     * another live node, this node while it holds the partition (loaded or loading), else null.
     */
    private LocalNode.BrokerAddress coordinatorOf(int partition, String listenerName) {
        return coordinatorOf(OFFSETS_TOPIC, partition, groups.isHere(partition), listenerName);
    }

    private LocalNode.BrokerAddress coordinatorOf(String topicName, int partition, boolean here, String listenerName) {
        var topic = partition < 0 ? null : metadata.image().topic(topicName);
        var registration = topic == null ? null : topic.registration(partition);
        if (registration != null && registration.leader() != node.nodeId()) {
            return registration.leader() < 0 ? null : node.broker(registration.leader(), listenerName);
        }
        if (!here) {
            return null;
        }
        Endpoint self = node.advertisedFor(listenerName);
        return new LocalNode.BrokerAddress(node.nodeId(), self.host(), self.port(), null);
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, FindCoordinatorRequestData request) {
        short version = context.apiVersion();
        List<String> keys = version >= 4 ? request.coordinatorKeys() : List.of(request.key());
        List<Coordinator> coordinators = new ArrayList<>();
        for (String key : keys) {
            Errors error = Errors.NONE;
            LocalNode.BrokerAddress coordinator = null;
            if (request.keyType() == CoordinatorType.TRANSACTION.id()) {
                if (!transactionTopic.exists()) {
                    transactionTopic.ensureCreated(); // the client asks again once it is there
                    error = Errors.COORDINATOR_NOT_AVAILABLE;
                } else {
                    int partition = transactions.partitionFor(key == null ? "" : key);
                    coordinator = coordinatorOf(io.gregor.broker.txn.TransactionStateTopic.TOPIC, partition,
                            transactions.isHere(partition), context.listenerName());
                    if (coordinator == null) {
                        error = Errors.COORDINATOR_NOT_AVAILABLE;
                    }
                }
            } else if (request.keyType() != CoordinatorType.GROUP.id()) {
                error = Errors.INVALID_REQUEST;
            } else {
                coordinator = coordinatorOf(groups.partitionFor(key == null ? "" : key), context.listenerName());
                if (coordinator == null) {
                    error = Errors.COORDINATOR_NOT_AVAILABLE;
                }
            }
            boolean ok = error == Errors.NONE;
            coordinators.add(new Coordinator().setKey(key).setErrorCode(error.code())
                    .setErrorMessage(ok ? null : error.message())
                    .setNodeId(ok ? coordinator.id() : -1).setHost(ok ? coordinator.host() : "")
                    .setPort(ok ? coordinator.port() : -1));
        }
        FindCoordinatorResponseData response = new FindCoordinatorResponseData();
        if (version >= 4) {
            return done(response.setCoordinators(coordinators));
        }
        Coordinator c = coordinators.get(0);
        response.setErrorCode(c.errorCode()).setNodeId(c.nodeId()).setHost(c.host()).setPort(c.port());
        if (version >= 1) {
            response.setErrorMessage(c.errorMessage());
        }
        return done(response);
    }
}
