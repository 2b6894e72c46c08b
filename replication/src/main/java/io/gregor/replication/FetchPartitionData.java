package io.gregor.replication;

import org.apache.kafka.common.message.FetchResponseData.AbortedTransaction;
import java.util.List;
import org.apache.kafka.common.protocol.Errors;

/**
 * What a fetch read of one partition found.
 *
 * @param partition the partition, null when it does not exist here
 * @param records whole batches from the fetch offset, or null when there are none (or on an error)
 * @param abortedTransactions for a read_committed read, the aborted transactions the records may hold records of;
 *     null for read_uncommitted
 */
public record FetchPartitionData(Partition partition, Errors error, long highWatermark, long lastStableOffset,
                                 long logStartOffset, FileSliceRecords records,
                                 List<AbortedTransaction> abortedTransactions) {

    public FetchPartitionData(Partition partition, Errors error, long highWatermark, long lastStableOffset,
                              long logStartOffset, FileSliceRecords records) {
        this(partition, error, highWatermark, lastStableOffset, logStartOffset, records, null);
    }

    static FetchPartitionData error(Errors error) {
        return new FetchPartitionData(null, error, -1, -1, -1, null);
    }
}
