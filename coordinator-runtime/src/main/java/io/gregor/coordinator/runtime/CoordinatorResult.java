package io.gregor.coordinator.runtime;

import java.util.List;

/**
 * What a write operation returns: the records to append and the response to give once they are durable.
 *
 * @param records the records, appended together in this order; none for an operation that changes nothing
 * @param response the response; given only after the records are committed
 * @param afterCommit runs on the shard's queue once the records are committed (null for nothing): work that must not
 *     be seen before then, such as answering requests parked by earlier operations. It does not run when the append
 *     fails: the shard is then rebuilt from its log and {@link CoordinatorShard#onUnloaded} answers what was parked.
 */
public record CoordinatorResult<R, T>(List<R> records, T response, Runnable afterCommit) {

    public CoordinatorResult {
        records = List.copyOf(records);
    }

    public static <R, T> CoordinatorResult<R, T> of(List<R> records, T response) {
        return new CoordinatorResult<>(records, response, null);
    }

    /** No records: the response goes out once every record written before it is committed. */
    public static <R, T> CoordinatorResult<R, T> response(T response) {
        return new CoordinatorResult<>(List.of(), response, null);
    }
}
