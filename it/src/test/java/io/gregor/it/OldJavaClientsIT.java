package io.gregor.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.gregor.testkit.GregorCluster;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.stream.IntStream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Java kafka-clients 0.9.0.1, 0.10.0.1, 0.10.2.2 and 2.0.1 from Maven Central, each in its own class loader
 * ({@link OldJavaClient}): produce, consume as a group member, commit, resume. What they write is read by a 4.2
 * consumer, kcat and Kafka's ConsoleConsumer; what a 4.2 producer writes (every codec, with headers) is read by the
 * 0.10 consumer.
 */
class OldJavaClientsIT {
    static GregorCluster gregor;
    static String bootstrap;

    @BeforeAll
    static void startBroker() throws IOException {
        gregor = GregorCluster.single().start();
        bootstrap = gregor.bootstrapServers();
    }

    @AfterAll
    static void stopBroker() {
        if (gregor != null) {
            gregor.close();
        }
    }

    @ParameterizedTest(name = "kafka-clients {0} with {1}")
    @CsvSource({"0.9.0.1,snappy", "0.10.0.1,lz4", "0.10.2.2,gzip", "2.0.1,lz4"})
    void anOldJavaClientProducesConsumesInAGroupCommitsAndResumes(String version, String codec) throws Exception {
        String topic = "java-" + version;
        String group = "java-group-" + version;
        List<String> first = IntStream.range(0, 10).mapToObj(i -> version + "-" + i).toList();
        List<String> second = IntStream.range(10, 15).mapToObj(i -> version + "-" + i).toList();
        try (OldJavaClient client = OldJavaClient.of(version)) {
            client.produce(bootstrap, topic, codec, first);
            List<OldJavaClient.Consumed> read = client.consume(bootstrap, topic, group, 10, Duration.ofSeconds(60));
            assertThat(read).extracting(OldJavaClient.Consumed::value).containsExactlyElementsOf(first);
            assertThat(read).extracting(OldJavaClient.Consumed::offset).containsExactly(0L, 1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L);
            assertThat(read.get(3).key()).isEqualTo("key-3");
            client.produce(bootstrap, topic, codec, second);
            List<OldJavaClient.Consumed> resumed = client.consume(bootstrap, topic, group, 5, Duration.ofSeconds(60));
            assertThat(resumed).as("resumes after its commit").extracting(OldJavaClient.Consumed::offset)
                    .containsExactly(10L, 11L, 12L, 13L, 14L);
        }
        List<String> all = new ArrayList<>(first);
        all.addAll(second);
        assertThat(readWith42(topic, 15)).extracting(ConsumerRecord::value).containsExactlyElementsOf(all);

        Subprocess.Result kcat = Subprocess.run(List.of("kcat", "-b", bootstrap, "-C", "-t", topic, "-e", "-f", "%k=%s\\n"),
                null, 60).assertOk();
        assertThat(kcat.stdout().lines().toList()).hasSize(15).startsWith("key-0=" + version + "-0").endsWith("key-4=" + version + "-14");

        Subprocess.Result console = Subprocess.kafkaTool("org.apache.kafka.tools.consumer.ConsoleConsumer", null,
                "--bootstrap-server", bootstrap, "--topic", topic, "--from-beginning", "--max-messages", "15",
                "--formatter-property", "print.key=true", "--timeout-ms", "30000");
        assertThat(console.stdout().lines().toList()).hasSize(15).contains("key-0\t" + version + "-0", "key-4\t" + version + "-14");
    }

    @Test
    void the010ConsumerReads42RecordsOfEveryCodecWithHeaders() throws Exception {
        try (OldJavaClient client = OldJavaClient.of("0.10.2.2")) {
            for (String codec : List.of("none", "gzip", "snappy", "lz4")) {
                String topic = "java-from-42-" + codec;
                Properties props = new Properties();
                props.put("bootstrap.servers", bootstrap);
                props.put("compression.type", codec);
                try (KafkaProducer<String, String> producer = new KafkaProducer<>(props, new StringSerializer(), new StringSerializer())) {
                    for (int i = 0; i < 8; i++) {
                        var record = new ProducerRecord<>(topic, 0, "k" + i, "v" + i);
                        record.headers().add(new RecordHeader("h", new byte[] {(byte) i}));
                        producer.send(record);
                    }
                    producer.flush();
                }
                List<OldJavaClient.Consumed> read = client.consume(bootstrap, topic, "java-from-42", 8, Duration.ofSeconds(60));
                assertThat(read).as(codec).extracting(OldJavaClient.Consumed::value)
                        .containsExactly("v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7");
                assertThat(read).extracting(OldJavaClient.Consumed::key).startsWith("k0").endsWith("k7");
            }
        }
    }

    @ParameterizedTest(name = "kafka-clients {0}, {1}")
    @CsvSource({"0.9.0.1,none", "0.10.2.2,lz4"})
    void oldConsumersReadAnswersConvertedInManyChunksWhole(String version, String codec) throws Exception {
        // 4 MiB of 1 KiB records: every fetch is converted in several chunks, cut at its size and filled after.
        int count = 4000;
        String topic = "java-chunked-" + version;
        Properties props = new Properties();
        props.put("bootstrap.servers", bootstrap);
        props.put("compression.type", codec);
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(props, new StringSerializer(), new StringSerializer())) {
            for (int i = 0; i < count; i++) {
                producer.send(new ProducerRecord<>(topic, 0, "k" + i, String.format("%06d", i) + "x".repeat(1018)));
            }
            producer.flush();
        }
        try (OldJavaClient client = OldJavaClient.of(version)) {
            List<OldJavaClient.Consumed> read = client.consume(bootstrap, topic, "java-chunked-" + version, count, Duration.ofSeconds(60));
            assertThat(read).hasSize(count);
            for (int i = 0; i < count; i++) {
                assertThat(read.get(i).offset()).isEqualTo(i);
                assertThat(read.get(i).value()).hasSize(1024).startsWith(String.format("%06d", i));
            }
        }
    }

    private static List<ConsumerRecord<String, String>> readWith42(String topic, int expected) {
        return ReadBack.partition(bootstrap, topic, 0, expected);
    }
}
