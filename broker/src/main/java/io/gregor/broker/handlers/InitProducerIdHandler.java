package io.gregor.broker.handlers;

import io.gregor.broker.network.RequestContext;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.InitProducerIdRequestData;
import org.apache.kafka.common.message.InitProducerIdResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * InitProducerId v0-5 for idempotent producers: a fresh producer id with epoch 0, or, when a producer re-initialises
 * with its id and epoch (KIP-360), the same id with the next epoch. Transactional ids are refused until the
 * transaction coordinator exists.
 *
 * <p>Errors: COORDINATOR_NOT_AVAILABLE for transactional ids, INVALID_REQUEST for an empty one, UNKNOWN_SERVER_ERROR when
 * no id block could be reserved.
 */
public final class InitProducerIdHandler extends BrokerHandler<InitProducerIdRequestData> {

    private final ProducerIdManager producerIds;

    public InitProducerIdHandler(ProducerIdManager producerIds) {
        super(ApiKeys.INIT_PRODUCER_ID, 0, 5);
        this.producerIds = producerIds;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, InitProducerIdRequestData request) {
        if (request.transactionalId() != null && request.transactionalId().isEmpty()) {
            // As Kafka: an empty transactional id is neither a transactional nor an idempotent producer.
            return CompletableFuture.completedFuture(new InitProducerIdResponseData()
                    .setErrorCode(Errors.INVALID_REQUEST.code()).setProducerId(-1).setProducerEpoch((short) -1));
        }
        if (request.transactionalId() != null) {
            return CompletableFuture.completedFuture(new InitProducerIdResponseData()
                    .setErrorCode(Errors.COORDINATOR_NOT_AVAILABLE.code()).setProducerId(-1).setProducerEpoch((short) -1));
        }
        if (request.producerId() >= 0 && request.producerEpoch() >= 0 && request.producerEpoch() < Short.MAX_VALUE - 1) {
            return CompletableFuture.completedFuture(new InitProducerIdResponseData()
                    .setProducerId(request.producerId()).setProducerEpoch((short) (request.producerEpoch() + 1)));
        }
        return producerIds.nextProducerId().handle((id, error) -> error != null
                ? new InitProducerIdResponseData().setErrorCode(Errors.UNKNOWN_SERVER_ERROR.code())
                        .setProducerId(-1).setProducerEpoch((short) -1)
                : new InitProducerIdResponseData().setProducerId(id).setProducerEpoch((short) 0));
    }
}
