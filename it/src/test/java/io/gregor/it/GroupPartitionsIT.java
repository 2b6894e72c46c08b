package io.gregor.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.gregor.testkit.Await;
import io.gregor.testkit.GregorCluster;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.GroupListing;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.GroupType;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.utils.Utils;
import org.apache.kafka.tools.consumer.GroupMetadataMessageFormatter;
import org.apache.kafka.tools.consumer.OffsetsMessageFormatter;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The group coordinator over the 50 partitions of __consumer_offsets, with clients nobody on the team wrote: the
 * Java 4.2 consumer in both protocols, kafka-python and confluent-kafka (librdkafka) each run groups that Kafka's hash
 * puts in different partitions, commit, and after a restart resume where they left off; Kafka's own formatters read
 * the topic.
 */
class GroupPartitionsIT {
    private static final String TOPIC = "events";
    private static final int RECORDS = 300;
    private static GregorCluster gregor;
    @TempDir
    static Path dir;

    @BeforeAll
    static void start() throws Exception {
        gregor = GregorCluster.single().with("group.initial.rebalance.delay.ms", "0").start();
        gregor.createTopic(TOPIC, 3);
        produce(0, RECORDS);
    }

    @AfterAll
    static void stop() {
        if (gregor != null) {
            gregor.close();
        }
    }

    private static void produce(int from, int to) throws Exception {
        try (KafkaProducer<String, String> producer = gregor.producer()) {
            for (int i = from; i < to; i++) {
                producer.send(new ProducerRecord<>(TOPIC, i % 3, "k" + i, "v" + i)).get();
            }
        }
    }

    /** {@code count} group ids whose partitions of __consumer_offsets all differ. */
    private static List<String> groupsInDistinctPartitions(String prefix, int count) {
        List<String> groups = new ArrayList<>();
        Set<Integer> used = new HashSet<>();
        for (int i = 0; groups.size() < count; i++) {
            String id = prefix + "-" + i;
            if (used.add(Utils.abs(id.hashCode()) % 50)) {
                groups.add(id);
            }
        }
        return groups;
    }

