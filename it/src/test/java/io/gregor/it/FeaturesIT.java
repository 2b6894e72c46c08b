package io.gregor.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gregor.testkit.Await;
import io.gregor.testkit.GregorCluster;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.FeatureUpdate;
import org.apache.kafka.clients.admin.FinalizedVersionRange;
import org.apache.kafka.clients.admin.UpdateFeaturesOptions;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.InvalidUpdateVersionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The transaction.version feature through Kafka's tools on a 3-node cluster: {@code kafka-features.sh downgrade} (Kafka's
 * own FeatureCommand, as a process) and Admin.updateFeatures change it for every node, through the metadata log and
 * across a restart; Java producers started afterwards use the version it names; what Kafka refuses is refused.
 */
class FeaturesIT {
    private static final String TV = "transaction.version";

    @Test
    @Timeout(180)
    void kafkaFeaturesChangesTheTransactionVersionOfEveryNode() throws Exception {
        try (GregorCluster cluster = GregorCluster.nodes(3).start()) {
            assertThat(finalizedLevels(cluster)).as("the configured level on every node").containsOnly((short) 2);
            var supported = cluster.admin().describeFeatures().featureMetadata().get().supportedFeatures().get(TV);
            assertThat(supported.minVersion()).isZero();
            assertThat(supported.maxVersion()).isEqualTo((short) 2);

            // A downgrade needs a downgrade type; an unknown feature and a level out of range are refused.
            assertRefused(cluster, new FeatureUpdate((short) 1, FeatureUpdate.UpgradeType.UPGRADE), TV);
            assertRefused(cluster, new FeatureUpdate((short) 3, FeatureUpdate.UpgradeType.UPGRADE), TV);
            assertRefused(cluster, new FeatureUpdate((short) 1, FeatureUpdate.UpgradeType.UPGRADE), "no.such.feature");
            // Validate-only changes nothing.
            cluster.admin().updateFeatures(Map.of(TV, new FeatureUpdate((short) 0, FeatureUpdate.UpgradeType.SAFE_DOWNGRADE)),
                    new UpdateFeaturesOptions().validateOnly(true)).all().get();
            assertThat(finalizedLevels(cluster)).containsOnly((short) 2);

            // kafka-features.sh downgrade, sent to node 3 (not necessarily the controller): every node follows.
            long epochBefore = cluster.admin().describeFeatures().featureMetadata().get().finalizedFeaturesEpoch().orElse(-1L);
            assertThat(featureCommand(cluster.broker(3).bootstrapServers(), "downgrade", "--feature", TV + "=1"))
                    .as("kafka-features.sh downgrade exit code").isZero();
            Await.until("every node finalizes transaction.version 1", Duration.ofSeconds(20),
                    () -> finalizedLevels(cluster).stream().allMatch(l -> l == 1));
            assertThat(cluster.admin().describeFeatures().featureMetadata().get().finalizedFeaturesEpoch().orElse(-1L))
                    .isGreaterThan(epochBefore);
            cluster.createTopic("features", 1, Map.of());
            assertThat(epochBumpsOfTwoTransactions(cluster, "tv1-producer")).as("transaction version 1: no bumps").isZero();

            // The level is in the metadata log: a restart keeps it.
            cluster.restart();
            assertThat(finalizedLevels(cluster)).containsOnly((short) 1);

            cluster.admin().updateFeatures(Map.of(TV, new FeatureUpdate((short) 2, FeatureUpdate.UpgradeType.UPGRADE)),
                    new UpdateFeaturesOptions()).all().get();
            Await.until("every node finalizes transaction.version 2", Duration.ofSeconds(20),
                    () -> finalizedLevels(cluster).stream().allMatch(l -> l == 2));
            assertThat(epochBumpsOfTwoTransactions(cluster, "tv2-producer")).as("transaction version 2: one bump per commit")
                    .isEqualTo(2);
        }
    }

    /** The transaction.version each node finalizes in its ApiVersions (0 when it finalizes none). */
    private static List<Short> finalizedLevels(GregorCluster cluster) throws Exception {
        List<Short> levels = new ArrayList<>();
        for (String node : cluster.bootstrapServers().split(",")) {
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", node))) {
                FinalizedVersionRange range = admin.describeFeatures().featureMetadata().get(10, TimeUnit.SECONDS)
                        .finalizedFeatures().get(TV);
                levels.add(range == null ? 0 : range.maxVersionLevel());
            }
        }
        assertThat(levels).hasSize(3);
        return levels;
    }

    private static void assertRefused(GregorCluster cluster, FeatureUpdate update, String feature) {
        assertThatThrownBy(() -> cluster.admin().updateFeatures(Map.of(feature, update), new UpdateFeaturesOptions()).all().get())
                .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(InvalidUpdateVersionException.class);
    }

    /** Two committed transactions of a new Java 4.2 producer; how much its epoch grew over them. */
    private static int epochBumpsOfTwoTransactions(GregorCluster cluster, String transactionalId) throws Exception {
        try (KafkaProducer<String, String> producer = cluster.producer("transactional.id", transactionalId)) {
            producer.initTransactions();
            int initial = cluster.admin().describeTransactions(List.of(transactionalId)).all().get().get(transactionalId)
                    .producerEpoch();
            for (int t = 0; t < 2; t++) {
                producer.beginTransaction();
                producer.send(new ProducerRecord<>("features", 0, "k", transactionalId + "-" + t)).get();
                producer.commitTransaction();
            }
            int after = cluster.admin().describeTransactions(List.of(transactionalId)).all().get().get(transactionalId)
                    .producerEpoch();
            return after - initial;
        }
    }

    /** Runs Kafka's kafka-features.sh (org.apache.kafka.tools.FeatureCommand) as a process; its exit code. */
    private static int featureCommand(String bootstrap, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"), "-cp",
                System.getProperty("java.class.path"), "org.apache.kafka.tools.FeatureCommand", "--bootstrap-server", bootstrap));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        // Small output: read to the end (the process's exit), then its code; the test's timeout bounds a hang.
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("kafka-features.sh %s finished", String.join(" ", args)).isTrue();
        assertThat(process.exitValue()).as("kafka-features.sh %s: %s", String.join(" ", args), output).isZero();
        return process.exitValue();
    }
}
