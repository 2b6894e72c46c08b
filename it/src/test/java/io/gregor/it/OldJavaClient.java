package io.gregor.it;

import java.io.IOException;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * An old kafka-clients release (0.9 to 2.0, from Maven Central, copied to {@code target/old-clients} by the build) in
 * a class loader of its own, so that it runs beside kafka-clients 4.2 in the test JVM. It is driven by reflection
 * through the API those releases share: {@code KafkaProducer(Properties)}, {@code send(ProducerRecord)},
 * {@code KafkaConsumer(Properties)}, {@code subscribe}, {@code poll(long)}, {@code commitSync()}.
 */
final class OldJavaClient implements AutoCloseable {
    private final String version;
    private final URLClassLoader loader;

    private OldJavaClient(String version, URLClassLoader loader) {
        this.version = version;
        this.loader = loader;
    }

    static OldJavaClient of(String version) throws IOException {
        Path base = Path.of("target", "old-clients");
        List<URL> urls = new ArrayList<>();
        for (Path folder : List.of(base.resolve(version), base.resolve("common"))) {
            if (!Files.isDirectory(folder)) {
                throw new IllegalStateException(folder + " is missing: the build copies it in pre-integration-test");
            }
            try (Stream<Path> jars = Files.list(folder)) {
                for (Path jar : jars.filter(p -> p.toString().endsWith(".jar")).toList()) {
                    urls.add(jar.toUri().toURL());
                }
            }
        }
        // Parent: the platform loader, so that none of the test's own Kafka, SLF4J or Netty classes are visible.
        return new OldJavaClient(version, new URLClassLoader("kafka-clients-" + version, urls.toArray(URL[]::new),
                ClassLoader.getPlatformClassLoader()));
    }

    String version() {
        return version;
    }

    /** Sends {@code values} (keys "key-i") with acks=all and waits for every acknowledgement. */
    void produce(String bootstrap, String topic, String compression, List<String> values) throws Exception {
        Properties props = producerProps(bootstrap, "producer");
        props.put("acks", "all");
        props.put("compression.type", compression);
        withLoader(() -> {
            Object producer = loader.loadClass("org.apache.kafka.clients.producer.KafkaProducer")
                    .getConstructor(Properties.class).newInstance(props);
            try {
                Class<?> recordClass = loader.loadClass("org.apache.kafka.clients.producer.ProducerRecord");
                Method send = producer.getClass().getMethod("send", recordClass);
                List<Future<?>> sent = new ArrayList<>();
                for (int i = 0; i < values.size(); i++) {
                    Object record = recordClass.getConstructor(String.class, Object.class, Object.class)
                            .newInstance(topic, "key-" + i, values.get(i));
                    sent.add((Future<?>) send.invoke(producer, record));
                }
                for (Future<?> f : sent) {
                    f.get(30, TimeUnit.SECONDS);
                }
            } finally {
                producer.getClass().getMethod("close").invoke(producer);
            }
            return null;
        });
    }

    /**
     * A transactional producer with {@code transactionalId}: {@code transactions} transactions of the given values
     * each (to partition i % 2 of {@code topic}), committed when {@code commit} says so for its index, else aborted.
     */
    void produceInTransactions(String bootstrap, String topic, String transactionalId, List<List<String>> transactions,
                               java.util.function.IntPredicate commit) throws Exception {
        Properties props = producerProps(bootstrap, "transactional");
        props.put("transactional.id", transactionalId);
        props.put("transaction.timeout.ms", "30000");
        withLoader(() -> {
            Object producer = loader.loadClass("org.apache.kafka.clients.producer.KafkaProducer")
                    .getConstructor(Properties.class).newInstance(props);
            try {
                Class<?> recordClass = loader.loadClass("org.apache.kafka.clients.producer.ProducerRecord");
                Method send = producer.getClass().getMethod("send", recordClass);
                call(producer, "initTransactions");
                for (int t = 0; t < transactions.size(); t++) {
                    call(producer, "beginTransaction");
                    List<String> values = transactions.get(t);
                    for (int i = 0; i < values.size(); i++) {
                        Object record = recordClass.getConstructor(String.class, Integer.class, Object.class, Object.class)
                                .newInstance(topic, i % 2, "key-" + i, values.get(i));
                        send.invoke(producer, record);
                    }
                    call(producer, commit.test(t) ? "commitTransaction" : "abortTransaction");
                }
            } finally {
                producer.getClass().getMethod("close").invoke(producer);
            }
            return null;
        });
    }

