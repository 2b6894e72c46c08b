import java.time.Duration;
import java.util.*;
import org.apache.kafka.clients.admin.*;
import org.apache.kafka.clients.consumer.*;
import org.apache.kafka.clients.producer.*;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.*;

public class GroupsFixture {
    public static void main(String[] a) throws Exception {
        String bs = a[0];
        Properties ap = new Properties(); ap.put("bootstrap.servers", bs);
        try (Admin admin = Admin.create(ap)) {
            admin.createTopics(List.of(new NewTopic("orders", 3, (short) 1))).all().get();
            Properties pp = new Properties(); pp.put("bootstrap.servers", bs);
            try (var p = new KafkaProducer<String, String>(pp, new StringSerializer(), new StringSerializer())) {
                for (int i = 0; i < 30; i++) p.send(new ProducerRecord<>("orders", i % 3, "k" + i, "v" + i)).get();
            }
            admin.alterConsumerGroupOffsets("legacy-admin", Map.of(new TopicPartition("orders", 0), new OffsetAndMetadata(7, "admin-set"))).all().get();
        }
        for (String protocol : List.of("classic", "consumer")) {
            Properties cp = new Properties(); cp.put("bootstrap.servers", bs); cp.put("group.id", "legacy-" + protocol);
            cp.put("group.protocol", protocol); cp.put("auto.offset.reset", "earliest"); cp.put("enable.auto.commit", "false");
            var c = new KafkaConsumer<String, String>(cp, new StringDeserializer(), new StringDeserializer());
            c.subscribe(List.of("orders"));
            int n = 0; long end = System.currentTimeMillis() + 30000;
            while (n < 30 && System.currentTimeMillis() < end) n += c.poll(Duration.ofMillis(200)).count();
            // Commit a known position per partition: 4, 5, 6 (classic) / 8, 9, 10 (consumer).
            int base = protocol.equals("classic") ? 4 : 8;
            Map<TopicPartition, OffsetAndMetadata> commits = new HashMap<>();
            for (int p = 0; p < 3; p++) commits.put(new TopicPartition("orders", p), new OffsetAndMetadata(base + p, protocol + "-meta"));
            c.commitSync(commits);
            System.out.println(protocol + " read " + n + " and committed");
            if (protocol.equals("consumer")) { c.close(); } // the classic one stays in its group until the broker stops
        }
        System.out.println("done");
        Thread.sleep(2000);
        System.exit(0);
    }
}
