package io.gregor.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.gregor.testkit.Await;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 of a single node in the middle of transactions, in rounds: every committed transaction stays whole, the
 * transaction left open at the kill never becomes visible to read_committed readers, and the next producer of the
 * same transactional id goes on after it.
 */
class TransactionsCrashIT {
    private static final int ROUNDS = 10;
    private static final String TOPIC = "txn-crash";

    @TempDir
    Path dir;

    private static KafkaProducer<String, String> producer(String bootstrap) {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("transactional.id", "crash-tx");
        p.put("transaction.timeout.ms", "60000");
        p.put("delivery.timeout.ms", "30000");
        p.put("request.timeout.ms", "10000");
        return new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
    }

    /** Every record read_committed readers see, once {@code expected} of them are there. */
    private static List<String> readCommitted(String bootstrap, int expected) {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("isolation.level", "read_committed");
        List<String> values = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer())) {
            List<TopicPartition> tps = List.of(new TopicPartition(TOPIC, 0), new TopicPartition(TOPIC, 1));
            consumer.assign(tps);
            consumer.seekToBeginning(tps);
            Await.until(expected + " committed records", Duration.ofSeconds(60), () -> {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    values.add(r.value());
                }
                return values.size() >= expected;
            });
            consumer.poll(Duration.ofMillis(500)).forEach(r -> values.add(r.value()));
        }
        return values;
    }

    @Test
    @Timeout(600)
    void committedTransactionsSurviveKillNineAndTheOpenOneNeverShows() throws Exception {
        Path data = dir.resolve("data");
        int port = GregorProcess.freePort();
        try (GregorProcess first = GregorProcess.start(data, port);
             Admin admin = Admin.create(Map.of("bootstrap.servers", first.bootstrap()))) {
            admin.createTopics(List.of(new NewTopic(TOPIC, 2, (short) 1))).all().get();
            first.stop();
        }
        List<String> committed = new ArrayList<>();
        for (int round = 0; round < ROUNDS; round++) {
            GregorProcess node = GregorProcess.start(data, port);
            KafkaProducer<String, String> producer = producer(node.bootstrap());
            try {
                // The previous round's open transaction is aborted by this producer's initialisation.
                producer.initTransactions();
                assertThat(readCommitted(node.bootstrap(), committed.size()))
                        .containsExactlyInAnyOrderElementsOf(committed);
                producer.beginTransaction();
                for (int i = 0; i < 10; i++) {
                    String value = "r" + round + "-committed-" + i;
                    producer.send(new ProducerRecord<>(TOPIC, i % 2, "k", value));
                    committed.add(value);
                }
                producer.commitTransaction();
                producer.beginTransaction();
                int open = 1 + ThreadLocalRandom.current().nextInt(20);
                for (int i = 0; i < open; i++) {
                    producer.send(new ProducerRecord<>(TOPIC, i % 2, "k", "r" + round + "-open-" + i));
                }
                producer.flush(); // the open transaction's records are acknowledged, and then the node dies
                node.kill9();
            } finally {
                node.kill9();
                producer.close(Duration.ofSeconds(5));
            }
        }
        try (GregorProcess last = GregorProcess.start(data, port);
             KafkaProducer<String, String> producer = producer(last.bootstrap())) {
            producer.initTransactions();
            List<String> read = readCommitted(last.bootstrap(), committed.size());
            assertThat(read).hasSize(ROUNDS * 10).containsExactlyInAnyOrderElementsOf(committed);
        }
    }
}
