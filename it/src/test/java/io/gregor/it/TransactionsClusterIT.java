package io.gregor.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.gregor.testkit.Await;
import io.gregor.testkit.GregorCluster;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Transactions on three in-process nodes: markers reach partitions led by other nodes (WriteTxnMarkers), and a
 * transaction survives the loss of its coordinator's node.
 */
@Timeout(240)
class TransactionsClusterIT {

    private static List<String> readCommitted(GregorCluster cluster, String topic, int partitions, int expected) {
        List<String> values = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = cluster.consumer("isolation.level", "read_committed")) {
            List<TopicPartition> tps = new ArrayList<>();
            for (int p = 0; p < partitions; p++) {
                tps.add(new TopicPartition(topic, p));
            }
            consumer.assign(tps);
            consumer.seekToBeginning(tps);
            Await.until(expected + " committed records of " + topic, Duration.ofSeconds(60), () -> {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    values.add(r.value());
                }
                return values.size() >= expected;
            });
            consumer.poll(Duration.ofMillis(500)).forEach(r -> values.add(r.value()));
        }
        return values;
    }

    /** The node that leads the partition of {@code __transaction_state} holding {@code transactionalId}. */
    private static int coordinatorOf(Admin admin, String transactionalId) throws Exception {
        List<TopicPartitionInfo> partitions = admin.describeTopics(List.of("__transaction_state")).allTopicNames().get()
                .get("__transaction_state").partitions();
        int partition = Utils.abs(transactionalId.hashCode()) % partitions.size();
        return partitions.get(partition).leader().id();
    }

    @Test
    void markersReachEveryLeaderAndATransactionOutlivesItsCoordinatorsNode() throws Exception {
        try (GregorCluster cluster = GregorCluster.nodes(3).with("broker.session.timeout.ms", "1500")
                .with("broker.heartbeat.interval.ms", "300").with("replica.lag.time.max.ms", "3000").start()) {
            cluster.admin().createTopics(List.of(new NewTopic("ledger", 3, (short) 3)
                    .configs(Map.of("min.insync.replicas", "2")))).all().get();
            List<String> committed = new ArrayList<>();
            try (KafkaProducer<String, String> producer = cluster.producer("transactional.id", "ledger-tx",
                    "delivery.timeout.ms", "60000", "request.timeout.ms", "10000", "transaction.timeout.ms", "60000")) {
                producer.initTransactions();
                for (int t = 0; t < 4; t++) {
                    producer.beginTransaction();
                    for (int i = 0; i < 9; i++) {
                        String value = "t" + t + "-" + i;
                        producer.send(new ProducerRecord<>("ledger", i % 3, "k", value));
                        if (t != 2) {
                            committed.add(value);
                        }
                    }
                    if (t == 2) {
                        producer.abortTransaction();
                    } else {
                        producer.commitTransaction();
                    }
                }
                // Three partitions on three nodes: whatever node coordinates, two leaders got their markers by
                // WriteTxnMarkers.
                assertThat(readCommitted(cluster, "ledger", 3, 27)).containsExactlyInAnyOrderElementsOf(committed);

                // A transaction whose coordinator's node dies before the commit: the next coordinator takes it over.
                int coordinator = coordinatorOf(cluster.admin(), "ledger-tx");
                producer.beginTransaction();
                for (int i = 0; i < 9; i++) {
                    String value = "last-" + i;
                    producer.send(new ProducerRecord<>("ledger", i % 3, "k", value)).get();
                    committed.add(value);
                }
                cluster.halt(coordinator);
                producer.commitTransaction();
            }
            assertThat(readCommitted(cluster, "ledger", 3, 36)).containsExactlyInAnyOrderElementsOf(committed);
        }
    }
}
