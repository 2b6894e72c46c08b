package io.gregor.broker.handlers;

import io.gregor.broker.controller.ControllerChannel;
import io.gregor.broker.network.RequestContext;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.AllocateProducerIdsRequestData;
import org.apache.kafka.common.message.AllocateProducerIdsResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * AllocateProducerIds v0, served by the active controller: reserves a block of producer ids for the node that asks
 * (its InitProducerId requests then hand them out). Errors: NOT_CONTROLLER.
 */
public final class AllocateProducerIdsHandler extends BrokerHandler<AllocateProducerIdsRequestData> {
    private final ControllerChannel controller;
    private final ProducerIdManager producerIds;

    public AllocateProducerIdsHandler(ControllerChannel controller, ProducerIdManager producerIds) {
        super(ApiKeys.ALLOCATE_PRODUCER_IDS, 0, 0);
        this.controller = controller;
        this.producerIds = producerIds;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, AllocateProducerIdsRequestData request) {
        if (!controller.isActive()) {
            return done(new AllocateProducerIdsResponseData().setErrorCode(Errors.NOT_CONTROLLER.code()));
        }
        return producerIds.allocateBlock().handle((block, e) -> e != null
                ? new AllocateProducerIdsResponseData().setErrorCode(Errors.NOT_CONTROLLER.code())
                : new AllocateProducerIdsResponseData().setProducerIdStart(block[0])
                        .setProducerIdLen((int) (block[1] - block[0])));
    }
}
