package io.gregor.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.gregor.testkit.GregorCluster;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.LongDeserializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Produced;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Kafka Streams 4.2 word count (repartition and changelog topics created by Streams, its own group assignor over
 * the classic protocol, commits) against a real broker.
 */
@Timeout(180)
class StreamsIT {
    @TempDir
    static Path dir;
    static GregorCluster gregor;

    @BeforeAll
    static void start() throws Exception {
        gregor = GregorCluster.single().with("group.initial.rebalance.delay.ms", "0").start();
    }

    @AfterAll
    static void stop() {
        if (gregor != null) {
            gregor.close();
        }
    }

    @Test
    void wordCountProducesTheCountsOfEveryWord() throws Exception {
        String bootstrap = gregor.bootstrapServers();
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            admin.createTopics(List.of(new NewTopic("wc-in", 2, (short) 1), new NewTopic("wc-out", 2, (short) 1))).all().get();
        }
        StreamsBuilder builder = new StreamsBuilder();
        builder.<String, String>stream("wc-in")
                .flatMapValues(line -> Arrays.asList(line.toLowerCase().split("\\s+")))
                .groupBy((key, word) -> word)
                .count()
                .toStream()
                .to("wc-out", Produced.with(Serdes.String(), Serdes.Long()));
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, "wordcount-it");
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
        p.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
        p.put(StreamsConfig.STATE_DIR_CONFIG, dir.resolve("state").toString());
        p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 100);
        p.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 0);
        try (KafkaStreams streams = new KafkaStreams(builder.build(), p)) {
            streams.start();
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of("bootstrap.servers", bootstrap),
                    new StringSerializer(), new StringSerializer())) {
                for (String line : List.of("the quick brown fox", "the lazy dog", "The end")) {
                    producer.send(new ProducerRecord<>("wc-in", null, line)).get();
                }
            }
            Map<String, Long> counts = new HashMap<>();
            Properties cp = new Properties();
            cp.put("bootstrap.servers", bootstrap);
            cp.put("group.id", "wc-reader");
            cp.put("auto.offset.reset", "earliest");
            try (KafkaConsumer<String, Long> reader = new KafkaConsumer<>(cp, new StringDeserializer(), new LongDeserializer())) {
                reader.subscribe(List.of("wc-out"));
                long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
                while (!(Long.valueOf(3).equals(counts.get("the")) && counts.size() == 7) && System.nanoTime() < deadline) {
                    reader.poll(Duration.ofMillis(200)).forEach(r -> counts.put(r.key(), r.value()));
                }
            }
            assertThat(counts).containsEntry("the", 3L).containsEntry("fox", 1L).containsEntry("end", 1L).hasSize(7);
            assertThat(streams.state()).isEqualTo(KafkaStreams.State.RUNNING);
        }
    }
}
