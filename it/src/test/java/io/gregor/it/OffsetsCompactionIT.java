package io.gregor.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.gregor.testkit.Await;
import io.gregor.testkit.GregorCluster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code __consumer_offsets} stays bounded: one million offset commits (100 groups, 100 partitions, 100 rounds) are
 * compacted down to about the latest commit of each group and partition, and after a restart the coordinator
 * replays that, not the million, and answers the last committed offsets.
 */
class OffsetsCompactionIT {
    private static final int GROUPS = 100;
    private static final int PARTITIONS = 100;
    private static final int ROUNDS = 100;

    @Test
    @Timeout(600)
    void aMillionCommitsAreCompactedAndReplayedAsTheLatestOnes() throws Exception {
        try (GregorCluster gregor = GregorCluster.single().with("offsets.topic.segment.bytes", "65536")
                .with("log.cleaner.backoff.ms", "200").start()) {
            gregor.createTopic("committed", PARTITIONS);
            Admin admin = gregor.admin();
            long rawBytes = 0;
            for (int round = 0; round < ROUNDS; round++) {
                // Every group commits all partitions at once, the 100 groups concurrently (their fsyncs are shared).
                List<KafkaFuture<Void>> commits = new ArrayList<>();
                for (int g = 0; g < GROUPS; g++) {
                    Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
                    for (int p = 0; p < PARTITIONS; p++) {
                        offsets.put(new TopicPartition("committed", p), new OffsetAndMetadata(round * 1000L + p));
                    }
                    commits.add(admin.alterConsumerGroupOffsets("group-" + g, offsets).all());
                }
                for (KafkaFuture<Void> commit : commits) {
                    commit.get();
                }
                rawBytes = Math.max(rawBytes, logBytes(gregor));
            }
            long written = (long) GROUPS * PARTITIONS * ROUNDS;
            // The 100 groups hash to most of the 50 partitions. The latest commits of 10 000 keys take about 1 MiB, and
            // each partition keeps its active segment (64 KiB at most) uncleaned: under 5 MiB in all, against about
            // 90 MiB without compaction.
            Await.until("__consumer_offsets compacted below 5 MiB", Duration.ofSeconds(180),
                    () -> logBytes(gregor) < 5L << 20);
            long compacted = logBytes(gregor);
            System.out.printf("OffsetsCompactionIT: %d commits, __consumer_offsets at most %d bytes while committing, "
                    + "%d bytes after compaction%n", written, rawBytes, compacted);

            gregor.restart();
            long replayed = gregor.broker().groupsLoaded().get().records();
            assertThat(replayed).as("records replayed after the restart").isLessThan(written / 10);
            Map<String, Map<TopicPartition, OffsetAndMetadata>> read = new HashMap<>();
            for (int g : new int[] {0, 37, GROUPS - 1}) {
                read.put("group-" + g, gregor.admin().listConsumerGroupOffsets("group-" + g).partitionsToOffsetAndMetadata().get());
            }
            read.forEach((group, offsets) -> {
                assertThat(offsets).as(group).hasSize(PARTITIONS);
                offsets.forEach((tp, offset) -> assertThat(offset.offset()).as("%s %s", group, tp)
                        .isEqualTo((ROUNDS - 1) * 1000L + tp.partition()));
            });
        }
    }

    /** The bytes of the segments of every partition of __consumer_offsets. */
    private static long logBytes(GregorCluster gregor) throws IOException {
        long total = 0;
        try (Stream<Path> dirs = Files.list(gregor.dataDir())) {
            for (Path dir : dirs.filter(d -> d.getFileName().toString().startsWith("__consumer_offsets-")).toList()) {
                try (Stream<Path> files = Files.list(dir)) {
                    total += files.filter(p -> p.getFileName().toString().endsWith(".log")).mapToLong(p -> p.toFile().length()).sum();
                }
            }
        }
        return total;
    }
}
