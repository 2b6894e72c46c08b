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
        gregor = GregorCluster.single().with("group.initial.rebalance.delay.ms", "0")
                .with("log.cleaner.backoff.ms", "200").start();
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

    @Test
    void anExactlyOnceWordCountCommitsItsCountsInTransactions() throws Exception {
        String bootstrap = gregor.bootstrapServers();
        gregor.createTopic("eos-in", 2);
        gregor.createTopic("eos-out", 2);
        StreamsBuilder builder = new StreamsBuilder();
        builder.<String, String>stream("eos-in")
                .flatMapValues(line -> Arrays.asList(line.toLowerCase().split("\\s+")))
                .groupBy((key, word) -> word)
                .count()
                .toStream()
                .to("eos-out", Produced.with(Serdes.String(), Serdes.Long()));
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, "wordcount-eos");
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        p.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
        p.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
        p.put(StreamsConfig.STATE_DIR_CONFIG, dir.resolve("eos-state").toString());
        p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 100);
        p.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 0);
        try (KafkaStreams streams = new KafkaStreams(builder.build(), p)) {
            streams.start();
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of("bootstrap.servers", bootstrap),
                    new StringSerializer(), new StringSerializer())) {
                for (String line : List.of("to be or not to be", "that is the question", "To Be")) {
                    producer.send(new ProducerRecord<>("eos-in", null, line)).get();
                }
            }
            Map<String, Long> counts = new HashMap<>();
            Properties cp = new Properties();
            cp.put("bootstrap.servers", bootstrap);
            cp.put("group.id", "eos-reader");
            cp.put("auto.offset.reset", "earliest");
            cp.put("isolation.level", "read_committed");
            try (KafkaConsumer<String, Long> reader = new KafkaConsumer<>(cp, new StringDeserializer(), new LongDeserializer())) {
                reader.subscribe(List.of("eos-out"));
                io.gregor.testkit.Await.until("the counts of all 8 words", Duration.ofSeconds(90), () -> {
                    reader.poll(Duration.ofMillis(200)).forEach(r -> counts.put(r.key(), r.value()));
                    return Long.valueOf(3).equals(counts.get("be")) && Long.valueOf(3).equals(counts.get("to"))
                            && counts.size() == 8;
                });
            }
            assertThat(counts).containsEntry("to", 3L).containsEntry("be", 3L).containsEntry("question", 1L).hasSize(8);
            assertThat(streams.state()).isEqualTo(KafkaStreams.State.RUNNING);
        }
    }

    @Test
    void aChangelogIsCompactedAndRestoresTheStoreAfterItsLocalStateIsGone() throws Exception {
        // A count store's changelog (created by Streams as cleanup.policy=compact, with small segments through the
        // topic. prefix) gets thousands of updates of three keys; the cleaner reduces it to about the latest of
        // each, and a new instance without local state restores the counts from it and goes on counting.
        String bootstrap = gregor.bootstrapServers();
        gregor.createTopic("cl-in", 1);
        gregor.createTopic("cl-out", 1);
        String changelog = "changelog-it-counts-changelog";
        Path state = dir.resolve("changelog-state");
        int lines = 1500;
        try (KafkaProducer<String, String> producer = gregor.producer("linger.ms", "5")) {
            for (int i = 0; i < lines; i++) {
                producer.send(new ProducerRecord<>("cl-in", null, "a b c"));
            }
        }
        try (KafkaStreams streams = new KafkaStreams(countTopology(), streamsProps(bootstrap, state))) {
            streams.start();
            awaitCount(bootstrap, "a", lines);
        }
        io.gregor.testkit.Await.until("the changelog compacted to under a tenth of its " + 3 * lines + " updates",
                Duration.ofSeconds(90), () -> recordsIn(bootstrap, changelog) < 3L * lines / 10);

        // Without its local state the next instance restores from the compacted changelog.
        deleteRecursively(state);
        try (KafkaProducer<String, String> producer = gregor.producer()) {
            producer.send(new ProducerRecord<>("cl-in", null, "a")).get();
        }
        try (KafkaStreams streams = new KafkaStreams(countTopology(), streamsProps(bootstrap, state))) {
            streams.start();
            awaitCount(bootstrap, "a", lines + 1);
        }
    }

    private static org.apache.kafka.streams.Topology countTopology() {
        StreamsBuilder builder = new StreamsBuilder();
        builder.<String, String>stream("cl-in")
                .flatMapValues(line -> Arrays.asList(line.split(" ")))
                .groupBy((key, word) -> word)
                .count(org.apache.kafka.streams.kstream.Materialized.as("counts"))
                .toStream()
                .to("cl-out", Produced.with(Serdes.String(), Serdes.Long()));
        return builder.build();
    }

    private static Properties streamsProps(String bootstrap, Path state) {
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, "changelog-it");
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
        p.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
        p.put(StreamsConfig.STATE_DIR_CONFIG, state.toString());
        p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 100);
        p.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 0);
        // Small enough that the active segment (never cleaned) holds under a tenth of the updates on its own.
        p.put(StreamsConfig.topicPrefix("segment.bytes"), "4096");
        p.put(StreamsConfig.topicPrefix("min.cleanable.dirty.ratio"), "0.01");
        return p;
    }

    /** Waits until cl-out's latest count of {@code word} is {@code expected}. */
    private static void awaitCount(String bootstrap, String word, long expected) {
        Properties cp = new Properties();
        cp.put("bootstrap.servers", bootstrap);
        cp.put("auto.offset.reset", "earliest");
        Map<String, Long> counts = new HashMap<>();
        try (KafkaConsumer<String, Long> reader = new KafkaConsumer<>(cp, new StringDeserializer(), new LongDeserializer())) {
            reader.assign(List.of(new org.apache.kafka.common.TopicPartition("cl-out", 0)));
            io.gregor.testkit.Await.until(word + " counted " + expected + " times", Duration.ofSeconds(90), () -> {
                reader.poll(Duration.ofMillis(200)).forEach(r -> counts.put(r.key(), r.value()));
                return Long.valueOf(expected).equals(counts.get(word));
            });
        }
    }

    /** How many records partition 0 of {@code topic} holds now, read from its start. */
    private static long recordsIn(String bootstrap, String topic) {
        Properties cp = new Properties();
        cp.put("bootstrap.servers", bootstrap);
        try (KafkaConsumer<byte[], byte[]> reader = new KafkaConsumer<>(cp,
                new org.apache.kafka.common.serialization.ByteArrayDeserializer(),
                new org.apache.kafka.common.serialization.ByteArrayDeserializer())) {
            var tp = new org.apache.kafka.common.TopicPartition(topic, 0);
            reader.assign(List.of(tp));
            reader.seekToBeginning(List.of(tp));
            long end = reader.endOffsets(List.of(tp)).get(tp);
            long count = 0;
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (reader.position(tp) < end && System.nanoTime() < deadline) {
                count += reader.poll(Duration.ofMillis(200)).count();
            }
            return count;
        }
    }

    private static void deleteRecursively(Path path) throws java.io.IOException {
        if (!java.nio.file.Files.exists(path)) {
            return;
        }
        try (var files = java.nio.file.Files.walk(path)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        }
    }
}
