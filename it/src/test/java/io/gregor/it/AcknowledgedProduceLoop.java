package io.gregor.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.IntFunction;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The produce side of the crash tests: acks=all records sent in a loop until a random moment, then a fault (kill -9,
 * a power cut) while the producer is still sending. The fault window opens only once the round has an acknowledged
 * record, so no round can pass with nothing to check; a node that acknowledges nothing within 30 s fails the test.
 */
final class AcknowledgedProduceLoop {

    /** The fault; it runs while records are still in flight. */
    @FunctionalInterface
    interface Fault {
        void strike() throws Exception;
    }

    private AcknowledgedProduceLoop() {
    }

    /**
     * Sends {@code records.apply(i)} for i = 0, 1, ... until {@code minMs} plus a random part of {@code spreadMs} have
     * passed since the first acknowledgement, then strikes; {@code onAcknowledged} sees every record the broker
     * acknowledged. Returns how many it acknowledged in this round (at least one).
     */
    static int run(String bootstrap, String round, long minMs, long spreadMs, IntFunction<ProducerRecord<String, String>> records,
                   Consumer<ProducerRecord<String, String>> onAcknowledged, Fault fault) throws Exception {
        Properties props = new Properties();
        props.put("bootstrap.servers", bootstrap);
        props.put("acks", "all");
        props.put("linger.ms", "2");
        props.put("delivery.timeout.ms", "5000");
        props.put("request.timeout.ms", "3000");
        // No retries: a request that timed out after its append was retried and stored the record twice (CI, a loaded
        // machine on LazyFS), and the broker de-duplicates idempotent producers only with issue 10. What is counted
        // is what the broker acknowledged; that each of those is stored exactly once is still checked.
        props.put("enable.idempotence", "false");
        props.put("retries", "0");
        props.put("max.block.ms", "3000");
        long windowNanos = TimeUnit.MILLISECONDS.toNanos(minMs + ThreadLocalRandom.current().nextLong(spreadMs));
        AtomicInteger acknowledged = new AtomicInteger();
        KafkaProducer<String, String> producer = new KafkaProducer<>(props, new StringSerializer(), new StringSerializer());
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            long windowStart = -1;
            int i = 0;
            while (windowStart < 0 || System.nanoTime() - windowStart < windowNanos) {
                if (windowStart < 0 && acknowledged.get() > 0) {
                    windowStart = System.nanoTime();
                }
                assertThat(System.nanoTime()).as("an acknowledgement in %s", round).isLessThan(deadline);
                ProducerRecord<String, String> record = records.apply(i++);
                producer.send(record, (metadata, error) -> {
                    if (error == null) {
                        onAcknowledged.accept(record);
                        acknowledged.incrementAndGet();
                    }
                });
                if (i % 200 == 0) {
                    Thread.sleep(1);
                }
            }
            fault.strike();
            assertThat(acknowledged.get()).as("records acknowledged in %s", round).isPositive();
            return acknowledged.get();
        } finally {
            producer.close(Duration.ZERO);
        }
    }
}
