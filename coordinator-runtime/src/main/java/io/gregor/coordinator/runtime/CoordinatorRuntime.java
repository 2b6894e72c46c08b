package io.gregor.coordinator.runtime;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.kafka.common.errors.CoordinatorLoadInProgressException;
import org.apache.kafka.common.errors.CoordinatorNotAvailableException;
import org.apache.kafka.common.errors.KafkaStorageException;
import org.apache.kafka.common.errors.NotCoordinatorException;
import org.apache.kafka.common.errors.NotLeaderOrFollowerException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a coordinator as shards, one per partition of its internal topic (Kafka's {@code coordinator-common} shape).
 *
 * <p>Every shard has a queue: its operations, timers, loading and unloading run there one at a time. A write operation
 * reads the shard and returns records and a response; the runtime appends the records to the shard's partition,
 * replays them into the shard (the only way its state changes), and gives the response only once the records are
 * committed (durable). Records of later operations may be appended before earlier ones are committed, so concurrent
 * operations share an fsync; a read operation answers once everything written before it is committed. When an
 * append fails, the operation fails with the coordinator error Kafka gives (NOT_COORDINATOR when the partition moved
 * or its storage failed, COORDINATOR_NOT_AVAILABLE otherwise) and the shard is rebuilt from its partition, so it
 * holds exactly what the log holds.
 *
 * <p>Loading a shard replays its partition; meanwhile operations get COORDINATOR_LOAD_IN_PROGRESS, and operations
 * for a partition this runtime does not hold get NOT_COORDINATOR. Loads and unloads carry the partition's leader
 * epoch, so a late unload of an older epoch does not drop a newer shard. Thread-safe.
 *
 * @param <S> the shard type
 * @param <R> the record type
 */
public final class CoordinatorRuntime<S extends CoordinatorShard<R>, R> implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(CoordinatorRuntime.class);

    private final String name;
    private final CoordinatorShardBuilder<S, R> builder;
    private final CoordinatorLog<R> partitionLog;
    private final CoordinatorTime time;
    private final Executor pool;
    private final Map<Integer, Shard> shards = new ConcurrentHashMap<>();
    private volatile boolean closed;

    /**
     * @param name names the coordinator in logs ("group", "transaction")
     * @param pool runs the shards' queues (shared; shards never block it on durability)
     */
    public CoordinatorRuntime(String name, CoordinatorShardBuilder<S, R> builder, CoordinatorLog<R> partitionLog,
                              CoordinatorTime time, Executor pool) {
        this.name = name;
        this.builder = builder;
        this.partitionLog = partitionLog;
        this.time = time;
        this.pool = pool;
    }

    /** The state of a shard, as operations see it. */
    public enum ShardState {
        LOADING, ACTIVE, CLOSED
    }

    /**
     * Starts loading the shard of {@code partition} at leader epoch {@code epoch}, replacing an older one; the future
     * completes with the number of records replayed when it is active (or fails when its partition could not be read).
     */
    public CompletableFuture<Long> scheduleLoad(int partition, int epoch) {
        Shard shard;
        Shard previous;
        synchronized (shards) {
            if (closed) {
                return CompletableFuture.failedFuture(new NotCoordinatorException(name + " coordinator is closed"));
            }
            previous = shards.get(partition);
            if (previous != null && previous.epoch >= epoch) {
                return previous.loaded;
            }
            shard = new Shard(partition, epoch, new SerialQueue(pool));
            shards.put(partition, shard);
        }
        if (previous != null) {
            previous.queue.execute(previous::close);
        }
        shard.queue.execute(shard::load);
        return shard.loaded;
    }

    /** Drops the shard of {@code partition} unless it was loaded for a newer epoch than {@code epoch}. */
    public CompletableFuture<Void> scheduleUnload(int partition, int epoch) {
        Shard shard;
        synchronized (shards) {
            shard = shards.get(partition);
            if (shard == null || shard.epoch > epoch) {
                return CompletableFuture.completedFuture(null);
            }
            shards.remove(partition);
        }
        CompletableFuture<Void> done = new CompletableFuture<>();
        shard.queue.execute(() -> {
            shard.close();
            done.complete(null);
        });
        return done;
    }

    /**
     * Runs {@code operation} on the shard of {@code partition}; the future completes with its response after its
     * records are committed, or fails with NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS, COORDINATOR_NOT_AVAILABLE,
     * or the exception the operation threw (the shard is then unchanged).
     */
    public <T> CompletableFuture<T> scheduleWriteOperation(String operationName, int partition,
                                                           Function<S, CoordinatorResult<R, T>> operation) {
        return scheduleWrite(operationName, partition, null, operation);
    }

    /**
     * As {@link #scheduleWriteOperation}, with the records written in the transaction of producer {@code producerId}
     * at {@code producerEpoch} and replayed as such ({@link CoordinatorShard#replayTransactional}).
     */
    public <T> CompletableFuture<T> scheduleTransactionalWriteOperation(String operationName, int partition,
                                                                        long producerId, short producerEpoch,
                                                                        Function<S, CoordinatorResult<R, T>> operation) {
        return scheduleWrite(operationName, partition, new Producer(producerId, producerEpoch), operation);
    }

    /**
     * Writes the commit or abort marker of producer {@code producerId}'s transaction to the shard's partition and
     * replays it ({@link CoordinatorShard#replayEndTransaction}); completes once it is committed.
     */
    public CompletableFuture<Void> scheduleTransactionCompletion(String operationName, int partition, long producerId,
                                                                 short producerEpoch, boolean commit,
                                                                 int coordinatorEpoch) {
        CompletableFuture<Void> response = new CompletableFuture<>();
        Shard shard = shardFor(partition, response);
        if (shard != null) {
            shard.queue.execute(() -> shard.completeTransaction(operationName, producerId, producerEpoch, commit,
                    coordinatorEpoch, response));
        }
        return response;
    }

    /** The producer whose transaction an operation writes in. */
    private record Producer(long id, short epoch) {
    }

    private <T> CompletableFuture<T> scheduleWrite(String operationName, int partition, Producer producer,
                                                   Function<S, CoordinatorResult<R, T>> operation) {
        CompletableFuture<T> response = new CompletableFuture<>();
        Shard shard = shardFor(partition, response);
        if (shard != null) {
            shard.queue.execute(() -> shard.write(operationName, producer, operation, response));
        }
        return response;
    }

    /**
     * Runs {@code operation} on the shard of {@code partition} without changing it; the future completes with its
     * result once every record written before it is committed, so it never answers with state that may be lost.
     */
    public <T> CompletableFuture<T> scheduleReadOperation(String operationName, int partition, Function<S, T> operation) {
        return scheduleWriteOperation(operationName, partition, s -> CoordinatorResult.response(operation.apply(s)));
    }

    /** The state of the shard of {@code partition}, or null when this runtime does not hold it. */
    public ShardState state(int partition) {
        Shard shard = shards.get(partition);
        return shard == null ? null : shard.state;
    }

    /** The partitions whose shards are active. */
    public Set<Integer> activePartitions() {
        Set<Integer> active = new TreeSet<>();
        shards.forEach((partition, shard) -> {
            if (shard.state == ShardState.ACTIVE) {
                active.add(partition);
            }
        });
        return active;
    }

    private <T> Shard shardFor(int partition, CompletableFuture<T> response) {
        Shard shard = shards.get(partition);
        if (shard == null || closed) {
            response.completeExceptionally(new NotCoordinatorException(
                    "This node does not hold partition " + partition + " of the " + name + " coordinator"));
            return null;
        }
        if (shard.state == ShardState.LOADING) {
            response.completeExceptionally(new CoordinatorLoadInProgressException(
                    "Partition " + partition + " of the " + name + " coordinator is loading"));
            return null;
        }
        return shard;
    }

    /** The error a failed append is answered with, as Kafka's group coordinator service maps it. */
    static RuntimeException appendError(Throwable error) {
        Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        if (cause instanceof NotLeaderOrFollowerException || cause instanceof KafkaStorageException
                || cause instanceof NotCoordinatorException) {
            return new NotCoordinatorException("Coordinator records were not written: " + cause.getMessage(), cause);
        }
        return new CoordinatorNotAvailableException("Coordinator records were not written: " + cause.getMessage(), cause);
    }

    @Override
    public void close() {
        Map<Integer, Shard> all;
        synchronized (shards) {
            closed = true;
            all = new HashMap<>(shards);
            shards.clear();
        }
        all.values().forEach(shard -> shard.queue.execute(shard::close));
    }

    /** One partition's shard; every field but {@code state} is touched only on its queue. */
    private final class Shard implements CoordinatorTimer<R> {
        final int partition;
        final int epoch;
        final SerialQueue queue;
        final CompletableFuture<Long> loaded = new CompletableFuture<>();
        volatile ShardState state = ShardState.LOADING;
        /** The state machine; null while loading. */
        S machine;
        /** Completes when everything appended so far is committed. */
        CompletableFuture<Void> lastWrite = CompletableFuture.completedFuture(null);
        /** Incremented at each rebuild: a failed write of an older generation is already accounted for. */
        int generation;
        final Map<String, Timer> timers = new HashMap<>();

        Shard(int partition, int epoch, SerialQueue queue) {
            this.partition = partition;
            this.epoch = epoch;
            this.queue = queue;
        }

        void load() {
            if (state == ShardState.CLOSED) {
                loaded.completeExceptionally(new NotCoordinatorException("unloaded before it was loaded"));
                return;
            }
            long start = System.nanoTime();
            try {
                S fresh = builder.build(partition, this, time);
                long records = partitionLog.read(partition, sinkOf(fresh));
                machine = fresh;
                state = ShardState.ACTIVE;
                fresh.onLoaded();
                long ms = (System.nanoTime() - start) / 1_000_000;
                if (records > 0 || ms >= 1000) {
                    log.info("Loaded partition {} of the {} coordinator (epoch {}): {} records in {} ms", partition, name,
                            epoch, records, ms);
                } else {
                    log.debug("Loaded partition {} of the {} coordinator (epoch {}): empty", partition, name, epoch);
                }
                loaded.complete(records);
            } catch (RuntimeException e) {
                log.error("Cannot load partition {} of the {} coordinator", partition, name, e);
                state = ShardState.CLOSED;
                synchronized (shards) {
                    shards.remove(partition, this);
                }
                loaded.completeExceptionally(e);
            }
        }

        void close() {
            state = ShardState.CLOSED;
            cancelTimers();
            if (machine != null) {
                try {
                    machine.onUnloaded();
                } catch (RuntimeException e) {
                    log.warn("Error unloading partition {} of the {} coordinator", partition, name, e);
                }
                machine = null;
            }
            if (!loaded.isDone()) {
                loaded.completeExceptionally(new NotCoordinatorException("unloaded before it was loaded"));
            }
        }

        private CoordinatorLog.RecordSink<R> sinkOf(S fresh) {
            return new CoordinatorLog.RecordSink<>() {
                @Override
                public void accept(long offset, R record) {
                    fresh.replay(offset, record);
                }

                @Override
                public void acceptTransactional(long offset, long producerId, short producerEpoch, R record) {
                    fresh.replayTransactional(offset, producerId, producerEpoch, record);
                }

                @Override
                public void endTransaction(long offset, long producerId, short producerEpoch, boolean commit) {
                    fresh.replayEndTransaction(offset, producerId, producerEpoch, commit);
                }
            };
        }

        void completeTransaction(String operationName, long producerId, short producerEpoch, boolean commit,
                                 int coordinatorEpoch, CompletableFuture<Void> response) {
            if (state != ShardState.ACTIVE) {
                response.completeExceptionally(state == ShardState.LOADING
                        ? new CoordinatorLoadInProgressException("Partition " + partition + " of the " + name + " coordinator is loading")
                        : new NotCoordinatorException("This node no longer holds partition " + partition + " of the " + name + " coordinator"));
                return;
            }
            CoordinatorLog.Append append;
            try {
                append = partitionLog.appendEndTransaction(partition, producerId, producerEpoch, commit, coordinatorEpoch);
            } catch (RuntimeException e) {
                log.warn("{} on partition {} of the {} coordinator: marker not appended: {}", operationName, partition,
                        name, e.toString());
                response.completeExceptionally(appendError(e));
                return;
            }
            CompletableFuture<Void> committed = append.committed();
            try {
                machine.replayEndTransaction(append.baseOffset(), producerId, producerEpoch, commit);
            } catch (RuntimeException e) {
                log.error("Partition {} of the {} coordinator cannot apply its transaction marker at offset {}",
                        partition, name, append.baseOffset(), e);
                committed = committed.thenCompose(v -> CompletableFuture.failedFuture(
                        new CoordinatorNotAvailableException("the shard could not apply its own marker")));
            }
            lastWrite = committed;
            int writtenIn = generation;
            committed.whenComplete((v, error) -> {
                if (error != null) {
                    queue.execute(() -> rebuildAfterFailure(writtenIn, error));
                    response.completeExceptionally(appendError(error));
                } else {
                    response.complete(null);
                }
            });
        }

        <T> void write(String operationName, Producer producer, Function<S, CoordinatorResult<R, T>> operation,
                       CompletableFuture<T> response) {
            if (state != ShardState.ACTIVE) {
                response.completeExceptionally(state == ShardState.LOADING
                        ? new CoordinatorLoadInProgressException("Partition " + partition + " of the " + name + " coordinator is loading")
                        : new NotCoordinatorException("This node no longer holds partition " + partition + " of the " + name + " coordinator"));
                return;
            }
            CoordinatorResult<R, T> result;
            try {
                result = operation.apply(machine);
            } catch (RuntimeException e) {
                response.completeExceptionally(e);
                return;
            }
            CompletableFuture<Void> committed;
            if (result.records().isEmpty()) {
                committed = lastWrite;
            } else {
                CoordinatorLog.Append append;
                try {
                    append = producer == null ? partitionLog.append(partition, result.records())
                            : partitionLog.appendTransactional(partition, producer.id(), producer.epoch(), result.records());
                } catch (RuntimeException e) {
                    log.warn("{} on partition {} of the {} coordinator: records not appended: {}", operationName, partition,
                            name, e.toString());
                    response.completeExceptionally(appendError(e));
                    return; // nothing was appended or replayed: the shard is unchanged
                }
                if (!replay(append.baseOffset(), producer, result)) {
                    committed = append.committed().thenCompose(v -> CompletableFuture.failedFuture(
                            new CoordinatorNotAvailableException("the shard could not apply its own records")));
                } else {
                    committed = append.committed();
                }
                lastWrite = committed;
                int writtenIn = generation;
                committed.whenComplete((v, error) -> {
                    if (error != null) {
                        queue.execute(() -> rebuildAfterFailure(writtenIn, error));
                    }
                });
            }
            if (result.afterCommit() != null) {
                int writtenIn = generation;
                committed.whenComplete((v, error) -> {
                    if (error == null) {
                        queue.execute(() -> {
                            if (state == ShardState.ACTIVE && writtenIn == generation) {
                                try {
                                    result.afterCommit().run();
                                } catch (RuntimeException e) {
                                    log.error("{} on partition {} of the {} coordinator failed after its commit", operationName,
                                            partition, name, e);
                                }
                            }
                        });
                    }
                });
            }
            committed.whenComplete((v, error) -> {
                if (error == null) {
                    response.complete(result.response());
                } else {
                    response.completeExceptionally(appendError(error));
                }
            });
        }

        /** Replays an operation's records; false (and a rebuild is due) when the shard threw. */
        private boolean replay(long baseOffset, Producer producer, CoordinatorResult<R, ?> result) {
            long offset = baseOffset;
            try {
                for (R record : result.records()) {
                    if (producer == null) {
                        machine.replay(offset++, record);
                    } else {
                        machine.replayTransactional(offset++, producer.id(), producer.epoch(), record);
                    }
                }
                return true;
            } catch (RuntimeException e) {
                log.error("Partition {} of the {} coordinator cannot apply a record it wrote at offset {}", partition,
                        name, offset - 1, e);
                return false;
            }
        }

        /**
         * After a failed append the shard may hold records the log does not: it is rebuilt from the partition, once
         * per failure generation (later writes issued before the rebuild fail or succeed on their own).
         */
        private void rebuildAfterFailure(int writtenIn, Throwable error) {
            if (state != ShardState.ACTIVE || writtenIn != generation) {
                return;
            }
            generation++;
            log.warn("Rebuilding partition {} of the {} coordinator from its log after a failed append: {}", partition,
                    name, error.toString());
            state = ShardState.LOADING;
            cancelTimers();
            try {
                machine.onUnloaded();
            } catch (RuntimeException e) {
                log.warn("Error unloading partition {} of the {} coordinator", partition, name, e);
            }
            machine = null;
            lastWrite = CompletableFuture.completedFuture(null);
            try {
                S fresh = builder.build(partition, this, time);
                partitionLog.read(partition, sinkOf(fresh));
                machine = fresh;
                state = ShardState.ACTIVE;
                fresh.onLoaded();
            } catch (RuntimeException e) {
                log.error("Cannot reload partition {} of the {} coordinator; it is dropped", partition, name, e);
                state = ShardState.CLOSED;
                synchronized (shards) {
                    shards.remove(partition, this);
                }
            }
        }

        // Timers: scheduled from operations (on the queue); they fire onto the queue.

        @Override
        public void schedule(String key, long delayMs, Supplier<CoordinatorResult<R, Void>> operation) {
            Timer timer = new Timer(key, operation);
            Timer replaced;
            synchronized (timers) {
                replaced = timers.put(key, timer);
            }
            if (replaced != null) {
                replaced.handle.cancel();
            }
            timer.handle = time.schedule(delayMs, () -> queue.execute(() -> fire(timer)));
        }

        private void fire(Timer timer) {
            synchronized (timers) {
                if (timers.get(timer.key) != timer) {
                    return; // cancelled or replaced
                }
                timers.remove(timer.key);
            }
            if (state != ShardState.ACTIVE) {
                return;
            }
            CompletableFuture<Void> done = new CompletableFuture<>();
            write("timer " + timer.key, null, s -> timer.operation.get(), done);
            done.whenComplete((v, error) -> {
                if (error != null) {
                    log.warn("Timer {} of partition {} of the {} coordinator failed: {}", timer.key, partition, name,
                            error.toString());
                }
            });
        }

        @Override
        public void cancel(String key) {
            Timer timer;
            synchronized (timers) {
                timer = timers.remove(key);
            }
            if (timer != null && timer.handle != null) {
                timer.handle.cancel();
            }
        }

        @Override
        public boolean isScheduled(String key) {
            synchronized (timers) {
                return timers.containsKey(key);
            }
        }

        private void cancelTimers() {
            synchronized (timers) {
                timers.values().forEach(t -> {
                    if (t.handle != null) {
                        t.handle.cancel();
                    }
                });
                timers.clear();
            }
        }
    }

    private final class Timer {
        final String key;
        final Supplier<CoordinatorResult<R, Void>> operation;
        volatile CoordinatorTime.Cancellable handle;

        Timer(String key, Supplier<CoordinatorResult<R, Void>> operation) {
            this.key = key;
            this.operation = operation;
        }
    }
}
