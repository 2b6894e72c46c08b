package io.gregor.benchmarks;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Fetch throughput of one assign-mode consumer (no consumer group), for brokers compared before group support:
 * reads every partition of a topic from the beginning to its end offset and prints MiB/s.
 *
 * <pre>java -cp ... io.gregor.benchmarks.AssignConsumeThroughput BOOTSTRAP TOPIC PARTITIONS [ROUNDS]</pre>
 */
public final class AssignConsumeThroughput {
    private AssignConsumeThroughput() {
    }

    public static void main(String[] args) {
        if (args.length < 3) {
            System.err.println("usage: AssignConsumeThroughput BOOTSTRAP TOPIC PARTITIONS [ROUNDS]");
            System.exit(2);
        }
        String bootstrap = args[0];
        String topic = args[1];
        int partitions = Integer.parseInt(args[2]);
        int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 1;
        Properties props = new Properties();
        props.put("bootstrap.servers", bootstrap);
        props.put("max.poll.records", "2000");
        props.put("fetch.max.bytes", String.valueOf(50 << 20));
        props.put("max.partition.fetch.bytes", String.valueOf(1 << 20));
        List<TopicPartition> tps = new ArrayList<>();
        for (int p = 0; p < partitions; p++) {
            tps.add(new TopicPartition(topic, p));
        }
        for (int round = 0; round < rounds; round++) {
            try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
                consumer.assign(tps);
                consumer.seekToBeginning(tps);
                Map<TopicPartition, Long> end = consumer.endOffsets(tps);
                long records = 0;
                long bytes = 0;
                long start = System.nanoTime();
                while (tps.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
                    for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                        records++;
                        bytes += r.serializedValueSize() + Math.max(0, r.serializedKeySize());
                    }
                }
                double seconds = (System.nanoTime() - start) / 1e9;
                System.out.printf("round=%d records=%d MiB=%.1f seconds=%.3f MiB/s=%.1f%n",
                        round, records, bytes / 1048576.0, seconds, bytes / 1048576.0 / seconds);
            }
        }
    }
}