    /** Reads until {@code expected} records came, commits, and returns the values read. */
    private static List<String> javaConsume(String group, String protocol, int expected) {
        List<String> values = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = gregor.consumer("group.id", group, "group.protocol", protocol,
                "auto.offset.reset", "earliest", "enable.auto.commit", "false")) {
            consumer.subscribe(List.of(TOPIC));
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (values.size() < expected && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    values.add(r.value());
                }
            }
            consumer.commitSync();
        }
        return values;
    }

    private static String python(String program) throws Exception {
        Path file = Files.createTempFile(dir, "client", ".py");
        Files.writeString(file, program.replace("BOOTSTRAP", gregor.bootstrapServers()));
        return Subprocess.run(List.of(Subprocess.python(), file.toString()), null, 120).assertOk().stdout();
    }

    private static String kafkaPython(String group, int expected) throws Exception {
        return python("""
                from kafka import KafkaConsumer
                c = KafkaConsumer('events', bootstrap_servers='BOOTSTRAP', group_id='GROUP', auto_offset_reset='earliest',
                                  enable_auto_commit=False, consumer_timeout_ms=20000)
                n = 0
                for m in c:
                    n += 1
                    if n == EXPECTED:
                        break
                c.commit()
                c.close()
                print('read', n)
                """.replace("GROUP", group).replace("EXPECTED", String.valueOf(expected)));
    }

    private static String confluent(String group, int expected) throws Exception {
        return python("""
                from confluent_kafka import Consumer
                import time
                c = Consumer({'bootstrap.servers': 'BOOTSTRAP', 'group.id': 'GROUP', 'auto.offset.reset': 'earliest',
                              'enable.auto.commit': False})
                c.subscribe(['events'])
                n = 0
                deadline = time.time() + 60
                while n < EXPECTED and time.time() < deadline:
                    m = c.poll(0.5)
                    if m is not None and m.error() is None:
                        n += 1
                c.commit(asynchronous=False)
                c.close()
                print('read', n)
                """.replace("GROUP", group).replace("EXPECTED", String.valueOf(expected)));
    }

    private static long committedTotal(String group) throws Exception {
        Map<TopicPartition, OffsetAndMetadata> offsets = gregor.admin().listConsumerGroupOffsets(group)
                .partitionsToOffsetAndMetadata().get();
        return offsets.values().stream().mapToLong(OffsetAndMetadata::offset).sum();
    }

    @Test
    @Timeout(300)
    void groupsOfEveryClientLiveInTheirOwnPartitionAndResumeAfterARestart() throws Exception {
        List<String> groups = groupsInDistinctPartitions("app", 8);
        Map<String, String> client = new HashMap<>();
        for (int i = 0; i < groups.size(); i++) {
            String group = groups.get(i);
            switch (i % 4) {
                case 0 -> {
                    client.put(group, "java-classic");
                    assertThat(javaConsume(group, "classic", RECORDS)).hasSize(RECORDS);
                }
                case 1 -> {
                    client.put(group, "java-consumer");
                    assertThat(javaConsume(group, "consumer", RECORDS)).hasSize(RECORDS);
                }
                case 2 -> {
                    client.put(group, "kafka-python");
                    assertThat(kafkaPython(group, RECORDS)).contains("read " + RECORDS);
                }
                default -> {
                    client.put(group, "confluent-kafka");
                    assertThat(confluent(group, RECORDS)).contains("read " + RECORDS);
                }
            }
            assertThat(committedTotal(group)).as("%s (%s) committed everything it read", group, client.get(group))
                    .isEqualTo(RECORDS);
        }
        Admin admin = gregor.admin();
        assertThat(admin.describeTopics(List.of("__consumer_offsets")).allTopicNames().get().get("__consumer_offsets")
                .partitions()).hasSize(50);
        Map<String, GroupListing> listed = new HashMap<>();
        admin.listGroups().all().get().forEach(g -> listed.put(g.groupId(), g));
        assertThat(listed).containsKeys(groups.toArray(String[]::new));
        assertThat(listed.get(groups.get(1)).type()).contains(GroupType.CONSUMER);
        assertThat(listed.get(groups.get(0)).type()).contains(GroupType.CLASSIC);

        // Each group's commits are in the partition Kafka's hash names, in records Kafka's own formatters read.
        for (String group : groups) {
            int partition = Utils.abs(group.hashCode()) % 50;
            String formatted = formatPartition(partition);
            assertThat(formatted).as("partition %d formatted by Kafka's OffsetsMessageFormatter", partition)
                    .contains("\"group\":\"" + group + "\"").contains("\"topic\":\"" + TOPIC + "\"");
        }
        String classicGroupPartition = formatGroupMetadata(Utils.abs(groups.get(0).hashCode()) % 50);
        assertThat(classicGroupPartition).contains("\"group\":\"" + groups.get(0) + "\"").contains("\"protocolType\":\"consumer\"");

        gregor.restart();
        produce(RECORDS, RECORDS + 30);
        for (String group : groups) {
            // Every client resumes from its committed offsets: only the 30 new records come.
            switch (client.get(group)) {
                case "java-classic" -> assertThat(javaConsume(group, "classic", 30)).hasSize(30)
                        .allMatch(v -> Integer.parseInt(v.substring(1)) >= RECORDS);
                case "java-consumer" -> assertThat(javaConsume(group, "consumer", 30)).hasSize(30)
                        .allMatch(v -> Integer.parseInt(v.substring(1)) >= RECORDS);
                case "kafka-python" -> assertThat(kafkaPython(group, 30)).contains("read 30");
                default -> assertThat(confluent(group, 30)).contains("read 30");
            }
            assertThat(committedTotal(group)).as(group).isEqualTo(RECORDS + 30);
        }
    }

    /** The offset commits of one partition of __consumer_offsets, as Kafka's OffsetsMessageFormatter prints them. */
    private static String formatPartition(int partition) throws Exception {
        return format(partition, new OffsetsMessageFormatter());
    }

    private static String formatGroupMetadata(int partition) throws Exception {
        return format(partition, new GroupMetadataMessageFormatter());
    }

    private static String format(int partition, org.apache.kafka.common.MessageFormatter formatter) throws Exception {
        TopicPartition tp = new TopicPartition("__consumer_offsets", partition);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (PrintStream print = new PrintStream(out, true, StandardCharsets.UTF_8);
             KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of("bootstrap.servers", gregor.bootstrapServers()),
                     new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            long end = consumer.endOffsets(List.of(tp)).get(tp);
            Await.until("__consumer_offsets-" + partition + " read to its end", Duration.ofSeconds(30), () -> {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(100))) {
                    formatter.writeTo(r, print);
                }
                return consumer.position(tp) >= end;
            });
        }
        return out.toString(StandardCharsets.UTF_8);
    }
}
