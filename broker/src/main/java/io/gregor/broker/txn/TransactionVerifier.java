package io.gregor.broker.txn;

import io.gregor.broker.network.NodeClient;
import io.gregor.coordinator.transaction.TransactionCoordinatorService;
import io.gregor.metadata.MetadataCache;
import io.gregor.metadata.PartitionRegistration;
import io.gregor.metadata.TopicImage;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.IntFunction;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.message.AddPartitionsToTxnRequestData;
import org.apache.kafka.common.message.AddPartitionsToTxnResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.utils.Utils;

/**
 * Asks a transactional id's coordinator whether a partition is in the producer's open transaction before a
 * transactional batch may open a transaction in it (KIP-890 part 1): the coordinator on this node directly, on
 * another node with the verify-only AddPartitionsToTxn v4. A late batch of a transaction that was aborted (a
 * producer's retry that arrives after a timeout) is so refused instead of opening a transaction nobody ends.
 */
public final class TransactionVerifier {
    private final int nodeId;
    private final MetadataCache metadata;
    private final TransactionCoordinatorService transactions;
    private final NodeClient client;
    private final IntFunction<InetSocketAddress> addressOf;

    public TransactionVerifier(int nodeId, MetadataCache metadata, TransactionCoordinatorService transactions,
                               NodeClient client, IntFunction<InetSocketAddress> addressOf) {
        this.nodeId = nodeId;
        this.metadata = metadata;
        this.transactions = transactions;
        this.client = client;
        this.addressOf = addressOf;
    }

    /**
     * NONE when {@code partition} is in the open transaction of {@code transactionalId} at this producer id and
     * epoch; INVALID_TXN_STATE, PRODUCER_FENCED or INVALID_PRODUCER_ID_MAPPING when not; a coordinator error
     * (COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR, ...) when it could not be asked. With {@code add} (transaction
     * version 2: Produce v12 and TxnOffsetCommit v5 of such producers) the coordinator adds the partition to the
     * transaction, beginning it if none is open, instead of only checking (AddPartitionsToTxn v5 with verifyOnly
     * false).
     */
    public CompletableFuture<Errors> verify(String transactionalId, long producerId, short producerEpoch,
                                            TopicPartition partition, boolean add) {
        TopicImage topic = metadata.image().topic(TransactionStateTopic.TOPIC);
        if (topic == null) {
            return CompletableFuture.completedFuture(Errors.INVALID_TXN_STATE); // no transaction was ever begun
        }
        int index = Utils.abs(transactionalId.hashCode()) % topic.partitions();
        PartitionRegistration registration = topic.registration(index);
        int leader = registration == null ? nodeId : registration.leader();
        if (leader == nodeId && add) {
            return transactions.addPartitions(transactionalId, producerId, producerEpoch, List.of(partition));
        }
        if (leader == nodeId) {
            return transactions.verifyPartitions(transactionalId, producerId, producerEpoch, List.of(partition))
                    .thenApply(errors -> errors.getOrDefault(partition, Errors.UNKNOWN_SERVER_ERROR));
        }
        InetSocketAddress address = leader < 0 ? null : addressOf.apply(leader);
        if (address == null) {
            return CompletableFuture.completedFuture(Errors.COORDINATOR_NOT_AVAILABLE);
        }
        AddPartitionsToTxnRequestData.AddPartitionsToTxnTopicCollection topics =
                new AddPartitionsToTxnRequestData.AddPartitionsToTxnTopicCollection();
        topics.add(new AddPartitionsToTxnRequestData.AddPartitionsToTxnTopic().setName(partition.topic())
                .setPartitions(List.of(partition.partition())));
        AddPartitionsToTxnRequestData.AddPartitionsToTxnTransactionCollection txns =
                new AddPartitionsToTxnRequestData.AddPartitionsToTxnTransactionCollection();
        txns.add(new AddPartitionsToTxnRequestData.AddPartitionsToTxnTransaction().setTransactionalId(transactionalId)
                .setProducerId(producerId).setProducerEpoch(producerEpoch).setVerifyOnly(!add).setTopics(topics));
        return client.send("txn-verification", address,
                new AddPartitionsToTxnRequestData().setTransactions(txns), add ? (short) 5 : (short) 4,
                Duration.ofSeconds(10)).handle((response, e) -> {
                    if (e != null) {
                        return Errors.COORDINATOR_NOT_AVAILABLE;
                    }
                    AddPartitionsToTxnResponseData data = (AddPartitionsToTxnResponseData) response;
                    if (data.errorCode() != Errors.NONE.code()) {
                        return Errors.forCode(data.errorCode());
                    }
                    var result = data.resultsByTransaction().find(transactionalId);
                    var topicResult = result == null ? null : result.topicResults().find(partition.topic());
                    var partitionResult = topicResult == null ? null
                            : topicResult.resultsByPartition().find(partition.partition());
                    return partitionResult == null ? Errors.UNKNOWN_SERVER_ERROR
                            : Errors.forCode(partitionResult.partitionErrorCode());
                });
    }
}
