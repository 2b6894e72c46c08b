package io.gregor.broker.handlers;

import io.gregor.broker.network.RequestContext;
import io.gregor.coordinator.group.GroupCoordinatorService;
import io.gregor.coordinator.transaction.TransactionCoordinatorService;
import io.gregor.metadata.MetadataCache;
import io.gregor.metadata.TopicImage;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.message.AddOffsetsToTxnRequestData;
import org.apache.kafka.common.message.AddOffsetsToTxnResponseData;
import org.apache.kafka.common.message.AddPartitionsToTxnRequestData;
import org.apache.kafka.common.message.AddPartitionsToTxnResponseData;
import org.apache.kafka.common.message.EndTxnRequestData;
import org.apache.kafka.common.message.EndTxnResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * The producer's transaction requests to its transaction coordinator (transaction version 1): AddPartitionsToTxn
 * v0-3, AddOffsetsToTxn v0-4, EndTxn v0-5. Clients older than PRODUCER_FENCED (v0-1 of each) get
 * INVALID_PRODUCER_EPOCH in its place, as Kafka answers them.
 */
final class TransactionHandlers {
    private TransactionHandlers() {
    }

    static Errors forVersion(Errors error, short version) {
        return error == Errors.PRODUCER_FENCED && version < 2 ? Errors.INVALID_PRODUCER_EPOCH : error;
    }

    /**
     * AddPartitionsToTxn v0-5. v0-3 (producers): every partition must exist, else it gets UNKNOWN_TOPIC_OR_PARTITION
     * and the others OPERATION_NOT_ATTEMPTED; then all are added or none, with one error. v4-5 (brokers, batched by
     * transaction): a verify-only transaction is answered per partition with whether it is in the producer's open
     * transaction (KIP-890 part 1); one that is not verify-only is added as in v3.
     */
    static final class AddPartitions extends BrokerHandler<AddPartitionsToTxnRequestData> {
        private final MetadataCache metadata;
        private final TransactionCoordinatorService transactions;

        AddPartitions(MetadataCache metadata, TransactionCoordinatorService transactions) {
            super(ApiKeys.ADD_PARTITIONS_TO_TXN, 0, 5);
            this.metadata = metadata;
            this.transactions = transactions;
        }

        @Override
        public CompletableFuture<ApiMessage> handle(RequestContext context, AddPartitionsToTxnRequestData request) {
            if (context.apiVersion() >= 4) {
                return batched(request);
            }
            List<TopicPartition> partitions = new ArrayList<>();
            List<TopicPartition> unknown = new ArrayList<>();
            for (AddPartitionsToTxnRequestData.AddPartitionsToTxnTopic topic : request.v3AndBelowTopics()) {
                TopicImage image = metadata.image().topic(topic.name());
                for (int p : topic.partitions()) {
                    TopicPartition tp = new TopicPartition(topic.name(), p);
                    partitions.add(tp);
                    if (image == null || p < 0 || p >= image.partitions()) {
                        unknown.add(tp);
                    }
                }
            }
            short version = context.apiVersion();
            if (!unknown.isEmpty()) {
                return done(response(partitions, tp -> unknown.contains(tp) ? Errors.UNKNOWN_TOPIC_OR_PARTITION
                        : Errors.OPERATION_NOT_ATTEMPTED));
            }
            return transactions.addPartitions(request.v3AndBelowTransactionalId(), request.v3AndBelowProducerId(),
                            request.v3AndBelowProducerEpoch(), partitions)
                    .thenApply(error -> response(partitions, tp -> forVersion(error, version)));
        }

        private CompletableFuture<ApiMessage> batched(AddPartitionsToTxnRequestData request) {
            List<CompletableFuture<AddPartitionsToTxnResponseData.AddPartitionsToTxnResult>> results = new ArrayList<>();
            for (AddPartitionsToTxnRequestData.AddPartitionsToTxnTransaction txn : request.transactions()) {
                List<TopicPartition> partitions = new ArrayList<>();
                for (AddPartitionsToTxnRequestData.AddPartitionsToTxnTopic topic : txn.topics()) {
                    for (int p : topic.partitions()) {
                        partitions.add(new TopicPartition(topic.name(), p));
                    }
                }
                CompletableFuture<java.util.Map<TopicPartition, Errors>> errors = txn.verifyOnly()
                        ? transactions.verifyPartitions(txn.transactionalId(), txn.producerId(), txn.producerEpoch(),
                                partitions)
                        : transactions.addPartitions(txn.transactionalId(), txn.producerId(), txn.producerEpoch(),
                                partitions).thenApply(error -> {
                                    java.util.Map<TopicPartition, Errors> all = new java.util.LinkedHashMap<>();
                                    partitions.forEach(tp -> all.put(tp, error));
                                    return all;
                                });
                results.add(errors.thenApply(byPartition -> new AddPartitionsToTxnResponseData.AddPartitionsToTxnResult()
                        .setTransactionalId(txn.transactionalId())
                        .setTopicResults(response(partitions, byPartition::get).resultsByTopicV3AndBelow())));
            }
            return CompletableFuture.allOf(results.toArray(CompletableFuture[]::new)).thenApply(v -> {
                AddPartitionsToTxnResponseData.AddPartitionsToTxnResultCollection all =
                        new AddPartitionsToTxnResponseData.AddPartitionsToTxnResultCollection();
                results.forEach(r -> all.add(r.join()));
                return new AddPartitionsToTxnResponseData().setResultsByTransaction(all);
            });
        }

