package io.gregor.broker.handlers;

import io.gregor.broker.controller.ClusterOperations;
import io.gregor.broker.controller.ControllerChannel;
import io.gregor.broker.network.RequestContext;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.BrokerHeartbeatRequestData;
import org.apache.kafka.common.message.BrokerHeartbeatResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * BrokerHeartbeat v0-1, served by the active controller: keeps a node's session, unfences it, or starts its
 * controlled shutdown. Errors: NOT_CONTROLLER, STALE_BROKER_EPOCH (register again).
 */
public final class BrokerHeartbeatHandler extends BrokerHandler<BrokerHeartbeatRequestData> {
    private final ControllerChannel controller;
    private final ClusterOperations cluster;

    public BrokerHeartbeatHandler(ControllerChannel controller, ClusterOperations cluster) {
        super(ApiKeys.BROKER_HEARTBEAT, 0, 1);
        this.controller = controller;
        this.cluster = cluster;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, BrokerHeartbeatRequestData request) {
        if (!controller.isActive()) {
            return done(new BrokerHeartbeatResponseData().setErrorCode(Errors.NOT_CONTROLLER.code()));
        }
        cluster.heartbeatOn(request.brokerId(), context.connectionId());
        return cluster.heartbeat(request.brokerId(), request.brokerEpoch(), request.wantShutDown()).handle((beat, e) ->
                e != null ? new BrokerHeartbeatResponseData().setErrorCode(Errors.NOT_CONTROLLER.code())
                        : new BrokerHeartbeatResponseData().setErrorCode(beat.error().code()).setIsCaughtUp(true)
                                .setIsFenced(beat.fenced()).setShouldShutDown(beat.shouldShutDown()));
    }
}
