package io.gregor.benchmarks;

import io.gregor.legacy.kafka.common.message.FetchRequestData;
import io.gregor.legacy.kafka.common.message.FetchResponseData;
import io.gregor.legacy.kafka.common.protocol.ByteBufferAccessor;
import io.gregor.legacy.kafka.common.protocol.ObjectSerializationCache;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.message.RequestHeaderData;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Down-conversion throughput of a broker for a Fetch v2 reader (message format v1), against any broker that serves
 * Fetch v2 (Gregor, Kafka 3.9.1 and older).
 *
 * <pre>
 * java -cp CP io.gregor.benchmarks.LegacyFetchBenchmark HOST:PORT CODEC RECORDS ROUNDS [JMX_HOST:JMX_PORT]
 * </pre>
 *
 * Writes RECORDS records of 1 KiB (half random, half repeated text, so lz4 has something to do) with a 4.2 producer
 * using CODEC, then reads the partition from offset 0 to its end ROUNDS times with Fetch v2 requests of 1 MiB
 * partition max bytes over one connection, one request in flight. Prints MiB/s of converted records received and
 * records/s per round, and the median. With a JMX address of the broker, also the broker's heap allocation per fetch
 * (all threads, {@code java.lang:type=Threading TotalThreadAllocatedBytes}).
 */
public final class LegacyFetchBenchmark {
    private static final int RECORD_BYTES = 1024;
    private static final int MAX_BYTES = 1 << 20;

    private LegacyFetchBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 4) {
            System.err.println("usage: LegacyFetchBenchmark HOST:PORT CODEC RECORDS ROUNDS [JMX_HOST:JMX_PORT]");
            System.exit(2);
        }
        String bootstrap = args[0];
        String codec = args[1];
        int records = Integer.parseInt(args[2]);
        int rounds = Integer.parseInt(args[3]);
        String topic = "legacy-fetch-bench-" + codec + "-" + System.currentTimeMillis();
        fill(bootstrap, topic, codec, records);
        String[] hostPort = bootstrap.split(":");
        MBeanServerConnection jmx = args.length > 4 ? jmx(args[4]) : null;
        double[] mibPerSecond = new double[rounds];
        try (Socket socket = new Socket(hostPort[0], Integer.parseInt(hostPort[1]))) {
            socket.setTcpNoDelay(true);
            for (int round = 0; round < rounds; round++) {
                long allocatedBefore = jmx == null ? 0 : allocated(jmx);
                long start = System.nanoTime();
                long offset = 0;
                long bytes = 0;
                int fetches = 0;
                while (offset < records) {
                    FetchResponseData.PartitionData data = fetch(socket, topic, offset);
                    if (data.errorCode() != 0) {
                        throw new IllegalStateException("fetch error " + data.errorCode() + " at offset " + offset);
                    }
                    var set = (io.gregor.legacy.kafka.common.record.MemoryRecords) data.records();
                    long last = -1;
                    for (var batch : set.batches()) {
                        if (batch.magic() != 1) {
                            throw new IllegalStateException("expected message format v1, got v" + batch.magic());
                        }
                        last = batch.lastOffset();
                    }
                    if (last < offset) {
                        throw new IllegalStateException("no progress at offset " + offset);
                    }
                    bytes += set.sizeInBytes();
                    offset = last + 1;
                    fetches++;
                }
                double seconds = (System.nanoTime() - start) / 1e9;
                mibPerSecond[round] = bytes / seconds / (1 << 20);
                String memory = jmx == null ? "" : String.format(", broker allocated %.1f KiB per fetch",
                        (allocated(jmx) - allocatedBefore) / 1024.0 / fetches);
                System.out.printf("round %d: %.1f MiB/s, %.0f records/s, %d fetches%s%n", round + 1, mibPerSecond[round],
                        records / seconds, fetches, memory);
            }
        }
        double[] sorted = mibPerSecond.clone();
        Arrays.sort(sorted);
        System.out.printf("median: %.1f MiB/s (%s, %d records of %d bytes, Fetch v2)%n", sorted[rounds / 2], codec, records,
                RECORD_BYTES);
    }

    private static void fill(String bootstrap, String topic, String codec, int records) throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get();
        }
        Properties props = new Properties();
        props.put("bootstrap.servers", bootstrap);
        props.put("compression.type", codec);
        props.put("linger.ms", "5");
        props.put("batch.size", "65536");
        Random random = new Random(1);
        byte[] text = "the quick brown fox jumps over the lazy dog ".repeat(20).getBytes(StandardCharsets.US_ASCII);
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
            for (int i = 0; i < records; i++) {
                byte[] value = new byte[RECORD_BYTES];
                random.nextBytes(value);
                System.arraycopy(text, 0, value, 0, RECORD_BYTES / 2);
                producer.send(new ProducerRecord<>(topic, 0, ("k" + i).getBytes(StandardCharsets.US_ASCII), value));
            }
            producer.flush();
        }
    }

    private static int correlationId;

    private static FetchResponseData.PartitionData fetch(Socket socket, String topic, long offset) throws IOException {
        var request = new FetchRequestData().setReplicaId(-1).setMaxWaitMs(0).setMinBytes(0);
        var fetchTopic = new FetchRequestData.FetchTopic().setTopic(topic);
        fetchTopic.partitions().add(new FetchRequestData.FetchPartition().setPartition(0).setFetchOffset(offset)
                .setPartitionMaxBytes(MAX_BYTES));
        request.topics().add(fetchTopic);
        short version = 2;
        int id = ++correlationId;
        RequestHeaderData header = new RequestHeaderData().setRequestApiKey((short) 1).setRequestApiVersion(version)
                .setCorrelationId(id).setClientId("legacy-fetch-bench");
        var cache = new org.apache.kafka.common.protocol.ObjectSerializationCache();
        int headerSize = header.size(cache, (short) 1);
        ObjectSerializationCache legacyCache = new ObjectSerializationCache();
        int bodySize = request.size(legacyCache, version);
        ByteBuffer buffer = ByteBuffer.allocate(4 + headerSize + bodySize);
        buffer.putInt(headerSize + bodySize);
        header.write(new org.apache.kafka.common.protocol.ByteBufferAccessor(buffer), cache, (short) 1);
        request.write(new ByteBufferAccessor(buffer), legacyCache, version);
        OutputStream out = socket.getOutputStream();
        out.write(buffer.array());
        out.flush();
        DataInputStream in = new DataInputStream(socket.getInputStream());
        byte[] frame = new byte[in.readInt()];
        in.readFully(frame);
        ByteBuffer response = ByteBuffer.wrap(frame);
        if (response.getInt() != id) {
            throw new IOException("correlation id mismatch");
        }
        FetchResponseData data = new FetchResponseData();
        data.read(new ByteBufferAccessor(response), version);
        return data.responses().get(0).partitions().get(0);
    }

    private static MBeanServerConnection jmx(String address) throws IOException {
        JMXConnector connector = JMXConnectorFactory.connect(new JMXServiceURL("service:jmx:rmi:///jndi/rmi://" + address + "/jmxrmi"));
        return connector.getMBeanServerConnection();
    }

    private static long allocated(MBeanServerConnection jmx) throws Exception {
        return (Long) jmx.getAttribute(new ObjectName(ManagementFactory.THREAD_MXBEAN_NAME), "TotalThreadAllocatedBytes");
    }
}
