package io.gregor.coordinator.transaction;

import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.common.TopicPartition;

/**
 * What the coordinator knows of one transactional id: its producer id and epoch, its timeout, its state and the
 * partitions of its open (or being decided) transaction. Immutable: a change is a new value, written as a record and
 * then replayed.
 *
 * @param startMs when the open transaction began (its first AddPartitionsToTxn), -1 when none is open
 * @param updateMs when the record was last changed
 */
public record TransactionMetadata(String transactionalId, long producerId, short producerEpoch, int timeoutMs,
                                  TransactionState state, Set<TopicPartition> partitions, long startMs,
                                  long updateMs) {

    public TransactionMetadata {
        TreeSet<TopicPartition> sorted = new TreeSet<>(TransactionMetadata::compare);
        sorted.addAll(partitions);
        partitions = java.util.Collections.unmodifiableSet(sorted);
    }

    static int compare(TopicPartition a, TopicPartition b) {
        int byTopic = a.topic().compareTo(b.topic());
        return byTopic != 0 ? byTopic : Integer.compare(a.partition(), b.partition());
    }

    TransactionMetadata with(short epoch, TransactionState newState, Set<TopicPartition> newPartitions, long start,
                             long now) {
        return new TransactionMetadata(transactionalId, producerId, epoch, timeoutMs, newState, newPartitions, start, now);
    }
}
