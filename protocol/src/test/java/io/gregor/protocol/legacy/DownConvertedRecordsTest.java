package io.gregor.protocol.legacy;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.CompressionType;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.RecordBatch;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class DownConvertedRecordsTest {

    /** Stored v2 batches of {@code perBatch} records of {@code valueBytes} each, offsets from 0. */
    private static ByteBuffer stored(String codec, int batches, int perBatch, int valueBytes) {
        ByteBuffer buffer = ByteBuffer.allocate(batches * (perBatch * (valueBytes + 40) + 100));
        Random random = new Random(3);
        long offset = 0;
        for (int b = 0; b < batches; b++) {
            var builder = MemoryRecords.builder(buffer, Compression.of(CompressionType.forName(codec)).build(),
                    TimestampType.CREATE_TIME, offset);
            for (int i = 0; i < perBatch; i++) {
                byte[] value = new byte[valueBytes];
                random.nextBytes(value);
                value[0] = (byte) offset; // distinguishes records
                builder.append(1_000L + offset, ("k" + offset).getBytes(), value);
                offset++;
            }
            builder.close();
        }
        return buffer.flip();
    }

    private record BufferSource(ByteBuffer bytes) implements DownConvertedRecords.Source {
        @Override
        public int size() {
            return bytes.remaining();
        }

        @Override
        public void read(ByteBuffer target, int position) {
            ByteBuffer from = bytes.duplicate();
            from.position(from.position() + position).limit(from.position() + target.remaining());
            target.put(from);
        }
    }

    /** Every byte the records write, joined, checking that exactly their declared size is written. */
    private static ByteBuffer drain(DownConvertedRecords records) throws Exception {
        ByteBuffer out = ByteBuffer.allocate(records.sizeInBytes());
        int chunks = 0;
        while (!records.isEndOfInput()) {
            ByteBuf chunk = records.readChunk(ByteBufAllocator.DEFAULT);
            assertThat(chunk).isNotNull();
            assertThat(chunk.readableBytes()).isPositive().isLessThanOrEqualTo(out.remaining());
            out.put(chunk.nioBuffer());
            chunk.release();
            chunks++;
        }
        assertThat(out.hasRemaining()).isFalse();
        assertThat(records.progress()).isEqualTo(records.length());
        assertThat(chunks).isPositive();
        return out.flip();
    }

    /** Offsets of the whole messages a 3.9.1 reader finds (a partial message at the end is ignored, as by clients). */
    private static List<Long> offsets(ByteBuffer wire, byte magic) {
        List<Long> offsets = new ArrayList<>();
        var legacy = io.gregor.legacy.kafka.common.record.MemoryRecords.readableRecords(wire);
        for (var batch : legacy.batches()) {
            assertThat(batch.magic()).isEqualTo(magic);
            batch.ensureValid();
            batch.forEach(r -> {
                r.ensureValid();
                assertThat(r.value().get(0)).isEqualTo((byte) r.offset());
                offsets.add(r.offset());
            });
        }
        return offsets;
    }

    @ParameterizedTest
    @CsvSource({"none,1,1024", "none,0,1024", "lz4,1,1024", "gzip,0,1024", "none,1,10", "snappy,1,10"})
    void convertsChunkByChunkToExactlyTheDeclaredSize(String codec, byte magic, int valueBytes) throws Exception {
        // Far more than one chunk, so that conversion goes on while the first chunks are written.
        int perBatch = 60;
        int batches = (4 * DownConvertedRecords.CHUNK_BYTES) / (perBatch * valueBytes) + 4;
        ByteBuffer stored = stored(codec, batches, perBatch, valueBytes);
        var records = DownConvertedRecords.start(new BufferSource(stored), magic, 0, stored.remaining());
        assertThat(records.error()).isEqualTo(Errors.NONE);
        assertThat(records.hasMessages()).isTrue();
        assertThat(records.sizeInBytes()).isPositive().isLessThanOrEqualTo(stored.remaining());
        ByteBuffer wire = drain(records);
        List<Long> offsets = offsets(wire, magic);
        // The messages given are the stored ones from the start, in order, without gaps; the declared size may cut
        // the last ones (the reader fetches again from there), but whole messages fill it up to less than one
        // message (uncompressed) or one wrapper of a batch (compressed).
        assertThat(offsets).isNotEmpty();
        for (int i = 0; i < offsets.size(); i++) {
            assertThat(offsets.get(i)).isEqualTo(i);
        }
        int whole = io.gregor.legacy.kafka.common.record.MemoryRecords.readableRecords(wire.duplicate()).validBytes();
        int unit = codec.equals("none") ? valueBytes + 64 : 2 * perBatch * (valueBytes + 64);
        assertThat(whole).isGreaterThan(records.sizeInBytes() - unit);
    }

    @Test
    void aSourceReachingPastTheBudgetFillsTheBudget() throws Exception {
        ByteBuffer stored = stored("none", 40, 60, 1024);
        int budget = stored.remaining() / 3;
        var records = DownConvertedRecords.start(new BufferSource(stored), (byte) 1, 0, budget);
        assertThat(records.sizeInBytes()).isEqualTo(budget);
        ByteBuffer wire = drain(records);
        int whole = io.gregor.legacy.kafka.common.record.MemoryRecords.readableRecords(wire.duplicate()).validBytes();
        assertThat(whole).isGreaterThan(budget - 1100);
        List<Long> offsets = offsets(wire, (byte) 1);
        assertThat(offsets.get(offsets.size() - 1)).isEqualTo(offsets.size() - 1L);
    }

    @Test
    void aFetchOffsetInsideABatchStartsThere() throws Exception {
        ByteBuffer stored = stored("none", 10, 50, 200);
        var records = DownConvertedRecords.start(new BufferSource(stored), (byte) 1, 123, stored.remaining());
        List<Long> offsets = offsets(drain(records), (byte) 1);
        assertThat(offsets.get(0)).isEqualTo(123L);
        assertThat(offsets).hasSize(500 - 123);
    }

    @Test
    void theFirstMessageIsWholeEvenWhenLargerThanTheBudget() throws Exception {
        ByteBuffer stored = stored("none", 1, 1, 3 * DownConvertedRecords.CHUNK_BYTES);
        var records = DownConvertedRecords.start(new BufferSource(stored), (byte) 0, 0, 100);
        assertThat(records.sizeInBytes()).isGreaterThan(3 * DownConvertedRecords.CHUNK_BYTES);
        assertThat(offsets(drain(records), (byte) 0)).containsExactly(0L);
    }

    @Test
    void zstdFirstIsAnErrorAndZstdLaterEndsTheMessages() throws Exception {
        ByteBuffer zstd = stored("zstd", 1, 5, 10);
        var first = DownConvertedRecords.start(new BufferSource(zstd), (byte) 1, 0, 1 << 20);
        assertThat(first.error()).isEqualTo(Errors.UNSUPPORTED_COMPRESSION_TYPE);
        assertThat(first.hasMessages()).isFalse();

        // Plain batches over more than a chunk, then a zstd one: the plain ones are given, then only filler.
        ByteBuffer plain = stored("none", 4, 100, 1000);
        ByteBuffer mixed = ByteBuffer.allocate(plain.remaining() + 1000);
        mixed.put(plain.duplicate());
        var builder = MemoryRecords.builder(mixed, Compression.zstd().build(), TimestampType.CREATE_TIME, 400L);
        builder.append(1L, "k".getBytes(), new byte[] {(byte) 400});
        builder.close();
        mixed.flip();
        var records = DownConvertedRecords.start(new BufferSource(mixed), (byte) 1, 0, mixed.remaining());
        List<Long> offsets = offsets(drain(records), (byte) 1);
        assertThat(offsets).isNotEmpty().allMatch(o -> o < 400);
    }

    @Test
    void onlyControlOrOldRecordsGiveNothing() {
        ByteBuffer stored = stored("none", 2, 5, 10);
        var records = DownConvertedRecords.start(new BufferSource(stored), (byte) 1, 10, 1 << 20);
        assertThat(records.hasMessages()).isFalse();
        assertThat(records.blocked()).isFalse();
        assertThat(records.error()).isEqualTo(Errors.NONE);
        assertThat(records.sizeInBytes()).isZero();
    }

    @Test
    void anUndecidedTransactionBlocksWhatFollows() {
        ByteBuffer buffer = ByteBuffer.allocate(4096);
        var open = MemoryRecords.builder(buffer, RecordBatch.CURRENT_MAGIC_VALUE, Compression.NONE,
                TimestampType.CREATE_TIME, 0L, 100L, 9L, (short) 0, 0, true, RecordBatch.NO_PARTITION_LEADER_EPOCH);
        open.append(100L, "a".getBytes(), new byte[] {0});
        open.close();
        var plain = MemoryRecords.builder(buffer, Compression.NONE, TimestampType.CREATE_TIME, 1L);
        plain.append(101L, "b".getBytes(), new byte[] {1});
        plain.close();
        buffer.flip();
        var records = DownConvertedRecords.start(new BufferSource(buffer), (byte) 1, 0, 1 << 20);
        assertThat(records.hasMessages()).isFalse();
        assertThat(records.blocked()).isTrue();
    }
}
