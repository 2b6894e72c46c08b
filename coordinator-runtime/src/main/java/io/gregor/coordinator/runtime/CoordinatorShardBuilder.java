package io.gregor.coordinator.runtime;

/** Makes an empty shard for a partition; the runtime then replays the partition into it. */
@FunctionalInterface
public interface CoordinatorShardBuilder<S extends CoordinatorShard<R>, R> {

    S build(int partition, CoordinatorTimer<R> timer, CoordinatorTime time);
}
