package io.gregor.benchmarks;

import io.gregor.broker.Broker;
import io.gregor.broker.config.BrokerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * How long the group coordinator takes to replay {@code __consumer_offsets} at start: a broker in this process gets
 * GROUPS groups committing PARTITIONS offsets each, ROUNDS times, is closed and started again on the same data; the
 * replay time of each of RESTARTS restarts is printed. With {@code raw} the log cleaner is off, so every commit is
 * replayed; with {@code compacted} the cleaner runs and the restarts wait until it has cleaned what it can (the size of
 * {@code __consumer_offsets} stops shrinking). Both use 1 MiB segments of {@code __consumer_offsets}, so that they roll.
 *
 * <pre>java -cp ... io.gregor.benchmarks.GroupReplayBenchmark [GROUPS=1000] [PARTITIONS=10] [ROUNDS=1] [RESTARTS=5] [raw|compacted]</pre>
 */
public final class GroupReplayBenchmark {
    private GroupReplayBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int groups = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
        int partitions = args.length > 1 ? Integer.parseInt(args[1]) : 10;
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 1;
        int restarts = args.length > 3 ? Integer.parseInt(args[3]) : 5;
        boolean compacted = args.length > 4 && args[4].equals("compacted");
        Path dir = Files.createTempDirectory("gregor-replay-bench");
        Map<String, String> props = Map.of("log.dirs", dir.toString(), "listeners", "PLAINTEXT://127.0.0.1:0",
                "offsets.topic.segment.bytes", "1048576", "log.cleaner.enable", String.valueOf(compacted),
                "log.cleaner.backoff.ms", "200");
        try (Broker broker = new Broker(BrokerConfig.of(props))) {
            broker.start();
            broker.groupsLoaded().get(60, TimeUnit.SECONDS);
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrapServers()))) {
                admin.createTopics(List.of(new NewTopic("replay", partitions, (short) 1))).all().get();
                long start = System.nanoTime();
                for (int round = 0; round < rounds; round++) {
                    // The groups of a round commit concurrently, as many applications would.
                    List<org.apache.kafka.common.KafkaFuture<Void>> commits = new java.util.ArrayList<>();
                    for (int g = 0; g < groups; g++) {
                        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
                        for (int p = 0; p < partitions; p++) {
                            offsets.put(new TopicPartition("replay", p), new OffsetAndMetadata(round * 1000L + p, "m"));
                        }
                        commits.add(admin.alterConsumerGroupOffsets("group-" + g, offsets).all());
                    }
                    for (var commit : commits) {
                        commit.get();
                    }
                    System.out.printf("committed round %d of %d (%d groups x %d partitions)%n", round + 1, rounds,
                            groups, partitions);
                }
                System.out.printf("filled in %.1f s, __consumer_offsets %d bytes%n", (System.nanoTime() - start) / 1e9,
                        offsetsBytes(dir));
            }
            if (compacted) {
                long last = offsetsBytes(dir);
                long stableSince = System.nanoTime();
                while (System.nanoTime() - stableSince < TimeUnit.SECONDS.toNanos(5)) {
                    Thread.sleep(250);
                    long now = offsetsBytes(dir);
                    if (now < last) {
                        last = now;
                        stableSince = System.nanoTime();
                    }
                }
                System.out.printf("compacted to %d bytes%n", last);
            }
        }
        for (int i = 0; i < restarts; i++) {
            try (Broker broker = new Broker(BrokerConfig.of(props))) {
                broker.start();
                Broker.GroupLoad load = broker.groupsLoaded().get(60, TimeUnit.SECONDS);
                System.out.printf("restart=%d groups=%d committed_partitions=%d records=%d replay_ms=%.1f%n", i, groups,
                        groups * partitions, load.records(), load.nanos() / 1e6);
            }
        }
    }

    private static long offsetsBytes(Path dir) throws java.io.IOException {
        long total = 0;
        try (var dirs = Files.list(dir)) {
            for (Path d : dirs.filter(x -> x.getFileName().toString().startsWith("__consumer_offsets-")).toList()) {
                try (var files = Files.list(d)) {
                    total += files.filter(f -> f.toString().endsWith(".log")).mapToLong(f -> f.toFile().length()).sum();
                }
            }
        }
        return total;
    }
}
