package io.gregor.metadata;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gregor.metadata.MetadataRecord.BrokerConfigsSet;
import io.gregor.metadata.MetadataRecord.ClusterIdSet;
import io.gregor.metadata.MetadataRecord.PartitionsAdded;
import io.gregor.metadata.MetadataRecord.ProducerIdsAllocated;
import io.gregor.metadata.MetadataRecord.TopicConfigsSet;
import io.gregor.metadata.MetadataRecord.TopicCreated;
import io.gregor.metadata.MetadataRecord.TopicDeleted;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.Uuid;
import org.junit.jupiter.api.Test;

/** Metadata entries: written in the versioned format, read in it and in the first release's format. */
class MetadataRecordTest {
    private static final Uuid ID = Uuid.fromString("hFjnIaTkRCKXDmAoaIn1Yg");
    private static final Map<String, String> CONFIGS = new LinkedHashMap<>(Map.of("cleanup.policy", "compact"));

    private static List<MetadataRecord> everyType() {
        return List.of(new TopicCreated("orders", ID, 3, CONFIGS), new TopicDeleted(ID), new PartitionsAdded(ID, 7),
                new TopicConfigsSet(ID, Map.of("retention.ms", "-1", "segment.bytes", "1048576")),
                new BrokerConfigsSet(Map.of()),
                new MetadataRecord.NodeConfigsSet(2, Map.of("follower.replication.throttled.rate", "1000")),
                new ProducerIdsAllocated(5000), new ClusterIdSet("c-1"),
                new MetadataRecord.BrokerRegistered(2, ID, List.of(new BrokerRegistration.Endpoint("PLAINTEXT", "10.0.0.2", 9092)),
                        "rack-a"),
                new MetadataRecord.BrokerRegistered(3, ID, List.of(), null, 17, true),
                new MetadataRecord.BrokerFenceChanged(3, 17, false),
                new MetadataRecord.FeatureLevelSet("transaction.version", (short) 1),
                new MetadataRecord.PartitionState(ID, 2, new PartitionRegistration(List.of(2, 3, 1), List.of(2, 1), 2, 4, 9)),
                new MetadataRecord.PartitionState(ID, 3, new PartitionRegistration(List.of(4, 2, 1), List.of(2, 1), 2, 4, 9,
                        List.of(4), List.of(1))));
    }

    @Test
    void aPartitionStateOfVersionZeroReadsAsOneWithoutAReassignment() {
        // Version 0 (before reassignments) laid out by hand: type, version, then its seven fields.
        ByteBuffer v0 = ByteBuffer.allocate(1 + 4 + 2 + 2 + 16 + 4 + (4 + 8) + (4 + 4) + 4 + 4 + 4);
        v0.put((byte) 1).putInt(1).putShort((short) 9).putShort((short) 0)
                .putLong(ID.getMostSignificantBits()).putLong(ID.getLeastSignificantBits()).putInt(0)
                .putInt(2).putInt(1).putInt(2).putInt(1).putInt(1).putInt(1).putInt(3).putInt(5);
        PartitionRegistration read = ((MetadataRecord.PartitionState) MetadataRecord.decode(v0.array()).get(0))
                .registration();
        assertThat(read).isEqualTo(new PartitionRegistration(List.of(1, 2), List.of(1), 1, 3, 5));
        assertThat(read.reassigning()).isFalse();
        assertThat(read.targetReplicas()).containsExactly(1, 2);
    }

    @Test
    void aFeatureLevelReplacesTheLastOneAndSurvivesASnapshot() {
        MetadataImage image = MetadataImage.EMPTY.apply(4, List.of(new MetadataRecord.FeatureLevelSet("transaction.version",
                (short) 1)));
        assertThat(image.feature("transaction.version")).isEqualTo(new MetadataImage.FeatureLevel((short) 1, 4));
        assertThat(image.feature("other")).isNull();
        image = image.apply(9, List.of(new MetadataRecord.FeatureLevelSet("transaction.version", (short) 0)));
        assertThat(image.feature("transaction.version")).isEqualTo(new MetadataImage.FeatureLevel((short) 0, 9));
        MetadataImage restored = MetadataImage.EMPTY.apply(9, MetadataRecord.decode(MetadataRecord.encode(image.toRecords())));
        assertThat(restored.feature("transaction.version").level()).isZero();
    }

