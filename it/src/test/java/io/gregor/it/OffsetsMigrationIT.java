package io.gregor.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.gregor.testkit.GregorCluster;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.GroupType;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A data directory written by the previous release (one partition of __consumer_offsets in Gregor's own format; see
 * {@code fixtures/groups-single-partition-layout.tar.gz}, made by {@code it/compat/GroupsFixture.java}) is migrated
 * on first start to Kafka's layout: 50 partitions and Kafka's record schemas, with every committed offset and group
 * kept, also when the node is killed (kill -9) in the middle of the migration.
 *
 * <p>The fixture holds topic {@code orders} (3 partitions, 10 records each) and three groups: {@code legacy-classic}
 * (a classic consumer that committed 4, 5, 6 and was still a member when the node stopped), {@code legacy-consumer}
 * (a KIP-848 consumer that committed 8, 9, 10 and left) and {@code legacy-admin} (offset 7 of partition 0, set by
 * an Admin client, metadata "admin-set").
 */
class OffsetsMigrationIT {
    @TempDir
    Path dir;

    private Path unpackFixture(String name) throws Exception {
        Path target = dir.resolve(name);
        Files.createDirectories(target);
        Path archive = dir.resolve(name + ".tar.gz");
        try (InputStream in = OffsetsMigrationIT.class.getResourceAsStream("/fixtures/groups-single-partition-layout.tar.gz")) {
            Files.copy(in, archive);
        }
        Subprocess.run(List.of("tar", "-C", target.toString(), "-xzf", archive.toString()), null, 60).assertOk();
        return target;
    }

