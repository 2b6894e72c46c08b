package io.gregor.broker.group;

import io.gregor.metadata.MetadataManager;
import io.gregor.broker.controller.TopicOperations;
import io.gregor.coordinator.group.GroupRecord;
import io.gregor.coordinator.group.LegacyGroupRecords;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.zip.CRC32;
import org.apache.kafka.common.utils.Utils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves a data directory of Gregor 0.1 (a one-partition {@code __consumer_offsets} in a format of Gregor's own) to
 * Kafka's layout: the partition count of offsets.topic.num.partitions and Kafka's record schemas, each group in the
 * partition Kafka would put it in. Runs at start, before the coordinator loads.
 *
 * <p>Crash-safe: the latest record of every key is first written to {@value #FILE} in the log directory (fsynced,
 * then renamed into place: the commit point); then the old topic is deleted, the new one created and the records
 * appended and fsynced; then the file is deleted. A start that finds the file resumes from it.
 */
public final class OffsetsTopicMigration {
    static final String FILE = "__consumer_offsets.migration";
    private static final Logger log = LoggerFactory.getLogger(OffsetsTopicMigration.class);
    private static final int MAGIC = 0x47524f4d;
    private static final int BATCH = 500;

    private OffsetsTopicMigration() {
    }

    /** What a start found and did. */
    public record Outcome(boolean migrated, long records) {
    }

    /**
     * Migrates if the topic holds records of the old format, or a migration was interrupted; otherwise does nothing.
     * Afterwards the topic exists in Kafka's layout (it is created if it did not exist).
     */
    public static Outcome migrateIfNeeded(Path logDir, MetadataManager metadata, TopicOperations topics, OffsetsTopic offsetsTopic,
                                          io.gregor.replication.ReplicaManager partitions, int numPartitions,
                                          short replicationFactor, int liveBrokers, int segmentBytes) {
        Path file = logDir.resolve(FILE);
        List<GroupRecord> records;
        try {
            if (Files.exists(file)) {
                records = readFile(file);
                log.info("Resuming the interrupted migration of {}: {} records", OffsetsTopic.TOPIC, records.size());
            } else {
                var old = metadata.image().topic(OffsetsTopic.TOPIC);
                if (old == null || !offsetsTopic.holdsLegacyRecords(0)) {
                    return new Outcome(false, 0);
                }
                long start = System.nanoTime();
                LegacyGroupRecords.Converter converter = new LegacyGroupRecords.Converter();
                long[] read = {0};
                for (int p = 0; p < old.partitions(); p++) {
                    offsetsTopic.scan(p, (offset, record) -> {
                        if (LegacyGroupRecords.isLegacy(record.key())) {
                            converter.add(record.key(), record.hasValue() ? record.value() : null);
                            read[0]++;
                        }
                    });
                }
                records = List.copyOf(converter.records());
                log.info("Migrating {} from Gregor's first layout ({} partition, {} records) to Kafka's ({} partitions, "
                                + "Kafka's record schemas): {} live records to carry over", OffsetsTopic.TOPIC, old.partitions(),
                        read[0], numPartitions, records.size());
                writeFile(file, records);
                log.info("Saved the records to carry over in {} ms", (System.nanoTime() - start) / 1_000_000);
            }
            if (metadata.image().topic(OffsetsTopic.TOPIC) != null) {
                var deleted = topics.delete(List.of(new TopicOperations.DeleteTarget(OffsetsTopic.TOPIC, null))).join();
                if (!deleted.get(0).error().isSuccess()) {
                    throw new IllegalStateException("Cannot delete the old " + OffsetsTopic.TOPIC + ": "
                            + deleted.get(0).error().message());
                }
                // The old partitions must be gone from this node before the new ones of the same name are used.
                if (!metadata.awaitImage(image -> image.topic(OffsetsTopic.TOPIC) == null, java.time.Duration.ofSeconds(60))) {
                    throw new IllegalStateException("The old " + OffsetsTopic.TOPIC + " was deleted but is still here");
                }
            }
            int count = OffsetsTopic.ensureTopic(metadata, OffsetsTopic.createWith(topics), numPartitions,
                    replicationFactor, liveBrokers, segmentBytes);
            Map<Integer, List<GroupRecord>> byPartition = new TreeMap<>();
            for (GroupRecord r : records) {
                byPartition.computeIfAbsent(Utils.abs(r.groupId().hashCode()) % count, p -> new ArrayList<>()).add(r);
            }
            List<CompletableFuture<Void>> durable = new ArrayList<>();
            byPartition.forEach((p, list) -> {
                for (int i = 0; i < list.size(); i += BATCH) {
                    durable.add(offsetsTopic.append(p, list.subList(i, Math.min(list.size(), i + BATCH))).committed());
                }
            });
            CompletableFuture.allOf(durable.toArray(CompletableFuture[]::new)).join();
            Files.delete(file);
            fsyncDir(logDir);
            log.info("Migrated {}: {} records in {} partitions", OffsetsTopic.TOPIC, records.size(), count);
            return new Outcome(true, records.size());
        } catch (IOException e) {
            throw new UncheckedIOException("Migrating " + OffsetsTopic.TOPIC + " failed", e);
        }
    }

    private static void writeFile(Path file, List<GroupRecord> records) throws IOException {
        Path tmp = file.resolveSibling(FILE + ".tmp");
        CRC32 crc = new CRC32();
        try (var out = new DataOutputStream(new java.io.BufferedOutputStream(Files.newOutputStream(tmp)))) {
            out.writeInt(MAGIC);
            out.writeInt(records.size());
            for (GroupRecord r : records) {
                byte[] key = r.keyBytes();
                byte[] value = r.valueBytes();
                out.writeInt(key.length);
                out.write(key);
                crc.update(key);
                out.writeInt(value == null ? -1 : value.length);
                if (value != null) {
                    out.write(value);
                    crc.update(value);
                }
            }
            out.writeLong(crc.getValue());
        }
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
            ch.force(true);
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
        fsyncDir(file.getParent());
    }

    private static List<GroupRecord> readFile(Path file) throws IOException {
        List<GroupRecord> records = new ArrayList<>();
        CRC32 crc = new CRC32();
        try (var in = new DataInputStream(new java.io.BufferedInputStream(Files.newInputStream(file)))) {
            if (in.readInt() != MAGIC) {
                throw new IOException(file + " is not a migration file of " + OffsetsTopic.TOPIC);
            }
            int count = in.readInt();
            for (int i = 0; i < count; i++) {
                byte[] key = new byte[in.readInt()];
                in.readFully(key);
                crc.update(key);
                int length = in.readInt();
                byte[] value = null;
                if (length >= 0) {
                    value = new byte[length];
                    in.readFully(value);
                    crc.update(value);
                }
                records.add(GroupRecord.read(ByteBuffer.wrap(key), value == null ? null : ByteBuffer.wrap(value)));
            }
            if (in.readLong() != crc.getValue()) {
                throw new IOException(file + " is damaged (checksum mismatch); it was written completely before being "
                        + "renamed into place, so the disk corrupted it");
            }
        }
        return records;
    }

    private static void fsyncDir(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }
}
