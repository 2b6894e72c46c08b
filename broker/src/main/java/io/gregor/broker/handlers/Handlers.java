package io.gregor.broker.handlers;

import io.gregor.broker.config.BrokerConfig;
import io.gregor.broker.controller.BrokerConfigOperations;
import io.gregor.broker.controller.ClusterOperations;
import io.gregor.broker.controller.ControllerChannel;
import io.gregor.broker.controller.TopicOperations;
import io.gregor.broker.network.ApiVersionsHandler;
import io.gregor.broker.network.HandlerRegistry;
import io.gregor.coordinator.group.GroupCoordinatorService;
import io.gregor.metadata.MetadataCache;
import io.gregor.replication.ReplicaManager;
import java.util.function.Supplier;

/** Every API the broker serves; the ApiVersions response is derived from this list. */
public final class Handlers {
    private Handlers() {
    }

    /**
     * What the handlers are built from; each handler is given only the parts it uses.
     *
     * @param config the effective broker config (static config plus dynamic broker configs)
     */
    public record Components(Supplier<BrokerConfig> config, LocalNode node, MetadataCache metadata, TopicOperations topics,
                             BrokerConfigOperations brokerConfigs, io.gregor.broker.controller.FeatureOperations features,
                             ReplicaManager replicas, ProducerIdManager producerIds, GroupCoordinatorService groups,
                             ControllerChannel controller, ClusterOperations cluster,
                             io.gregor.broker.controller.ReassignmentOperations reassignments,
                             java.util.function.Supplier<io.gregor.raft.RaftMetadataLog.QuorumState> quorum,
                             String controllerListenerName, QuorumMembership membership,
                             FetchSessionCache fetchSessions,
                             io.gregor.coordinator.transaction.TransactionCoordinatorService transactions,
                             io.gregor.broker.txn.TransactionStateTopic transactionTopic,
                             io.gregor.broker.txn.TransactionMarkers markers,
                             io.gregor.broker.txn.TransactionVerifier verifier) {
    }

    public static HandlerRegistry registry(Components c) {
        HandlerRegistry registry = new HandlerRegistry(c.config().get().legacyProtocolEnable());
        java.util.function.IntSupplier transactionVersion = () -> io.gregor.broker.controller.FeatureOperations
                .transactionVersion(c.metadata().image(), c.config().get());
        registry.register(new ApiVersionsHandler(registry, transactionVersion,
                        () -> io.gregor.broker.controller.FeatureOperations.epoch(c.metadata().image())))
                .register(new MetadataHandler(c.config(), c.node(), c.metadata(), c.topics(), c.replicas(), c.controller()))
                .register(new ProduceHandler(c.metadata(), c.replicas(), c.verifier(),
                        () -> c.config().get().transactionPartitionVerificationEnable(), transactionVersion))
                .register(new FetchHandler(c.config(), c.metadata(), c.replicas(), c.fetchSessions()))
                .register(new ListOffsetsHandler(c.metadata(), c.replicas()))
                .register(new ForwardingHandler<>(new CreateTopicsHandler(c.config(), c.metadata(), c.topics()), c.controller()))
                .register(new InitProducerIdHandler(c.producerIds(), c.transactions()))
                .register(new TransactionHandlers.AddPartitions(c.metadata(), c.transactions()))
                .register(new TransactionHandlers.AddOffsets(c.transactions(), c.groups()))
                .register(new TransactionHandlers.End(c.transactions(), c.producerIds()::nextProducerId))
                .register(new WriteTxnMarkersHandler(c.markers()))
                .register(new TxnOffsetCommitHandler(c.metadata(), c.groups(), c.verifier(), transactionVersion))
                .register(new ForwardingHandler<>(new UpdateFeaturesHandler(c.features()), c.controller()))
                .register(new TransactionAdminHandlers.Describe(c.transactions()))
                .register(new TransactionAdminHandlers.Listing(c.transactions()))
                .register(new DescribeProducersHandler(c.metadata(), c.replicas()))
                .register(new ForwardingHandler<>(new DeleteTopicsHandler(c.topics()), c.controller()))
                .register(new ForwardingHandler<>(new CreatePartitionsHandler(c.topics()), c.controller()))
                .register(new DescribeConfigsHandler(c.config(), c.node(), c.metadata()))
                .register(new ForwardingHandler<>(new AlterConfigsHandler(c.node(), c.topics(), c.brokerConfigs()), c.controller()))
                .register(new ForwardingHandler<>(new IncrementalAlterConfigsHandler(c.node(), c.topics(), c.brokerConfigs()), c.controller()))
                .register(new DeleteRecordsHandler(c.replicas()))
                .register(new DescribeClusterHandler(c.node()))
                .register(new DescribeLogDirsHandler(c.config(), c.replicas()))
                .register(new OffsetForLeaderEpochHandler(c.replicas()))
                .register(new FindCoordinatorHandler(c.node(), c.metadata(), c.groups(), c.transactions(),
                        c.transactionTopic()))
                .register(new JoinGroupHandler(c.groups()))
                .register(new SyncGroupHandler(c.groups()))
                .register(new HeartbeatHandler(c.groups()))
                .register(new LeaveGroupHandler(c.groups()))
                .register(new OffsetCommitHandler(c.metadata(), c.groups()))
                .register(new OffsetFetchHandler(c.metadata(), c.groups()))
                .register(new ListGroupsHandler(c.groups()))
                .register(new DescribeGroupsHandler(c.groups()))
                .register(new DeleteGroupsHandler(c.groups()))
                .register(new OffsetDeleteHandler(c.groups()))
                .register(new ConsumerGroupHeartbeatHandler(c.groups()))
                .register(new ConsumerGroupDescribeHandler(c.metadata(), c.groups()))
                .register(new BrokerRegistrationHandler(c.controller(), c.cluster()))
                .register(new BrokerHeartbeatHandler(c.controller(), c.cluster()))
                .register(new AlterPartitionHandler(c.controller(), c.cluster()))
                .register(new ForwardingHandler<>(new DescribeQuorumHandler(c.quorum(), c.controllerListenerName()), c.controller()))
                .register(new ForwardingHandler<>(new RaftVoterHandlers.Add(c.membership(), () -> c.node().clusterId(),
                        c.controllerListenerName()), c.controller()))
                .register(new ForwardingHandler<>(new RaftVoterHandlers.Remove(c.membership(), () -> c.node().clusterId()),
                        c.controller()))
                .register(new AllocateProducerIdsHandler(c.controller(), c.producerIds()))
                .register(new ForwardingHandler<>(new ElectLeadersHandler(c.cluster()), c.controller()))
                .register(new ForwardingHandler<>(new AlterPartitionReassignmentsHandler(c.reassignments()), c.controller()))
                .register(new ForwardingHandler<>(new ListPartitionReassignmentsHandler(c.reassignments()), c.controller()));
        return registry;
    }
}
