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
 * replay time of each of RESTARTS restarts is printed.
 *
 * <pre>java -cp ... io.gregor.benchmarks.GroupReplayBenchmark [GROUPS=1000] [PARTITIONS=10] [ROUNDS=1] [RESTARTS=5]</pre>
 */
public final class GroupReplayBenchmark {
    private GroupReplayBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int groups = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
        int partitions = args.length > 1 ? Integer.parseInt(args[1]) : 10;
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 1;
        int restarts = args.length > 3 ? Integer.parseInt(args[3]) : 5;
        Path dir = Files.createTempDirectory("gregor-replay-bench");
        Map<String, String> props = Map.of("log.dirs", dir.toString(), "listeners", "PLAINTEXT://127.0.0.1:0");
        try (Broker broker = new Broker(BrokerConfig.of(props))) {
            broker.start();
            broker.groupsLoaded().get(60, TimeUnit.SECONDS);
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrapServers()))) {
                admin.createTopics(List.of(new NewTopic("replay", partitions, (short) 1))).all().get();
                long start = System.nanoTime();
                for (int round = 0; round < rounds; round++) {
                    for (int g = 0; g < groups; g++) {
                        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
                        for (int p = 0; p < partitions; p++) {
                            offsets.put(new TopicPartition("replay", p), new OffsetAndMetadata(round * 1000L + p, "m"));
                        }
                        admin.alterConsumerGroupOffsets("group-" + g, offsets).all().get();
                    }
                    System.out.printf("committed round %d of %d (%d groups x %d partitions)%n", round + 1, rounds,
                            groups, partitions);
                }
                System.out.printf("filled in %.1f s%n", (System.nanoTime() - start) / 1e9);
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
}
