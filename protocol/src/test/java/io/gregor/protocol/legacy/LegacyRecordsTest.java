package io.gregor.protocol.legacy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.CompressionType;
import org.apache.kafka.common.record.ControlRecordType;
import org.apache.kafka.common.record.EndTransactionMarker;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.MutableRecordBatch;
import org.apache.kafka.common.record.Record;
import org.apache.kafka.common.record.RecordBatch;
import org.apache.kafka.common.record.SimpleRecord;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class LegacyRecordsTest {

    /** A v0/v1 message set as an old producer builds it, with kafka-clients 3.9.1's builder. */
    static ByteBuffer legacySet(byte magic, String codec, int count) {
        var builder = io.gregor.legacy.kafka.common.record.MemoryRecords.builder(ByteBuffer.allocate(1024), magic,
                io.gregor.legacy.kafka.common.compress.Compression.of(codec).build(),
                magic == 0 ? io.gregor.legacy.kafka.common.record.TimestampType.NO_TIMESTAMP_TYPE
                        : io.gregor.legacy.kafka.common.record.TimestampType.CREATE_TIME, 0L);
        for (int i = 0; i < count; i++) {
            builder.append(1_700_000_000_000L + i, i == 1 ? null : ("k" + i).getBytes(StandardCharsets.UTF_8),
                    ("value-" + i).getBytes(StandardCharsets.UTF_8));
        }
        return builder.build().buffer();
    }

    @ParameterizedTest
    @CsvSource({"0,none", "0,gzip", "0,snappy", "0,lz4", "1,none", "1,gzip", "1,snappy", "1,lz4"})
    void upConvertsEveryCodecKeepingKeysValuesAndV1Timestamps(byte magic, String codec) {
        ByteBuffer v2 = LegacyRecords.toCurrentFormat(legacySet(magic, codec, 5));
        List<MutableRecordBatch> batches = new ArrayList<>();
        MemoryRecords.readableRecords(v2).batches().forEach(batches::add);
        assertThat(batches).hasSize(1);
        MutableRecordBatch batch = batches.get(0);
        batch.ensureValid();
        assertThat(batch.magic()).isEqualTo(RecordBatch.MAGIC_VALUE_V2);
        assertThat(batch.compressionType()).isEqualTo(CompressionType.forName(codec));
        List<Record> records = new ArrayList<>();
        batch.forEach(records::add);
        assertThat(records).hasSize(5);
        for (int i = 0; i < 5; i++) {
            Record r = records.get(i);
            assertThat(r.offset()).isEqualTo(i);
            assertThat(r.hasKey()).isEqualTo(i != 1);
            assertThat(utf8(r.value())).isEqualTo("value-" + i);
            assertThat(r.timestamp()).isEqualTo(magic == 0 ? RecordBatch.NO_TIMESTAMP : 1_700_000_000_000L + i);
        }
    }

    @Test
    void aWrongCrcIsCorrupt() {
        ByteBuffer set = legacySet((byte) 1, "none", 2);
        set.put(set.limit() - 1, (byte) (set.get(set.limit() - 1) ^ 0x55));
        assertError(set, Errors.CORRUPT_MESSAGE);
    }

    @Test
    void aWrongCrcInsideACompressedWrapperIsCorrupt() {
        // The inner message is built by hand with a bad CRC, then wrapped in a valid gzip wrapper.
        ByteBuffer inner = legacySet((byte) 0, "none", 1);
        inner.put(inner.limit() - 1, (byte) (inner.get(inner.limit() - 1) ^ 0x55));
        ByteBuffer set = wrap((byte) 0, "gzip", inner);
        assertError(set, Errors.CORRUPT_MESSAGE);
    }

    @Test
    void aTruncatedWrapperIsCorrupt() {
        ByteBuffer set = legacySet((byte) 1, "gzip", 3);
        assertError(set.duplicate().limit(set.limit() - 7).slice(), Errors.CORRUPT_MESSAGE);
    }

    @Test
    void nestedCompressionIsAnInvalidRecord() {
        assertError(wrap((byte) 1, "gzip", legacySet((byte) 1, "snappy", 2)), Errors.INVALID_RECORD);
    }

    @Test
    void aNegativeSizeIsCorrupt() {
        ByteBuffer set = legacySet((byte) 0, "none", 1);
        set.putInt(8, -5);
        assertError(set, Errors.CORRUPT_MESSAGE);
    }

    @Test
    void garbageIsCorrupt() {
        assertError(ByteBuffer.wrap(new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 20, 1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            0, 0, 0, 0, 0, 0, 0}), Errors.CORRUPT_MESSAGE);
        assertError(ByteBuffer.allocate(0), Errors.CORRUPT_MESSAGE);
    }

    private static void assertError(ByteBuffer set, Errors error) {
        assertThatThrownBy(() -> LegacyRecords.toCurrentFormat(set))
                .isInstanceOfSatisfying(LegacyRecords.InvalidRecordsException.class, e -> assertThat(e.error()).isEqualTo(error));
    }

    /** A wrapper message whose compressed value is {@code innerSet}, built with the legacy record class. */
    private static ByteBuffer wrap(byte magic, String codec, ByteBuffer innerSet) {
        var compression = io.gregor.legacy.kafka.common.compress.Compression.of(codec).build();
        var out = new io.gregor.legacy.kafka.common.utils.ByteBufferOutputStream(256);
        try (var stream = compression.wrapForOutput(out, magic)) {
            stream.write(innerSet.array(), innerSet.arrayOffset() + innerSet.position(), innerSet.remaining());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        ByteBuffer compressed = out.buffer().flip();
        ByteBuffer value = ByteBuffer.allocate(compressed.remaining());
        value.put(compressed).flip();
        var record = io.gregor.legacy.kafka.common.record.LegacyRecord.create(magic, 1_700_000_000_000L, null,
                toArray(value), io.gregor.legacy.kafka.common.record.CompressionType.forName(codec),
                io.gregor.legacy.kafka.common.record.TimestampType.CREATE_TIME);
        ByteBuffer set = ByteBuffer.allocate(12 + record.sizeInBytes());
        set.putLong(0L).putInt(record.sizeInBytes()).put(record.buffer().duplicate());
        return set.flip();
    }

    private static byte[] toArray(ByteBuffer b) {
        byte[] a = new byte[b.remaining()];
        b.duplicate().get(a);
        return a;
    }

    /** Stored v2 batches: offsets 10-12 (gzip, with headers), 13-14 (none), then 15 (zstd). */
    private static ByteBuffer stored(boolean withZstd) {
        ByteBuffer buffer = ByteBuffer.allocate(4096);
        var b1 = MemoryRecords.builder(buffer, Compression.gzip().build(), TimestampType.CREATE_TIME, 10L);
        for (int i = 0; i < 3; i++) {
            b1.append(new SimpleRecord(1000L + i, ("k" + i).getBytes(), ("v" + i).getBytes(),
                    new RecordHeader[] {new RecordHeader("h", new byte[] {1})}));
        }
        b1.close();
        var b2 = MemoryRecords.builder(buffer, Compression.NONE, TimestampType.CREATE_TIME, 13L);
        b2.append(2000L, null, "v3".getBytes());
        b2.append(2001L, "k4".getBytes(), null);
        b2.close();
        if (withZstd) {
            var b3 = MemoryRecords.builder(buffer, Compression.zstd().build(), TimestampType.CREATE_TIME, 15L);
            b3.append(3000L, "k5".getBytes(), "v5".getBytes());
            b3.close();
        }
        return buffer.flip();
    }

    private static List<io.gregor.legacy.kafka.common.record.Record> readLegacy(MemoryRecords converted, byte magic) {
        List<io.gregor.legacy.kafka.common.record.Record> out = new ArrayList<>();
        var legacy = io.gregor.legacy.kafka.common.record.MemoryRecords.readableRecords(converted.buffer());
        for (var batch : legacy.batches()) {
            assertThat(batch.magic()).isEqualTo(magic);
            batch.ensureValid();
            batch.forEach(r -> {
                r.ensureValid();
                out.add(r);
            });
        }
        return out;
    }

    @ParameterizedTest
    @CsvSource({"0", "1"})
    void downConvertsWithOffsetsKeysValuesAndTimestamps(byte magic) {
        var converted = LegacyRecords.toLegacyFormat(stored(false), magic, 11, 1 << 20);
        assertThat(converted.error()).isEqualTo(Errors.NONE);
        var records = readLegacy(converted.records(), magic);
        assertThat(records).extracting(io.gregor.legacy.kafka.common.record.Record::offset).containsExactly(11L, 12L, 13L, 14L);
        assertThat(utf8(records.get(0).key())).isEqualTo("k1");
        assertThat(utf8(records.get(0).value())).isEqualTo("v1");
        assertThat(records.get(2).hasKey()).isFalse();
        assertThat(records.get(3).value()).isNull();
        assertThat(records.get(0).timestamp()).isEqualTo(magic == 0 ? RecordBatch.NO_TIMESTAMP : 1001L);
        assertThat(records.get(3).timestamp()).isEqualTo(magic == 0 ? RecordBatch.NO_TIMESTAMP : 2001L);
        // The gzip batch stays compressed: its wrapper's codec is gzip.
        var first = io.gregor.legacy.kafka.common.record.MemoryRecords.readableRecords(converted.records().buffer())
                .batches().iterator().next();
        assertThat(first.compressionType().name).isEqualTo("gzip");
    }

    @Test
    void zstdIsUnsupportedForOldReadersButWhatComesBeforeItIsGiven() {
        assertThat(readLegacy(LegacyRecords.toLegacyFormat(stored(true), (byte) 1, 0, 1 << 20).records(), (byte) 1))
                .hasSize(5);
        var atZstd = LegacyRecords.toLegacyFormat(stored(true), (byte) 1, 15, 1 << 20);
        assertThat(atZstd.error()).isEqualTo(Errors.UNSUPPORTED_COMPRESSION_TYPE);
        assertThat(atZstd.records().sizeInBytes()).isZero();
    }

    @Test
    void theOutputIsBoundedButHoldsAtLeastOneMessage() {
        var one = LegacyRecords.toLegacyFormat(stored(false), (byte) 1, 13, 1);
        assertThat(readLegacy(one.records(), (byte) 1)).hasSize(1);
        var fromStart = LegacyRecords.toLegacyFormat(stored(false), (byte) 1, 0, 1);
        assertThat(readLegacy(fromStart.records(), (byte) 1)).hasSize(3); // one whole compressed wrapper
        var two = LegacyRecords.toLegacyFormat(stored(false), (byte) 0, 13, 2 * (12 + 14 + 2) + 1);
        assertThat(readLegacy(two.records(), (byte) 0)).extracting(io.gregor.legacy.kafka.common.record.Record::offset)
                .containsExactly(13L, 14L);
        var justOne = LegacyRecords.toLegacyFormat(stored(false), (byte) 0, 13, 2 * (12 + 14 + 2) - 1);
        assertThat(readLegacy(justOne.records(), (byte) 0)).hasSize(1);
    }

    @Test
    void controlBatchesAndAbortedTransactionsAreNeverHandedOut() {
        ByteBuffer buffer = ByteBuffer.allocate(4096);
        long pid = 7;
        var committed = MemoryRecords.builder(buffer, RecordBatch.CURRENT_MAGIC_VALUE, Compression.NONE,
                TimestampType.CREATE_TIME, 0L, 100L, pid, (short) 0, 0, true, RecordBatch.NO_PARTITION_LEADER_EPOCH);
        committed.append(100L, "a".getBytes(), "committed".getBytes());
        committed.close();
        writeMarker(buffer, 1L, pid, ControlRecordType.COMMIT);
        var aborted = MemoryRecords.builder(buffer, RecordBatch.CURRENT_MAGIC_VALUE, Compression.NONE,
                TimestampType.CREATE_TIME, 2L, 100L, pid, (short) 0, 1, true, RecordBatch.NO_PARTITION_LEADER_EPOCH);
        aborted.append(101L, "b".getBytes(), "aborted".getBytes());
        aborted.close();
        writeMarker(buffer, 3L, pid, ControlRecordType.ABORT);
        var plain = MemoryRecords.builder(buffer, Compression.NONE, TimestampType.CREATE_TIME, 4L);
        plain.append(102L, "c".getBytes(), "plain".getBytes());
        plain.close();
        var open = MemoryRecords.builder(buffer, RecordBatch.CURRENT_MAGIC_VALUE, Compression.NONE,
                TimestampType.CREATE_TIME, 5L, 100L, pid, (short) 0, 2, true, RecordBatch.NO_PARTITION_LEADER_EPOCH);
        open.append(103L, "d".getBytes(), "open".getBytes());
        open.close();
        buffer.flip();
        for (byte magic = 0; magic <= 1; magic++) {
            var records = readLegacy(LegacyRecords.toLegacyFormat(buffer, magic, 0, 1 << 20).records(), magic);
            assertThat(records).extracting(r -> utf8(r.value())).containsExactly("committed", "plain");
            assertThat(records).extracting(io.gregor.legacy.kafka.common.record.Record::offset).containsExactly(0L, 4L);
        }
    }

    private static void writeMarker(ByteBuffer buffer, long offset, long pid, ControlRecordType type) {
        MemoryRecords marker = MemoryRecords.withEndTransactionMarker(offset, 200L, RecordBatch.NO_PARTITION_LEADER_EPOCH,
                pid, (short) 0, new EndTransactionMarker(type, 0));
        buffer.put(marker.buffer());
    }

    @Test
    void aRoundTripThroughTheOldFormatsKeepsTheData() {
        for (String codec : List.of("none", "gzip", "snappy", "lz4")) {
            for (byte magic = 0; magic <= 1; magic++) {
                ByteBuffer v2 = LegacyRecords.toCurrentFormat(legacySet(magic, codec, 4));
                var back = readLegacy(LegacyRecords.toLegacyFormat(v2, magic, 0, 1 << 20).records(), magic);
                assertThat(back).extracting(r -> utf8(r.value())).containsExactly("value-0", "value-1", "value-2", "value-3");
            }
        }
    }

    private static String utf8(ByteBuffer b) {
        return b == null ? null : StandardCharsets.UTF_8.decode(b.duplicate()).toString();
    }
}
