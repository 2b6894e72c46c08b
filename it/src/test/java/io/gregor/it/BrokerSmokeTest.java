package io.gregor.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.gregor.testkit.Await;
import io.gregor.testkit.GregorCluster;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class BrokerSmokeTest {

    @Test
    void shouldRoundTripRecordsWithJavaClients() throws Exception {
        // A default (idempotent, acks=all) producer writes 100 records; an assign-mode consumer reads them back.
        try (GregorCluster gregor = GregorCluster.single().start()) {
            gregor.createTopic("smoke", 2);
            assertThat(gregor.admin().listTopics().names().get()).contains("smoke");
            try (KafkaProducer<String, String> producer = gregor.producer()) {
                for (int i = 0; i < 100; i++) {
                    producer.send(new ProducerRecord<>("smoke", 0, "k" + i, "v" + i)).get();
                }
            }
            try (KafkaConsumer<String, String> consumer = gregor.consumer()) {
                TopicPartition tp = new TopicPartition("smoke", 0);
                consumer.assign(List.of(tp));
                consumer.seekToBeginning(List.of(tp));
                List<String> values = new ArrayList<>();
                Await.until("100 records read back", Duration.ofSeconds(15), () -> {
                    for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                        values.add(r.value());
                    }
                    return values.size() >= 100;
                });
                assertThat(values).hasSize(100).startsWith("v0", "v1").endsWith("v99");
            }
        }
    }
}
