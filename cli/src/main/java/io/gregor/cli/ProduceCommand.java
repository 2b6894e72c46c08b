package io.gregor.cli;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code gregor produce TOPIC}: one record per line of standard input (UTF-8). With {@code --key-separator}, the text
 * before the first separator is the key; a line without the separator is a record without a key.
 */
@Command(
        name = "produce",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = "Produce lines from standard input, one record per line.")
final class ProduceCommand implements Callable<Integer> {
    enum Acks {
        all("all"),
        one("1"),
        zero("0");

        final String config;

        Acks(String config) {
            this.config = config;
        }

        static Acks parse(String s) {
            return switch (s.trim().toLowerCase(java.util.Locale.ROOT)) {
                case "all", "-1" -> all;
                case "1" -> one;
                case "0" -> zero;
                default -> throw new IllegalArgumentException("expected all, 1 or 0");
            };
        }
    }

    enum Compression {
        none,
        gzip,
        snappy,
        lz4,
        zstd
    }

    @Spec
    CommandSpec spec;

    @Mixin
    ClientOptions client;

    @Parameters(index = "0", paramLabel = "TOPIC", description = "Topic to write to.")
    String topic;

    @Option(names = {"-k", "--key-separator"}, paramLabel = "SEP", description = "Split each line into key SEP value.")
    String keySeparator;

    @Option(names = {"-p", "--partition"}, paramLabel = "N", description = "Write to this partition (default: by key).")
    Integer partition;

    @Option(
            names = "--acks",
            paramLabel = "all|1|0",
            defaultValue = "all",
            converter = AcksConverter.class,
            description = "Acknowledgements to wait for (default: ${DEFAULT-VALUE}).")
    Acks acks = Acks.all;

    @Option(
            names = {"-z", "--compression"},
            paramLabel = "CODEC",
            defaultValue = "none",
            description = "Compression: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
    Compression compression = Compression.none;

    /** Standard input; tests substitute their own. */
    InputStream in = System.in;

    static final class AcksConverter implements picocli.CommandLine.ITypeConverter<Acks> {
        @Override
        public Acks convert(String value) {
            try {
                return Acks.parse(value);
            } catch (IllegalArgumentException e) {
                throw new picocli.CommandLine.TypeConversionException("'" + value + "' is not all, 1 or 0");
            }
        }
    }

    @Override
    public Integer call() throws Exception {
        if (keySeparator != null && keySeparator.isEmpty()) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--key-separator must not be empty");
        }
        if (partition != null && partition < 0) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--partition must not be negative");
        }
        Properties props = producerProperties();
        client.connectable(props);
        AtomicLong acked = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        AtomicReference<Exception> firstError = new AtomicReference<>();
        long sent = 0;
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props);
                BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            String line;
            while ((line = reader.readLine()) != null && firstError.get() == null) {
                producer.send(toRecord(line), (metadata, error) -> {
                    if (error == null) {
                        acked.incrementAndGet();
                    } else {
                        failed.incrementAndGet();
                        firstError.compareAndSet(null, error);
                    }
                });
                sent++;
            }
            producer.flush();
            producer.close(Duration.ofSeconds(10));
        }
        var err = spec.commandLine().getErr();
        if (firstError.get() != null) {
            throw new CliException(acked.get() + " of " + sent + " records produced to " + topic + "; first failure: "
                    + GregorCli.describe(firstError.get()), firstError.get());
        }
        err.println(acked.get() + " record" + (acked.get() == 1 ? "" : "s") + " produced to " + topic);
        err.flush();
        return GregorCli.EXIT_OK;
    }

    ProducerRecord<byte[], byte[]> toRecord(String line) {
        byte[] key = null;
        String value = line;
        if (keySeparator != null) {
            int at = line.indexOf(keySeparator);
            if (at >= 0) {
                key = line.substring(0, at).getBytes(StandardCharsets.UTF_8);
                value = line.substring(at + keySeparator.length());
            }
        }
        return new ProducerRecord<>(topic, partition, key, value.getBytes(StandardCharsets.UTF_8));
    }

    Properties producerProperties() {
        Properties props = client.baseProperties();
        props.putIfAbsent(ProducerConfig.LINGER_MS_CONFIG, "5");
        props.putIfAbsent(ProducerConfig.MAX_BLOCK_MS_CONFIG, ClientOptions.API_TIMEOUT_MS);
        props.putIfAbsent(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "30000");
        props.put(ProducerConfig.ACKS_CONFIG, acks.config);
        if (acks != Acks.all) {
            // Idempotence needs acks=all; Kafka would refuse the combination rather than turn it off.
            props.putIfAbsent(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "false");
        }
        props.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, compression.name());
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        return props;
    }
}
