package io.gregor.coordinator.group;

import io.gregor.coordinator.runtime.CoordinatorLog;
import io.gregor.coordinator.runtime.ManualTime;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.Uuid;

/**
 * A group coordinator service over an in-memory {@code __consumer_offsets}, stepped by hand: a manual clock, shard
 * queues run on the caller's thread, records stored as bytes (so every replay also reads them back through the
 * record schemas). Appends commit at once unless {@link MemoryLog#hold} is set; {@link MemoryLog#failNext} makes the
 * next append fail.
 */
final class TestCoordinator implements AutoCloseable {
    final ManualTime time = new ManualTime();
    final MemoryLog log = new MemoryLog();
    final Map<String, ServerAssignor.Topic> topics = new TreeMap<>();
    long topicsVersion;
    final GroupConfig config;
    final int partitions;
    GroupCoordinatorService service;

    TestCoordinator(GroupConfig config, int partitions) {
        this.config = config;
        this.partitions = partitions;
        start();
    }

    private void start() {
        service = new GroupCoordinatorService(config, log, catalog(), time, Runnable::run, partitions);
        for (int p = 0; p < partitions; p++) {
            service.load(p, 0).join();
        }
    }

    /** A new service replaying what the log holds, as after a restart. */
    void restart() {
        service.close();
        start();
    }

    /** Every record stored so far, in order, read back from its bytes. */
    List<GroupRecord> stored() {
        List<GroupRecord> all = new ArrayList<>();
        log.read(-1, (offset, r) -> all.add(r));
        return all;
    }

    TopicCatalog catalog() {
        return new TopicCatalog() {
            @Override
            public ServerAssignor.Topic topic(String name) {
                return topics.get(name);
            }

            @Override
            public ServerAssignor.Topic topic(Uuid id) {
                return topics.values().stream().filter(t -> t.id().equals(id)).findFirst().orElse(null);
            }

            @Override
            public Collection<String> names() {
                return topics.keySet();
            }

            @Override
            public long version() {
                return topicsVersion;
            }
        };
    }

    @Override
    public void close() {
        service.close();
    }

    /** Partitions in memory, as bytes. */
    static final class MemoryLog implements CoordinatorLog<GroupRecord> {
        record Stored(int partition, byte[] key, byte[] value) {
        }

        final List<Stored> records = new ArrayList<>();
        final List<CompletableFuture<Void>> held = new ArrayList<>();
        RuntimeException failNext;
        boolean hold;

        @Override
        public synchronized Append append(int partition, List<GroupRecord> batch) {
            if (failNext != null) {
                RuntimeException e = failNext;
                failNext = null;
                throw e;
            }
            long base = records.stream().filter(r -> r.partition == partition).count();
            for (GroupRecord r : batch) {
                records.add(new Stored(partition, r.keyBytes(), r.valueBytes()));
            }
            CompletableFuture<Void> committed = new CompletableFuture<>();
            if (hold) {
                held.add(committed);
            } else {
                committed.complete(null);
            }
            return new Append(base, committed);
        }

        /** Fails the held appends: their records are dropped from the log, as a partition truncated after a failure. */
        void failHeld(RuntimeException error, int dropLast) {
            List<CompletableFuture<Void>> failed;
            synchronized (this) {
                failed = List.copyOf(held);
                held.clear();
                for (int i = 0; i < dropLast; i++) {
                    records.remove(records.size() - 1);
                }
                hold = false;
            }
            failed.forEach(f -> f.completeExceptionally(error));
        }

        void commitHeld() {
            List<CompletableFuture<Void>> done;
            synchronized (this) {
                done = List.copyOf(held);
                held.clear();
                hold = false;
            }
            done.forEach(f -> f.complete(null));
        }

        /** Reads {@code partition}, or every partition when it is -1. */
        @Override
        public long read(int partition, RecordSink<GroupRecord> sink) {
            List<Stored> copy;
            synchronized (this) {
                copy = List.copyOf(records);
            }
            long offset = 0;
            for (Stored s : copy) {
                if (partition < 0 || s.partition == partition) {
                    sink.accept(offset++, GroupRecord.read(ByteBuffer.wrap(s.key), s.value == null ? null : ByteBuffer.wrap(s.value)));
                }
            }
            return offset;
        }
    }
}
