package io.gregor.broker.handlers;

import io.gregor.broker.controller.ControllerChannel;
import io.gregor.broker.network.ApiHandler;
import io.gregor.broker.network.RequestContext;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;

/**
 * A metadata-changing request (CreateTopics, DeleteTopics, CreatePartitions, AlterConfigs, IncrementalAlterConfigs,
 * ElectLeaders, AlterPartitionReassignments, and ListPartitionReassignments to read the controller's view)
 * handled where the metadata can change: on the active controller by {@code delegate}, on any other node by sending
 * the same request, at the same version, to the active controller and relaying its answer (as Kafka brokers forward
 * such requests). A client may send them to any node.
 */
final class ForwardingHandler<Q extends ApiMessage> implements ApiHandler<Q> {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private final ApiHandler<Q> delegate;
    private final ControllerChannel controller;

    ForwardingHandler(ApiHandler<Q> delegate, ControllerChannel controller) {
        this.delegate = delegate;
        this.controller = controller;
    }

    @Override
    public ApiKeys apiKey() {
        return delegate.apiKey();
    }

    @Override
    public short minVersion() {
        return delegate.minVersion();
    }

    @Override
    public short maxVersion() {
        return delegate.maxVersion();
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, Q request) {
        if (controller.isActive()) {
            return delegate.handle(context, request);
        }
        // Handled here after all if this node became the active controller while the request was on its way.
        return controller.send(request, context.apiVersion(), TIMEOUT, response -> false).exceptionallyCompose(e ->
                ControllerChannel.isThisNode(e) ? delegate.handle(context, request) : CompletableFuture.failedFuture(e));
    }
}
