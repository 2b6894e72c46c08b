package io.gregor.replication;

import org.apache.kafka.common.protocol.Errors;

/**
 * What a fetch read of one partition found.
 *
 * @param partition the partition, null when it does not exist here
 * @param records whole batches from the fetch offset, or null when there are none (or on an error)
 */
public record FetchPartitionData(Partition partition, Errors error, long highWatermark, long lastStableOffset,
                                 long logStartOffset, FileSliceRecords records) {

    static FetchPartitionData error(Errors error) {
        return new FetchPartitionData(null, error, -1, -1, -1, null);
    }
}
