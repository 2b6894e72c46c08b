package io.gregor.coordinator.transaction;

import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.common.TopicPartition;

/**
 * What the coordinator knows of one transactional id: its producer id and epoch, its timeout, its state and the
 * partitions of its open (or being decided) transaction. Immutable: a change is a new value, written as a record and
 * then replayed.
 *
 * @param startMs                  when the open transaction began (its first AddPartitionsToTxn), -1 when none is open
 * @param updateMs                 when the record was last changed
 * @param prevProducerId           the producer id before the last one, when transaction version 2 moved to a new one
 *                                 because the epoch was exhausted (a retried EndTxn of the old one is recognised); -1
 * @param nextProducerId           while a transaction version 2 decision that exhausts the epoch is written: the
 *                                 producer id the id moves to when it completes; -1
 * @param clientTransactionVersion the transaction version of the current or last transaction: 2 when its EndTxn was
 *                                 version 5 or later (the epoch is bumped at every end, KIP-890 part 2), else 0
 */
public record TransactionMetadata(String transactionalId, long producerId, short producerEpoch, int timeoutMs,
                                  TransactionState state, Set<TopicPartition> partitions, long startMs,
                                  long updateMs, long prevProducerId, long nextProducerId,
                                  short clientTransactionVersion) {

    public TransactionMetadata {
        TreeSet<TopicPartition> sorted = new TreeSet<>(TransactionMetadata::compare);
        sorted.addAll(partitions);
        partitions = java.util.Collections.unmodifiableSet(sorted);
    }

    public TransactionMetadata(String transactionalId, long producerId, short producerEpoch, int timeoutMs,
                               TransactionState state, Set<TopicPartition> partitions, long startMs, long updateMs) {
        this(transactionalId, producerId, producerEpoch, timeoutMs, state, partitions, startMs, updateMs, -1, -1,
                (short) 0);
    }

    static int compare(TopicPartition a, TopicPartition b) {
        int byTopic = a.topic().compareTo(b.topic());
        return byTopic != 0 ? byTopic : Integer.compare(a.partition(), b.partition());
    }

    TransactionMetadata with(short epoch, TransactionState newState, Set<TopicPartition> newPartitions, long start,
                             long now) {
        return new TransactionMetadata(transactionalId, producerId, epoch, timeoutMs, newState, newPartitions, start, now,
                prevProducerId, nextProducerId, clientTransactionVersion);
    }

    /** The same with other producer ids and transaction version. */
    TransactionMetadata withIds(long newProducerId, long prev, long next, short version) {
        return new TransactionMetadata(transactionalId, newProducerId, producerEpoch, timeoutMs, state, partitions,
                startMs, updateMs, prev, next, version);
    }

    /** Whether the current or last transaction is of transaction version 2. */
    boolean bumpsEpochAtEnd() {
        return clientTransactionVersion >= 2;
    }
}
