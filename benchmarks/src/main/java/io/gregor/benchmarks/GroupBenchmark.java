package io.gregor.benchmarks;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Consumer-group figures of any Kafka-compatible broker, for side-by-side runs:
 * <ul>
 *   <li>{@code join}: N consumers subscribe to an N-partition topic; join time is until every one owns a partition;
 *   rebalance time is, after one consumer closes, until the others own every partition again. Run the brokers with
 *   {@code group.initial.rebalance.delay.ms=0}, or both figures include that delay.</li>
 *   <li>{@code commit}: C consumers commit offsets of P partitions synchronously in a loop, concurrently; commits per
 *   second in all. Each in its own group ({@code groups}, so mostly in different partitions of
 *   {@code __consumer_offsets}), or all in one group ({@code one-group}: one partition, as the members of one
 *   application).</li>
 * </ul>
 *
 * <pre>java -cp ... io.gregor.benchmarks.GroupBenchmark join BOOTSTRAP [CONSUMERS=10] [ROUNDS=3] [classic|consumer]
 * java -cp ... io.gregor.benchmarks.GroupBenchmark commit BOOTSTRAP [PARTITIONS=10] [SECONDS=10] [COMMITTERS=1] [groups|one-group]</pre>
 */
public final class GroupBenchmark {
    private GroupBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 2 || !List.of("join", "commit").contains(args[0])) {
            System.err.println("usage: GroupBenchmark join BOOTSTRAP [CONSUMERS] [ROUNDS] [classic|consumer]");
            System.err.println("       GroupBenchmark commit BOOTSTRAP [PARTITIONS] [SECONDS] [COMMITTERS] [groups|one-group]");
            System.exit(2);
        }
        String bootstrap = args[1];
        if (args[0].equals("join")) {
            int consumers = args.length > 2 ? Integer.parseInt(args[2]) : 10;
            int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 3;
            String protocol = args.length > 4 ? args[4] : "classic";
            join(bootstrap, consumers, rounds, protocol);
        } else {
            int partitions = args.length > 2 ? Integer.parseInt(args[2]) : 10;
            int seconds = args.length > 3 ? Integer.parseInt(args[3]) : 10;
            int committers = args.length > 4 ? Integer.parseInt(args[4]) : 1;
            boolean oneGroup = args.length > 5 && args[5].equals("one-group");
            commit(bootstrap, partitions, seconds, committers, oneGroup);
        }
    }

    private static void ensureTopic(String bootstrap, String topic, int partitions) throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1))).all().get();
        } catch (java.util.concurrent.ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw e;
            }
        }
    }

    private static Properties consumerProps(String bootstrap, String group, String protocol) {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("group.id", group);
        p.put("group.protocol", protocol);
        p.put("enable.auto.commit", "false");
        if (protocol.equals("classic")) {
            p.put("session.timeout.ms", "10000");
            p.put("heartbeat.interval.ms", "500");
        }
        return p;
    }

    private static void join(String bootstrap, int n, int rounds, String protocol) throws Exception {
        String topic = "group-bench-" + n;
        ensureTopic(bootstrap, topic, n);
        for (int round = 0; round < rounds; round++) {
            String group = "group-bench-" + protocol + "-" + System.nanoTime();
            AtomicIntegerArray owned = new AtomicIntegerArray(n);
            AtomicBoolean[] stop = new AtomicBoolean[n];
            List<Thread> threads = new ArrayList<>();
        String shared = "commit-bench-" + System.nanoTime();
            long start = System.nanoTime();
            for (int i = 0; i < n; i++) {
                int index = i;
                stop[i] = new AtomicBoolean();
                Thread t = new Thread(() -> {
                    try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(consumerProps(bootstrap, group, protocol),
                            new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
                        c.subscribe(List.of(topic));
                        while (!stop[index].get()) {
                            c.poll(Duration.ofMillis(20));
                            owned.set(index, c.assignment().size());
                        }
                    }
                    owned.set(index, 0);
                }, "bench-consumer-" + i);
                t.start();
                threads.add(t);
            }
            await(() -> allOwnAndCover(owned, n, n), "join");
            double joinMs = (System.nanoTime() - start) / 1e6;
            long leaveStart = System.nanoTime();
            stop[n - 1].set(true);
            threads.get(n - 1).join();
            await(() -> allOwnAndCover(owned, n - 1, n), "rebalance");
            double rebalanceMs = (System.nanoTime() - leaveStart) / 1e6;
            System.out.printf("round=%d protocol=%s consumers=%d join_ms=%.0f rebalance_after_leave_ms=%.0f%n",
                    round, protocol, n, joinMs, rebalanceMs);
            for (int i = 0; i < n - 1; i++) {
                stop[i].set(true);
            }
            for (Thread t : threads) {
                t.join();
            }
        }
    }

    /** Consumers 0..members-1 each own a partition and together own all of them. */
    private static boolean allOwnAndCover(AtomicIntegerArray owned, int members, int partitions) {
        int sum = 0;
        for (int i = 0; i < members; i++) {
            if (owned.get(i) == 0) {
                return false;
            }
            sum += owned.get(i);
        }
        return sum == partitions;
    }

    private static void await(java.util.function.BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(what + " did not complete within 120 s");
            }
            Thread.sleep(1);
        }
    }

    private static void commit(String bootstrap, int partitions, int seconds, int committers, boolean oneGroup) throws Exception {
        String topic = "commit-bench-" + partitions;
        ensureTopic(bootstrap, topic, partitions);
        long warmupEnd = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
        long end = warmupEnd + TimeUnit.SECONDS.toNanos(seconds);
        List<List<Long>> latencies = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        String shared = "commit-bench-" + System.nanoTime();
        java.util.concurrent.atomic.AtomicReference<Exception> failure = new java.util.concurrent.atomic.AtomicReference<>();
        for (int n = 0; n < committers; n++) {
            List<Long> mine = new ArrayList<>();
            latencies.add(mine);
            String group = oneGroup ? shared : shared + "-" + n;
            Thread t = new Thread(() -> {
                try {
                    commitLoop(bootstrap, topic, partitions, group, warmupEnd, end, mine);
                } catch (Exception e) {
                    failure.compareAndSet(null, e);
                }
            });
            threads.add(t);
            t.start();
        }
        for (Thread t : threads) {
            t.join();
        }
        if (failure.get() != null) {
            throw failure.get();
        }
        List<Long> all = new ArrayList<>();
        latencies.forEach(all::addAll);
        all.sort(Long::compare);
        System.out.printf("committers=%d groups=%s partitions=%d commits=%d commits_per_s=%.0f p50_ms=%.3f p99_ms=%.3f%n",
                committers, oneGroup ? "one" : String.valueOf(committers), partitions, all.size(), all.size() / (double) seconds, all.get(all.size() / 2) / 1e6,
                all.get((int) (all.size() * 0.99)) / 1e6);
    }

    /** One committer: commitSync of every partition in a loop; latencies of the commits made in the measured window. */
    private static void commitLoop(String bootstrap, String topic, int partitions, String group, long warmupEnd, long end,
                                   List<Long> latencies) {
        Properties p = consumerProps(bootstrap, group, "classic");
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> tps = new ArrayList<>();
            for (int i = 0; i < partitions; i++) {
                tps.add(new TopicPartition(topic, i));
            }
            c.assign(tps);
            Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
            for (long round = 0; ; round++) {
                long now = System.nanoTime();
                if (now > end) {
                    break;
                }
                for (TopicPartition tp : tps) {
                    offsets.put(tp, new OffsetAndMetadata(round));
                }
                c.commitSync(offsets);
                long after = System.nanoTime();
                if (now >= warmupEnd && after <= end) {
                    latencies.add(after - now);
                }
            }
        }
    }
}
