package io.gregor.broker.handlers;

import io.gregor.broker.network.RequestContext;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.InitProducerIdRequestData;
import org.apache.kafka.common.message.InitProducerIdResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * InitProducerId v0-5. For idempotent producers: a fresh producer id with epoch 0, or, when a producer re-initialises
 * with its id and epoch (KIP-360), the same id with the next epoch. With a transactional id, the transaction
 * coordinator of that id answers (this node must coordinate it: NOT_COORDINATOR otherwise): the id's producer id with
 * a bumped epoch, fencing the previous producer.
 *
 * <p>Errors: INVALID_REQUEST for an empty transactional id, UNKNOWN_SERVER_ERROR when no id block could be reserved,
 * and the coordinator's (NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS, CONCURRENT_TRANSACTIONS,
 * INVALID_TRANSACTION_TIMEOUT, PRODUCER_FENCED, which v0-3 clients get as INVALID_PRODUCER_EPOCH).
 */
public final class InitProducerIdHandler extends BrokerHandler<InitProducerIdRequestData> {

    private final ProducerIdManager producerIds;
    private final io.gregor.coordinator.transaction.TransactionCoordinatorService transactions;

    public InitProducerIdHandler(ProducerIdManager producerIds,
                                 io.gregor.coordinator.transaction.TransactionCoordinatorService transactions) {
        super(ApiKeys.INIT_PRODUCER_ID, 0, 5);
        this.producerIds = producerIds;
        this.transactions = transactions;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, InitProducerIdRequestData request) {
        if (request.transactionalId() != null && request.transactionalId().isEmpty()) {
            // As Kafka: an empty transactional id is neither a transactional nor an idempotent producer.
            return CompletableFuture.completedFuture(new InitProducerIdResponseData()
                    .setErrorCode(Errors.INVALID_REQUEST.code()).setProducerId(-1).setProducerEpoch((short) -1));
        }
        if (request.transactionalId() != null) {
            short version = context.apiVersion();
            return transactions.initProducerId(request.transactionalId(), request.transactionTimeoutMs(),
                    version >= 3 ? request.producerId() : -1, version >= 3 ? request.producerEpoch() : -1,
                    producerIds::nextProducerId).thenApply(result -> {
                        Errors error = result.error() == Errors.PRODUCER_FENCED && version < 4
                                ? Errors.INVALID_PRODUCER_EPOCH : result.error();
                        return new InitProducerIdResponseData().setErrorCode(error.code())
                                .setProducerId(result.producerId()).setProducerEpoch(result.producerEpoch());
                    });
        }
        // An idempotent producer always gets a new producer id, as from Kafka: a claimed one (KIP-360: a producer whose
        // epoch is exhausted, or that lost its state) is not taken on trust, so nobody can bump and fence an id that
        // is not theirs.
        return producerIds.nextProducerId().handle((id, error) -> error != null
                ? new InitProducerIdResponseData().setErrorCode(Errors.UNKNOWN_SERVER_ERROR.code())
                        .setProducerId(-1).setProducerEpoch((short) -1)
                : new InitProducerIdResponseData().setProducerId(id).setProducerEpoch((short) 0));
    }
}
