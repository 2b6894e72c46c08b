package io.gregor.broker.handlers;

import io.gregor.broker.controller.ClusterOperations;
import io.gregor.broker.controller.ControllerChannel;
import io.gregor.broker.network.RequestContext;
import io.gregor.metadata.BrokerRegistration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.BrokerRegistrationRequestData;
import org.apache.kafka.common.message.BrokerRegistrationResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * BrokerRegistration v0-4, served by the active controller on the inter-broker listener: a node registers its
 * listeners and rack at start. Errors: NOT_CONTROLLER (ask the new controller), INCONSISTENT_CLUSTER_ID.
 */
public final class BrokerRegistrationHandler extends BrokerHandler<BrokerRegistrationRequestData> {
    private final ControllerChannel controller;
    private final ClusterOperations cluster;

    public BrokerRegistrationHandler(ControllerChannel controller, ClusterOperations cluster) {
        super(ApiKeys.BROKER_REGISTRATION, 0, 4);
        this.controller = controller;
        this.cluster = cluster;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, BrokerRegistrationRequestData request) {
        if (!controller.isActive()) {
            return done(new BrokerRegistrationResponseData().setErrorCode(Errors.NOT_CONTROLLER.code()));
        }
        cluster.heartbeatOn(request.brokerId(), context.connectionId()); // a node that dies before its first heartbeat
        List<BrokerRegistration.Endpoint> endpoints = new ArrayList<>();
        request.listeners().forEach(l -> endpoints.add(new BrokerRegistration.Endpoint(l.name(), l.host(), l.port())));
        return cluster.register(request.brokerId(), request.clusterId(), request.incarnationId(), endpoints, request.rack())
                .handle((registered, e) -> {
                    if (e != null) {
                        return new BrokerRegistrationResponseData().setErrorCode(Errors.NOT_CONTROLLER.code());
                    }
                    return new BrokerRegistrationResponseData().setErrorCode(registered.error().code())
                            .setBrokerEpoch(registered.brokerEpoch());
                });
    }
}
