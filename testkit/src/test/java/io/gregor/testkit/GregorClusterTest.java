package io.gregor.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.junit.jupiter.api.Test;

class GregorClusterTest {

    @Test
    void aSingleNodeServesClientsAndKeepsItsDataOverARestart() throws Exception {
        try (GregorCluster gregor = GregorCluster.single().with("num.partitions", "2").start()) {
            Uuid id = gregor.createTopic("kit", 1);
            assertThat(id).isNotEqualTo(Uuid.ZERO_UUID);
            assertThat(gregor.admin().describeTopics(List.of("kit")).allTopicNames().get().get("kit").topicId()).isEqualTo(id);
            try (var producer = gregor.producer("acks", "all")) {
                for (int i = 0; i < 10; i++) {
                    producer.send(new ProducerRecord<>("kit", "k" + i, "v" + i)).get();
                }
            }
            gregor.restart();
            List<ConsumerRecord<String, String>> read = new ArrayList<>();
            try (var consumer = gregor.consumer()) {
                TopicPartition tp = new TopicPartition("kit", 0);
                consumer.assign(List.of(tp));
                consumer.seekToBeginning(List.of(tp));
                Await.until("10 records read back", Duration.ofSeconds(30), () -> {
                    consumer.poll(Duration.ofMillis(100)).forEach(read::add);
                    return read.size() >= 10;
                });
            }
            assertThat(read).extracting(ConsumerRecord::value).containsExactly("v0", "v1", "v2", "v3", "v4", "v5", "v6",
                    "v7", "v8", "v9");
        }
    }

    @Test
    void awaitSaysWhatDidNotHappen() {
        assertThatThrownBy(() -> Await.until("the impossible", Duration.ofMillis(50), () -> false))
                .isInstanceOf(AssertionError.class).hasMessageContaining("the impossible");
        assertThatThrownBy(() -> GregorCluster.nodes(0)).isInstanceOf(IllegalArgumentException.class);
    }
}
