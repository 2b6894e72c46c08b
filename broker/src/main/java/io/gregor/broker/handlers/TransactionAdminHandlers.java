package io.gregor.broker.handlers;

import io.gregor.broker.network.RequestContext;
import io.gregor.coordinator.transaction.TransactionCoordinatorService;
import io.gregor.coordinator.transaction.TransactionMetadata;
import io.gregor.coordinator.transaction.TransactionState;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.message.DescribeTransactionsRequestData;
import org.apache.kafka.common.message.DescribeTransactionsResponseData;
import org.apache.kafka.common.message.ListTransactionsRequestData;
import org.apache.kafka.common.message.ListTransactionsResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/** The transaction coordinator's admin APIs (what {@code kafka-transactions.sh list/describe} sends). */
final class TransactionAdminHandlers {
    private TransactionAdminHandlers() {
    }

    /**
     * DescribeTransactions v0, to each id's coordinator: the state, timeout, start, producer and partitions.
     * Errors per id: TRANSACTIONAL_ID_NOT_FOUND, NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS.
     */
    static final class Describe extends BrokerHandler<DescribeTransactionsRequestData> {
        private final TransactionCoordinatorService transactions;

        Describe(TransactionCoordinatorService transactions) {
            super(ApiKeys.DESCRIBE_TRANSACTIONS, 0, 0);
            this.transactions = transactions;
        }

        @Override
        public CompletableFuture<ApiMessage> handle(RequestContext context, DescribeTransactionsRequestData request) {
            List<CompletableFuture<DescribeTransactionsResponseData.TransactionState>> states = new ArrayList<>();
            for (String id : request.transactionalIds()) {
                states.add(transactions.describe(id).handle((m, e) -> describe(id, m, e)));
            }
            return CompletableFuture.allOf(states.toArray(CompletableFuture[]::new)).thenApply(v ->
                    new DescribeTransactionsResponseData().setTransactionStates(
                            states.stream().map(CompletableFuture::join).toList()));
        }

        private static DescribeTransactionsResponseData.TransactionState describe(String id, TransactionMetadata m,
                                                                                  Throwable e) {
            DescribeTransactionsResponseData.TransactionState state =
                    new DescribeTransactionsResponseData.TransactionState().setTransactionalId(id);
            if (e != null || m == null) {
                Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
                Errors error = e == null ? Errors.TRANSACTIONAL_ID_NOT_FOUND : Errors.forException(cause);
                return state.setErrorCode(error.code()).setTransactionState("").setProducerId(-1)
                        .setProducerEpoch((short) -1).setTransactionStartTimeMs(-1);
            }
            Map<String, List<Integer>> byTopic = new LinkedHashMap<>();
            for (TopicPartition tp : m.partitions()) {
                byTopic.computeIfAbsent(tp.topic(), t -> new ArrayList<>()).add(tp.partition());
            }
            DescribeTransactionsResponseData.TopicDataCollection topics = new DescribeTransactionsResponseData.TopicDataCollection();
            byTopic.forEach((topic, partitions) -> topics.add(new DescribeTransactionsResponseData.TopicData()
                    .setTopic(topic).setPartitions(partitions)));
            return state.setTransactionState(m.state().displayName()).setTransactionTimeoutMs(m.timeoutMs())
                    .setTransactionStartTimeMs(m.startMs()).setProducerId(m.producerId())
                    .setProducerEpoch(m.producerEpoch()).setTopics(topics);
        }
    }

    /**
     * ListTransactions v0-2, to every node: the transactional ids this node coordinates, filtered by state names
     * (Kafka's: Ongoing, PrepareCommit, ...; unknown ones are returned as such), producer ids, how long they have been
     * open (v1) and an id pattern (v2, a Java regular expression; an invalid one gets INVALID_REQUEST).
     */
    static final class Listing extends BrokerHandler<ListTransactionsRequestData> {
        private final TransactionCoordinatorService transactions;

        Listing(TransactionCoordinatorService transactions) {
            super(ApiKeys.LIST_TRANSACTIONS, 0, 2);
            this.transactions = transactions;
        }

        @Override
        public CompletableFuture<ApiMessage> handle(RequestContext context, ListTransactionsRequestData request) {
            short version = context.apiVersion();
            Set<String> known = new HashSet<>();
            for (TransactionState s : TransactionState.values()) {
                known.add(s.displayName());
            }
            List<String> unknown = request.stateFilters().stream().filter(f -> !known.contains(f)).toList();
            Set<String> states = new HashSet<>(request.stateFilters());
            Set<Long> producers = new HashSet<>(request.producerIdFilters());
            long duration = version >= 1 ? request.durationFilter() : -1;
            Pattern pattern = null;
            String regex = version >= 2 ? request.transactionalIdPattern() : null;
            if (regex != null && !regex.isEmpty()) {
                try {
                    pattern = Pattern.compile(regex);
                } catch (PatternSyntaxException e) {
                    return done(new ListTransactionsResponseData().setErrorCode(Errors.INVALID_REQUEST.code()));
                }
            }
            Pattern idPattern = pattern;
            long now = System.currentTimeMillis();
            return transactions.list().thenApply(all -> {
                List<ListTransactionsResponseData.TransactionState> out = new ArrayList<>();
                for (TransactionMetadata m : all) {
                    if (!states.isEmpty() && !states.contains(m.state().displayName())
                            || !producers.isEmpty() && !producers.contains(m.producerId())
                            || duration >= 0 && (m.startMs() < 0 || now - m.startMs() < duration)
                            || idPattern != null && !idPattern.matcher(m.transactionalId()).matches()) {
                        continue;
                    }
                    out.add(new ListTransactionsResponseData.TransactionState().setTransactionalId(m.transactionalId())
                            .setProducerId(m.producerId()).setTransactionState(m.state().displayName()));
                }
                return new ListTransactionsResponseData().setUnknownStateFilters(unknown).setTransactionStates(out);
            });
        }
    }
}