    /** Checks what the fixture's groups must still have after the migration. */
    private static void assertGroupsCarriedOver(String bootstrap) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            Map<TopicPartition, OffsetAndMetadata> classic = admin.listConsumerGroupOffsets("legacy-classic")
                    .partitionsToOffsetAndMetadata().get();
            Map<TopicPartition, OffsetAndMetadata> consumer = admin.listConsumerGroupOffsets("legacy-consumer")
                    .partitionsToOffsetAndMetadata().get();
            Map<TopicPartition, OffsetAndMetadata> standalone = admin.listConsumerGroupOffsets("legacy-admin")
                    .partitionsToOffsetAndMetadata().get();
            for (int p = 0; p < 3; p++) {
                TopicPartition tp = new TopicPartition("orders", p);
                assertThat(classic.get(tp).offset()).as("legacy-classic %s", tp).isEqualTo(4 + p);
                assertThat(classic.get(tp).metadata()).isEqualTo("classic-meta");
                assertThat(consumer.get(tp).offset()).as("legacy-consumer %s", tp).isEqualTo(8 + p);
            }
            assertThat(standalone).hasSize(1);
            assertThat(standalone.get(new TopicPartition("orders", 0))).isEqualTo(new OffsetAndMetadata(7, "admin-set"));
            var types = new java.util.HashMap<String, GroupType>();
            admin.listGroups().all().get().forEach(g -> types.put(g.groupId(), g.type().orElse(null)));
            assertThat(types).containsEntry("legacy-classic", GroupType.CLASSIC).containsEntry("legacy-consumer", GroupType.CONSUMER)
                    .containsKey("legacy-admin");
            assertThat(admin.describeTopics(List.of("__consumer_offsets")).allTopicNames().get().get("__consumer_offsets")
                    .partitions()).hasSize(50);
        }
    }

    @Test
    @Timeout(180)
    void theFirstStartMigratesAndTheGroupsResumeWhereTheyStopped() throws Exception {
        Path data = unpackFixture("clean");
        try (GregorCluster gregor = GregorCluster.single().dataDir(data).with("group.initial.rebalance.delay.ms", "0").start()) {
            assertThat(gregor.broker().groupsLoaded().get().records()).as("records loaded after the migration").isEqualTo(10);
            assertGroupsCarriedOver(gregor.bootstrapServers());
            assertThat(data.resolve("__consumer_offsets.migration")).doesNotExist();
            // The consumers of both protocols pick up at their committed offsets: 10 - 4/5/6 and 10 - 8/9/10 records.
            assertThat(consume(gregor, "legacy-classic", "classic", 15)).hasSize(15);
            assertThat(consume(gregor, "legacy-consumer", "consumer", 3)).hasSize(3);

            gregor.restart();
            assertThat(gregor.broker().groupsLoaded().get().records()).as("a second start migrates nothing").isPositive();
            try (Admin admin = gregor.admin()) {
                assertThat(admin.listConsumerGroupOffsets("legacy-admin").partitionsToOffsetAndMetadata().get()
                        .get(new TopicPartition("orders", 0)).offset()).isEqualTo(7);
            }
        }
    }

    private static List<String> consume(GregorCluster gregor, String group, String protocol, int expected) {
        List<String> values = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = gregor.consumer("group.id", group, "group.protocol", protocol,
                "auto.offset.reset", "earliest", "enable.auto.commit", "false")) {
            consumer.subscribe(List.of("orders"));
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (values.size() < expected && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    values.add(r.value());
                }
            }
            // Nothing more than what was left after the committed offsets.
            for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
                values.add(r.value());
            }
        }
        return values;
    }

    @Test
    @Timeout(300)
    void aMigrationKilledAtAnyMomentFinishesAtTheNextStart() throws Exception {
        // Each round starts the node and kills it (kill -9) at a random moment (0-250 ms) after one of the migration's
        // steps shows in its log: before the records to carry over are saved, after that (the old topic being deleted,
        // the new one created and filled), or while a later start resumes. The last start must find everything.
        Path data = unpackFixture("killed");
        Path log = data.resolveSibling(data.getFileName() + "-broker.log");
        Path migrationFile = data.resolve("__consumer_offsets.migration");
        int interrupted = 0;
        for (int round = 0; round < 5; round++) {
            long from = Files.exists(log) ? Files.size(log) : 0;
            GregorProcess node = GregorProcess.start(data, 0);
            String seen;
            if (round == 1) {
                // One round is killed the moment the saved records are in place (the commit point), so that at least
                // one start must resume: random moments alone missed the window in every round of one CI run.
                seen = awaitFileOrMarker(migrationFile, log, from, "records of __consumer_offsets");
            } else {
                seen = awaitAny(log, from, "Migrating __consumer_offsets from", "Saved the records to carry over",
                        "Resuming the interrupted migration", "records of __consumer_offsets");
                Thread.sleep(ThreadLocalRandom.current().nextLong(round % 2 == 0 ? 1 : 250));
            }
            node.kill9();
            boolean midway = Files.exists(migrationFile);
            interrupted += midway ? 1 : 0;
            System.out.printf("OffsetsMigrationIT: round %d killed after \"%s\"%s%n", round, seen,
                    midway ? ", with the migration half done" : "");
        }
        try (GregorProcess node = GregorProcess.start(data, 0)) {
            assertGroupsCarriedOver(node.bootstrap());
        }
        assertThat(migrationFile).doesNotExist();
        assertThat(interrupted).as("rounds that killed the node in the middle of the migration").isPositive();
    }

    /** Waits until {@code file} exists (returns "the saved records") or the log past {@code from} holds {@code marker}. */
    private static String awaitFileOrMarker(Path file, Path log, long from, String marker) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        int polls = 0;
        while (System.nanoTime() < deadline) {
            if (Files.exists(file)) {
                return "the saved records";
            }
            if (++polls % 50 == 0) {
                String text = Files.exists(log) ? Files.readString(log) : "";
                if (text.length() > from && text.substring((int) from).contains(marker)) {
                    return marker;
                }
            }
            Thread.sleep(1);
        }
        throw new AssertionError("neither " + file + " nor \"" + marker + "\" in " + log + " within 60 s");
    }

    /** Waits until the log, past {@code from}, holds one of {@code markers}; returns the first that shows. */
    private static String awaitAny(Path log, long from, String... markers) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            String text = Files.exists(log) ? Files.readString(log) : "";
            String tail = text.length() > from ? text.substring((int) from) : "";
            for (String marker : markers) {
                if (tail.contains(marker)) {
                    return marker;
                }
            }
            Thread.sleep(5);
        }
        throw new AssertionError("none of " + List.of(markers) + " in " + log + " within 60 s");
    }

}
