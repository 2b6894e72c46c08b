package io.gregor.broker;

import static org.assertj.core.api.Assertions.assertThat;

import io.gregor.broker.config.BrokerConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
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
import org.junit.jupiter.api.io.TempDir;

class BrokerSmokeTest {
    @TempDir
    Path dir;

    @Test
    void shouldRoundTripRecordsWithJavaClients() throws Exception {
        // A default (idempotent, acks=all) producer writes 100 records; an assign-mode consumer reads them back.
        try (Broker broker = new Broker(BrokerConfig.of(Map.of("log.dirs", dir.toString(), "listeners", "PLAINTEXT://127.0.0.1:0")))) {
            broker.start();
            String bootstrap = broker.bootstrapServers();
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
                admin.createTopics(List.of(new NewTopic("smoke", 2, (short) 1))).all().get();
                assertThat(admin.listTopics().names().get()).contains("smoke");
            }
            Properties p = new Properties();
            p.put("bootstrap.servers", bootstrap);
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
                for (int i = 0; i < 100; i++) {
                    producer.send(new ProducerRecord<>("smoke", 0, "k" + i, "v" + i)).get();
                }
            }
            Properties c = new Properties();
            c.put("bootstrap.servers", bootstrap);
            try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(c, new StringDeserializer(), new StringDeserializer())) {
                TopicPartition tp = new TopicPartition("smoke", 0);
                consumer.assign(List.of(tp));
                consumer.seekToBeginning(List.of(tp));
                List<String> values = new ArrayList<>();
                long deadline = System.currentTimeMillis() + 15_000;
                while (values.size() < 100 && System.currentTimeMillis() < deadline) {
                    for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                        values.add(r.value());
                    }
                }
                assertThat(values).hasSize(100).startsWith("v0", "v1").endsWith("v99");
            }
        }
    }
}
