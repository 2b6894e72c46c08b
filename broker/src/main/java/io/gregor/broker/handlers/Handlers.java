package io.gregor.broker.handlers;

import io.gregor.broker.network.ApiVersionsHandler;
import io.gregor.broker.network.HandlerRegistry;

/** Every API the broker serves; the ApiVersions response is derived from this list. */
public final class Handlers {
    private Handlers() {
    }

    public static HandlerRegistry registry(BrokerServices services) {
        HandlerRegistry registry = new HandlerRegistry(services.config().get().legacyProtocolEnable());
        registry.register(new ApiVersionsHandler(registry))
                .register(new MetadataHandler(services))
                .register(new ProduceHandler(services))
                .register(new FetchHandler(services))
                .register(new ListOffsetsHandler(services))
                .register(new CreateTopicsHandler(services))
                .register(new InitProducerIdHandler(services))
                .register(new DeleteTopicsHandler(services))
                .register(new CreatePartitionsHandler(services))
                .register(new DescribeConfigsHandler(services))
                .register(new AlterConfigsHandler(services))
                .register(new IncrementalAlterConfigsHandler(services))
                .register(new DeleteRecordsHandler(services))
                .register(new DescribeClusterHandler(services))
                .register(new DescribeLogDirsHandler(services))
                .register(new OffsetForLeaderEpochHandler(services))
                .register(new FindCoordinatorHandler(services))
                .register(new JoinGroupHandler(services))
                .register(new SyncGroupHandler(services))
                .register(new HeartbeatHandler(services))
                .register(new LeaveGroupHandler(services))
                .register(new OffsetCommitHandler(services))
                .register(new OffsetFetchHandler(services))
                .register(new ListGroupsHandler(services))
                .register(new DescribeGroupsHandler(services))
                .register(new DeleteGroupsHandler(services))
                .register(new OffsetDeleteHandler(services))
                .register(new ConsumerGroupHeartbeatHandler(services))
                .register(new ConsumerGroupDescribeHandler(services));
        return registry;
    }
}