    /** A producer's settings with String keys and values and client id "java-VERSION-{@code role}". */
    private Properties producerProps(String bootstrap, String role) {
        Properties props = new Properties();
        props.put("bootstrap.servers", bootstrap);
        props.put("client.id", "java-" + version + "-" + role);
        props.put("key.serializer", "org.apache.kafka.common.serialization.StringSerializer");
        props.put("value.serializer", "org.apache.kafka.common.serialization.StringSerializer");
        return props;
    }

    /** A consumed record: offset, key and value. */
    record Consumed(long offset, String key, String value) {
    }

    /**
     * Subscribes as a member of {@code group}, polls until {@code expected} records arrived (or the timeout), commits
     * the positions with commitSync() and closes.
     */
    List<Consumed> consume(String bootstrap, String topic, String group, int expected, Duration timeout) throws Exception {
        Properties props = new Properties();
        props.put("bootstrap.servers", bootstrap);
        props.put("group.id", group);
        props.put("client.id", "java-" + version + "-consumer");
        props.put("auto.offset.reset", "earliest");
        props.put("enable.auto.commit", "false");
        props.put("session.timeout.ms", "10000");
        props.put("heartbeat.interval.ms", "1000");
        props.put("key.deserializer", "org.apache.kafka.common.serialization.StringDeserializer");
        props.put("value.deserializer", "org.apache.kafka.common.serialization.StringDeserializer");
        return withLoader(() -> {
            Object consumer = loader.loadClass("org.apache.kafka.clients.consumer.KafkaConsumer")
                    .getConstructor(Properties.class).newInstance(props);
            List<Consumed> records = new ArrayList<>();
            try {
                subscribeMethod(consumer).invoke(consumer, List.of(topic));
                Method poll = consumer.getClass().getMethod("poll", long.class);
                long deadline = System.nanoTime() + timeout.toNanos();
                while (records.size() < expected && System.nanoTime() < deadline) {
                    for (Object r : (Iterable<?>) poll.invoke(consumer, 200L)) {
                        records.add(new Consumed((Long) call(r, "offset"), (String) call(r, "key"), (String) call(r, "value")));
                    }
                }
                consumer.getClass().getMethod("commitSync").invoke(consumer);
            } finally {
                consumer.getClass().getMethod("close").invoke(consumer);
            }
            return records;
        });
    }

    /** subscribe(List) in 0.9, subscribe(Collection) later. */
    private static Method subscribeMethod(Object consumer) throws NoSuchMethodException {
        try {
            return consumer.getClass().getMethod("subscribe", Collection.class);
        } catch (NoSuchMethodException e) {
            return consumer.getClass().getMethod("subscribe", List.class);
        }
    }

    private static Object call(Object target, String method) throws ReflectiveOperationException {
        return target.getClass().getMethod(method).invoke(target);
    }

    private interface Action<T> {
        T run() throws Exception;
    }

    /** Runs with the old client's loader as context loader: it loads serializers by class name through it. */
    private <T> T withLoader(Action<T> action) throws Exception {
        Thread thread = Thread.currentThread();
        ClassLoader previous = thread.getContextClassLoader();
        thread.setContextClassLoader(loader);
        try {
            return action.run();
        } catch (java.lang.reflect.InvocationTargetException e) {
            throw e.getCause() instanceof Exception cause ? cause : e;
        } finally {
            thread.setContextClassLoader(previous);
        }
    }

    @Override
    public void close() throws IOException {
        loader.close();
    }
}
