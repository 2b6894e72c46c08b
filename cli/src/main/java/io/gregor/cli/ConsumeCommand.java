package io.gregor.cli;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code gregor consume TOPIC}: reads with an assigned (group-less) consumer and prints one value per line (UTF-8).
 * Starts at the end unless told otherwise; stops after {@code -n} records, after {@code --timeout-ms} without a
 * record, or on Ctrl-C.
 */
@Command(
        name = "consume",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = "Print records of a topic, one value per line (no consumer group; offsets are not committed).")
final class ConsumeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ClientOptions client;

    @Parameters(index = "0", paramLabel = "TOPIC", description = "Topic to read.")
    String topic;

    @ArgGroup(exclusive = true, multiplicity = "0..1")
    StartPosition start;

    static final class StartPosition {
        @Option(names = "--from-beginning", description = "Start at the earliest offset (default: only new records).")
        boolean fromBeginning;

        @Option(names = "--offset", paramLabel = "N", description = "Start at offset N in each partition read.")
        Long offset;

        @Option(
                names = "--from-time",
                paramLabel = "TIME",
                converter = TimestampConverter.class,
                description = "Start at the first record at or after TIME (ISO-8601 or epoch ms).")
        Long fromTimeMs;
    }

    @Option(names = {"-n", "--max-records"}, paramLabel = "N", description = "Stop after N records.")
    Long maxRecords;

    @Option(names = {"-p", "--partition"}, paramLabel = "P", description = "Read only partition P (default: all).")
    Integer partition;

    @Option(names = {"-K", "--print-key"}, description = "Print KEY<TAB>VALUE.")
    boolean printKey;

    @Option(
            names = {"-t", "--timeout-ms"},
            paramLabel = "MS",
            description = "Stop after MS milliseconds without a record (default: wait forever).")
    Long timeoutMs;

    @Override
    public Integer call() throws Exception {
        validate();
        Properties props = consumerProperties();
        client.connectable(props);
        PrintWriter out = spec.commandLine().getOut();
        long consumed = 0;
        CountDownLatch finished = new CountDownLatch(1);
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props)) {
            Thread hook = new Thread(() -> {
                consumer.wakeup();
                try {
                    finished.await(Duration.ofSeconds(5).toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
                } catch (InterruptedException ignored) {
                    Thread.currentThread().interrupt();
                }
            }, "gregor-consume-stop");
            Runtime.getRuntime().addShutdownHook(hook);
            try {
                List<TopicPartition> partitions = assignment(consumer);
                consumer.assign(partitions);
                position(consumer, partitions);
                consumed = pollLoop(consumer, out);
            } catch (WakeupException e) {
                // Ctrl-C: print what we have and stop.
            } finally {
                out.flush();
                finished.countDown();
            }
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // already shutting down; the hook is waiting for us
            }
        }
        spec.commandLine().getErr().println(consumed + " record" + (consumed == 1 ? "" : "s") + " consumed from " + topic);
        spec.commandLine().getErr().flush();
        return GregorCli.EXIT_OK;
    }

    private void validate() {
        if (maxRecords != null && maxRecords < 1) {
            throw new ParameterException(spec.commandLine(), "-n must be at least 1");
        }
        if (timeoutMs != null && timeoutMs < 1) {
            throw new ParameterException(spec.commandLine(), "--timeout-ms must be at least 1");
        }
        if (partition != null && partition < 0) {
            throw new ParameterException(spec.commandLine(), "--partition must not be negative");
        }
        if (start != null && start.offset != null && start.offset < 0) {
            throw new ParameterException(spec.commandLine(), "--offset must not be negative");
        }
    }

    private List<TopicPartition> assignment(KafkaConsumer<byte[], byte[]> consumer) {
        List<PartitionInfo> infos = consumer.partitionsFor(topic);
        if (infos == null || infos.isEmpty()) {
            throw new CliException("Topic '" + topic + "' does not exist.");
        }
        List<TopicPartition> all = infos.stream()
                .map(p -> new TopicPartition(p.topic(), p.partition()))
                .sorted(java.util.Comparator.comparingInt(TopicPartition::partition))
                .toList();
        if (partition == null) {
            return all;
        }
        if (partition >= all.size()) {
            throw new CliException("Topic '" + topic + "' has " + all.size() + " partition" + (all.size() == 1 ? "" : "s")
                    + "; there is no partition " + partition + ".");
        }
        return List.of(new TopicPartition(topic, partition));
    }

    private void position(KafkaConsumer<byte[], byte[]> consumer, List<TopicPartition> partitions) {
        if (start == null) {
            consumer.seekToEnd(partitions);
        } else if (start.fromBeginning) {
            consumer.seekToBeginning(partitions);
        } else if (start.offset != null) {
            partitions.forEach(tp -> consumer.seek(tp, start.offset));
        } else {
            Map<TopicPartition, Long> query = new HashMap<>();
            partitions.forEach(tp -> query.put(tp, start.fromTimeMs));
            Map<TopicPartition, OffsetAndTimestamp> found = consumer.offsetsForTimes(query);
            for (TopicPartition tp : partitions) {
                OffsetAndTimestamp at = found.get(tp);
                if (at == null) {
                    consumer.seekToEnd(List.of(tp));
                } else {
                    consumer.seek(tp, at.offset());
                }
            }
        }
        // Resolve lazy seeks now, so records produced from here on are not missed.
        partitions.forEach(consumer::position);
    }

    private long pollLoop(KafkaConsumer<byte[], byte[]> consumer, PrintWriter out) {
        long consumed = 0;
        long lastRecordNanos = System.nanoTime();
        StringBuilder line = new StringBuilder();
        while (maxRecords == null || consumed < maxRecords) {
            long waitMs = 500;
            if (timeoutMs != null) {
                long idleMs = (System.nanoTime() - lastRecordNanos) / 1_000_000;
                if (idleMs >= timeoutMs) {
                    break;
                }
                waitMs = Math.min(waitMs, timeoutMs - idleMs);
            }
            ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(waitMs));
            if (records.isEmpty()) {
                continue;
            }
            lastRecordNanos = System.nanoTime();
            for (ConsumerRecord<byte[], byte[]> record : records) {
                line.setLength(0);
                if (printKey) {
                    line.append(text(record.key())).append('\t');
                }
                line.append(text(record.value())).append('\n');
                out.print(line);
                consumed++;
                if (maxRecords != null && consumed >= maxRecords) {
                    break;
                }
            }
            out.flush();
        }
        return consumed;
    }

    private static String text(byte[] bytes) {
        return bytes == null ? "" : new String(bytes, StandardCharsets.UTF_8);
    }

    Properties consumerProperties() {
        Properties props = client.baseProperties();
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        // Reading must never create a topic as a side effect.
        props.putIfAbsent(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, "false");
        props.putIfAbsent(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.remove(ConsumerConfig.GROUP_ID_CONFIG);
        return props;
    }
}
