package io.gregor.storage;

/**
 * What a partition knows of one producer (DescribeProducers).
 *
 * @param lastSequence the sequence number of its last batch here, -1 when none
 * @param lastTimestamp the timestamp of its last batch here
 * @param currentTxnStartOffset the first offset of its open transaction here, -1 when none is open
 * @param coordinatorEpoch the coordinator epoch of its last transaction marker here, -1 when none
 */
public record ActiveProducer(long producerId, short producerEpoch, int lastSequence, long lastTimestamp,
                             long currentTxnStartOffset, int coordinatorEpoch) {
}