        private static AddPartitionsToTxnResponseData response(List<TopicPartition> partitions,
                                                               java.util.function.Function<TopicPartition, Errors> error) {
            AddPartitionsToTxnResponseData.AddPartitionsToTxnTopicResultCollection topics =
                    new AddPartitionsToTxnResponseData.AddPartitionsToTxnTopicResultCollection();
            for (TopicPartition tp : partitions) {
                AddPartitionsToTxnResponseData.AddPartitionsToTxnTopicResult topic = topics.find(tp.topic());
                if (topic == null) {
                    topic = new AddPartitionsToTxnResponseData.AddPartitionsToTxnTopicResult().setName(tp.topic());
                    topics.add(topic);
                }
                topic.resultsByPartition().add(new AddPartitionsToTxnResponseData.AddPartitionsToTxnPartitionResult()
                        .setPartitionIndex(tp.partition()).setPartitionErrorCode(error.apply(tp).code()));
            }
            return new AddPartitionsToTxnResponseData().setResultsByTopicV3AndBelow(topics);
        }
    }

    /** AddOffsetsToTxn v0-4: adds the group's partition of __consumer_offsets to the transaction. */
    static final class AddOffsets extends BrokerHandler<AddOffsetsToTxnRequestData> {
        private final TransactionCoordinatorService transactions;
        private final GroupCoordinatorService groups;

        AddOffsets(TransactionCoordinatorService transactions, GroupCoordinatorService groups) {
            super(ApiKeys.ADD_OFFSETS_TO_TXN, 0, 4);
            this.transactions = transactions;
            this.groups = groups;
        }

        @Override
        public CompletableFuture<ApiMessage> handle(RequestContext context, AddOffsetsToTxnRequestData request) {
            int partition = groups.partitionFor(request.groupId() == null ? "" : request.groupId());
            if (partition < 0) {
                return done(new AddOffsetsToTxnResponseData().setErrorCode(Errors.COORDINATOR_LOAD_IN_PROGRESS.code()));
            }
            short version = context.apiVersion();
            return transactions.addPartitions(request.transactionalId(), request.producerId(), request.producerEpoch(),
                            List.of(new TopicPartition(GroupCoordinatorService.TOPIC, partition)))
                    .thenApply(error -> new AddOffsetsToTxnResponseData().setErrorCode(forVersion(error, version).code()));
        }
    }

    /**
     * EndTxn v0-5: commits or aborts; answered once the decision is durable (markers follow). Version 5 is transaction
     * version 2 (KIP-890 part 2): the decision bumps the epoch and the answer carries the producer id and epoch to go
     * on with.
     */
    static final class End extends BrokerHandler<EndTxnRequestData> {
        private final TransactionCoordinatorService transactions;
        private final java.util.function.Supplier<CompletableFuture<Long>> newProducerId;

        End(TransactionCoordinatorService transactions, java.util.function.Supplier<CompletableFuture<Long>> newProducerId) {
            super(ApiKeys.END_TXN, 0, 5);
            this.transactions = transactions;
            this.newProducerId = newProducerId;
        }

        @Override
        public CompletableFuture<ApiMessage> handle(RequestContext context, EndTxnRequestData request) {
            short version = context.apiVersion();
            if (version >= 5) {
                return transactions.endTransactionV2(request.transactionalId(), request.producerId(),
                                request.producerEpoch(), request.committed(), newProducerId)
                        .thenApply(result -> new EndTxnResponseData().setErrorCode(result.error().code())
                                .setProducerId(result.producerId()).setProducerEpoch(result.producerEpoch()));
            }
            return transactions.endTransaction(request.transactionalId(), request.producerId(), request.producerEpoch(),
                            request.committed())
                    .thenApply(error -> new EndTxnResponseData().setErrorCode(forVersion(error, version).code()));
        }
    }
}
