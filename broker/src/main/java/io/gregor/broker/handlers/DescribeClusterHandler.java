package io.gregor.broker.handlers;

import io.gregor.broker.network.RequestContext;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.DescribeClusterRequestData;
import org.apache.kafka.common.message.DescribeClusterResponseData;
import org.apache.kafka.common.message.DescribeClusterResponseData.DescribeClusterBroker;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * DescribeCluster v0-2: this node, at its advertised endpoint for the request's listener, is the only broker and
 * the controller. Fenced brokers (v2) never exist on a single node.
 *
 * <p>Errors: MISMATCHED_ENDPOINT_TYPE (v1+: the controller endpoint type was asked of a broker listener),
 * UNSUPPORTED_ENDPOINT_TYPE (v1+: an endpoint type Kafka does not define).
 */
public final class DescribeClusterHandler extends BrokerHandler<DescribeClusterRequestData> {
    static final byte BROKER_ENDPOINT = 1;
    static final byte CONTROLLER_ENDPOINT = 2;

    private final LocalNode node;

    public DescribeClusterHandler(LocalNode node) {
        super(ApiKeys.DESCRIBE_CLUSTER, 0, 2);
        this.node = node;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, DescribeClusterRequestData request) {
        DescribeClusterResponseData response = new DescribeClusterResponseData().setClusterId(node.clusterId());
        byte endpointType = context.apiVersion() >= 1 ? request.endpointType() : BROKER_ENDPOINT;
        if (endpointType == CONTROLLER_ENDPOINT) {
            return CompletableFuture.completedFuture(response.setErrorCode(Errors.MISMATCHED_ENDPOINT_TYPE.code())
                    .setErrorMessage("The request was sent to a broker endpoint, but asked for controllers."));
        }
        if (endpointType != BROKER_ENDPOINT) {
            return CompletableFuture.completedFuture(response.setErrorCode(Errors.UNSUPPORTED_ENDPOINT_TYPE.code())
                    .setErrorMessage("Unknown endpoint type " + endpointType + "."));
        }
        response.setControllerId(node.controllerId());
        for (LocalNode.BrokerAddress b : node.liveBrokers(context.listenerName())) {
            response.brokers().add(new DescribeClusterBroker().setBrokerId(b.id()).setHost(b.host()).setPort(b.port())
                    .setRack(b.rack()));
        }
        if (context.apiVersion() >= 2 && request.includeFencedBrokers()) {
            for (LocalNode.BrokerAddress b : node.fencedBrokers(context.listenerName())) {
                response.brokers().add(new DescribeClusterBroker().setBrokerId(b.id()).setHost(b.host()).setPort(b.port())
                        .setRack(b.rack()).setIsFenced(true));
            }
        }
        return CompletableFuture.completedFuture(response);
    }
}