    @Test
    void brokersAndPartitionRegistrationsSurviveASnapshot() {
        MetadataImage image = MetadataImage.EMPTY.apply(5, List.of(
                new MetadataRecord.BrokerRegistered(1, ID, List.of(new BrokerRegistration.Endpoint("PLAINTEXT", "h1", 1)), null),
                new TopicCreated("t", ID, 2, Map.of()),
                new MetadataRecord.PartitionState(ID, 0, PartitionRegistration.of(List.of(1))),
                new MetadataRecord.PartitionState(ID, 5, PartitionRegistration.of(List.of(1)))));
        assertThat(image.broker(1).epoch()).as("broker epoch = index of the registering entry").isEqualTo(5);
        assertThat(image.topic("t").registration(0)).isEqualTo(PartitionRegistration.of(List.of(1)));
        assertThat(image.topic("t").registrations()).as("a partition beyond the count is ignored").hasSize(1);
        MetadataImage restored = MetadataImage.EMPTY.apply(-1, MetadataRecord.decode(MetadataRecord.encode(image.toRecords())));
        assertThat(restored.brokers()).isEqualTo(image.brokers());
        assertThat(restored.topic("t")).isEqualTo(image.topic("t"));
    }

    @Test
    void everyRecordTypeRoundTripsInTheVersionedFormat() {
        byte[] entry = MetadataRecord.encode(everyType());
        assertThat(entry[0]).as("entry format").isEqualTo((byte) 1);
        assertThat(MetadataRecord.decode(entry)).isEqualTo(everyType());
        assertThat(MetadataRecord.decode(MetadataRecord.encode(List.of()))).isEmpty();
    }

    @Test
    void entriesOfTheFirstReleaseStillRead() throws IOException {
        // Format 0, byte by byte as the first release laid it out: a data directory from then replays.
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(0);
            out.writeInt(3);
            out.writeByte(1);
            out.writeUTF("orders");
            out.writeLong(ID.getMostSignificantBits());
            out.writeLong(ID.getLeastSignificantBits());
            out.writeInt(3);
            out.writeInt(1);
            out.writeUTF("cleanup.policy");
            out.writeUTF("compact");
            out.writeByte(6);
            out.writeLong(5000);
            out.writeByte(7);
            out.writeUTF("c-1");
        }
        assertThat(MetadataRecord.decode(bytes.toByteArray())).containsExactly(new TopicCreated("orders", ID, 3, CONFIGS),
                new ProducerIdsAllocated(5000), new ClusterIdSet("c-1"));
    }

    @Test
    void whatThisReleaseCannotReadIsRefusedWithAClearMessage() {
        byte[] entry = MetadataRecord.encode(List.of(new ClusterIdSet("c-1")));
        byte[] newerFormat = entry.clone();
        newerFormat[0] = 2;
        assertThatThrownBy(() -> MetadataRecord.decode(newerFormat)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("format 2");
        byte[] newerVersion = entry.clone();
        ByteBuffer.wrap(newerVersion).putShort(1 + 4 + 2, (short) 9);
        assertThatThrownBy(() -> MetadataRecord.decode(newerVersion)).hasMessageContaining("version 9");
        byte[] unknownType = entry.clone();
        ByteBuffer.wrap(unknownType).putShort(1 + 4, (short) 99);
        assertThatThrownBy(() -> MetadataRecord.decode(unknownType)).hasMessageContaining("type 99");
        byte[] truncated = java.util.Arrays.copyOf(entry, entry.length - 2);
        assertThatThrownBy(() -> MetadataRecord.decode(truncated)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> MetadataRecord.decode(new byte[0])).isInstanceOf(IllegalStateException.class);
    }
}
