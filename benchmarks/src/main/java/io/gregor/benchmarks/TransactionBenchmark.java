package io.gregor.benchmarks;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Transaction figures of any Kafka-compatible broker, for side-by-side runs. One producer writes {@code TXNS}
 * transactions of {@code RECORDS} records of {@code SIZE} bytes to a fresh topic of {@code PARTITIONS} partitions
 * (mode {@code txn}); or the same records idempotently ({@code idempotent}) or with neither ({@code plain}), flushed
 * every {@code RECORDS} records, for the cost of transactions and idempotence. Prints records/s and MB/s, and for
 * {@code txn} the latency of each commitTransaction (EndTxn until the producer may go on); then a read_committed
 * consumer reads the whole topic, timed from its first record.
 *
 * <pre>java -cp ... io.gregor.benchmarks.TransactionBenchmark BOOTSTRAP txn|idempotent|plain [TXNS=300] [RECORDS=100]
 *     [SIZE=1024] [PARTITIONS=6]</pre>
 */
public final class TransactionBenchmark {
    private TransactionBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 2 || !List.of("txn", "idempotent", "plain").contains(args[1])) {
            System.err.println("usage: TransactionBenchmark BOOTSTRAP txn|idempotent|plain [TXNS] [RECORDS] [SIZE] [PARTITIONS]");
            System.exit(2);
        }
        String bootstrap = args[0];
        String mode = args[1];
        int txns = args.length > 2 ? Integer.parseInt(args[2]) : 300;
        int records = args.length > 3 ? Integer.parseInt(args[3]) : 100;
        int size = args.length > 4 ? Integer.parseInt(args[4]) : 1024;
        int partitions = args.length > 5 ? Integer.parseInt(args[5]) : 6;
        String topic = "txn-bench-" + mode + "-" + System.currentTimeMillis();
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1))).all().get();
        }
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("acks", "all");
        p.put("linger.ms", "5");
        p.put("enable.idempotence", String.valueOf(!mode.equals("plain")));
        if (mode.equals("txn")) {
            p.put("transactional.id", "bench-" + System.nanoTime());
        }
        byte[] value = new byte[size];
        Arrays.fill(value, (byte) 'x');
        long[] commitNanos = new long[txns];
        long start;
        long end;
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
            if (mode.equals("txn")) {
                producer.initTransactions();
            }
            // One warm-up transaction (or batch) outside the figures.
            runBatch(producer, mode, topic, partitions, records, value, new long[1], 0);
            start = System.nanoTime();
            for (int t = 0; t < txns; t++) {
                runBatch(producer, mode, topic, partitions, records, value, commitNanos, t);
            }
            end = System.nanoTime();
        }
        double seconds = (end - start) / 1e9;
        long total = (long) txns * records;
        System.out.printf("mode=%s transactions=%d records=%d size=%d: %.0f records/s, %.2f MB/s%n", mode, txns, total,
                size, total / seconds, total * (double) size / seconds / 1e6);
        if (mode.equals("txn")) {
            long[] sorted = commitNanos.clone();
            Arrays.sort(sorted);
            System.out.printf("commitTransaction latency: p50 %.2f ms, p99 %.2f ms, max %.2f ms%n",
                    sorted[sorted.length / 2] / 1e6, sorted[(int) (sorted.length * 0.99)] / 1e6,
                    sorted[sorted.length - 1] / 1e6);
        }
        consume(bootstrap, topic, partitions, total + records, size);
    }

    private static void runBatch(KafkaProducer<byte[], byte[]> producer, String mode, String topic, int partitions,
                                 int records, byte[] value, long[] commitNanos, int index) {
        boolean txn = mode.equals("txn");
        if (txn) {
            producer.beginTransaction();
        }
        for (int i = 0; i < records; i++) {
            producer.send(new ProducerRecord<>(topic, i % partitions, null, value));
        }
        long before = System.nanoTime();
        if (txn) {
            producer.commitTransaction();
        } else {
            producer.flush();
        }
        commitNanos[index] = System.nanoTime() - before;
    }

    private static void consume(String bootstrap, String topic, int partitions, long expected, int size) {
        Properties c = new Properties();
        c.put("bootstrap.servers", bootstrap);
        c.put("isolation.level", "read_committed");
        c.put("max.partition.fetch.bytes", String.valueOf(1 << 20));
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> tps = new ArrayList<>();
            for (int i = 0; i < partitions; i++) {
                tps.add(new TopicPartition(topic, i));
            }
            consumer.assign(tps);
            consumer.seekToBeginning(tps);
            long read = 0;
            long first = 0;
            long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
            while (read < expected && System.nanoTime() < deadline) {
                ConsumerRecords<byte[], byte[]> batch = consumer.poll(Duration.ofMillis(500));
                if (read == 0 && !batch.isEmpty()) {
                    first = System.nanoTime();
                }
                read += batch.count();
            }
            double seconds = (System.nanoTime() - first) / 1e9;
            System.out.printf("read_committed consume: %d records in %.2f s, %.0f records/s, %.2f MB/s%n", read, seconds,
                    read / seconds, read * (double) size / seconds / 1e6);
        }
    }
}
