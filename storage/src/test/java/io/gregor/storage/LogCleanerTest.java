package io.gregor.storage;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.Record;
import org.apache.kafka.common.record.RecordBatch;
import org.apache.kafka.common.record.SimpleRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class LogCleanerTest {

    private static final long START_MS = 1_700_000_000_000L;
    private static final LogConfig.Compaction COMPACT = new LogConfig.Compaction(true, false, 0.5, 0L, Long.MAX_VALUE, 60_000L);
    private static final LogConfig CONFIG = LogConfig.defaults().withSegmentBytes(4096).withIndexIntervalBytes(100)
            .withMaxIndexBytes(1024).withCompaction(COMPACT);

    @TempDir
    Path root;

    private final MockTime time = new MockTime(START_MS);
    private final LogCleaner cleaner = new LogCleaner(LogCleaner.Settings.DEFAULTS, time);
    private Log log;

    @AfterEach
    void tearDown() {
        if (log != null) {
            log.close();
        }
    }

    private Log open(LogConfig config) {
        log = Log.open(root.resolve("compacted-0"), config, time, FailureProbe.NONE, true);
        return log;
    }

    /** Appends one batch of keyed records ({@code key=value}; a null value is a tombstone) and advances the HW. */
    private void append(String codec, String... keyValues) {
        List<SimpleRecord> records = new ArrayList<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            records.add(new SimpleRecord(time.milliseconds(), bytes(keyValues[i]), bytes(keyValues[i + 1])));
        }
        ByteBuffer batch = MemoryRecords.withRecords(Compression.of(codec).build(), records.toArray(SimpleRecord[]::new)).buffer();
        log.append(batch, 0);
        log.updateHighWatermark(log.logEndOffset());
    }

    private static byte[] bytes(String s) {
        return s == null ? null : s.getBytes(StandardCharsets.UTF_8);
    }

    /** Every record left in the log, as offset -> key=value. */
    private Map<Long, String> contents() throws IOException {
        Map<Long, String> all = new LinkedHashMap<>();
        long offset = log.logStartOffset();
        while (offset < log.logEndOffset()) {
            FetchSlice slice = log.read(offset, 1 << 20, Long.MAX_VALUE, true);
            if (slice.isEmpty()) {
                break;
            }
            ByteBuffer bytes = ByteBuffer.allocate(slice.size());
            while (bytes.hasRemaining()) {
                slice.channel().read(bytes, slice.position() + bytes.position());
            }
            for (RecordBatch batch : MemoryRecords.readableRecords(bytes.flip()).batches()) {
                batch.ensureValid();
                for (Record record : batch) {
                    all.put(record.offset(), text(record.key()) + "=" + text(record.value()));
                }
            }
            offset = slice.lastOffset() + 1;
        }
        return all;
    }

    private static String text(ByteBuffer b) {
        return b == null ? null : StandardCharsets.UTF_8.decode(b.duplicate()).toString();
    }

    /** Writes {@code rounds} updates of keys k0..k4, one batch per round, each value naming its round. */
    private void updates(String codec, int rounds) {
        for (int round = 0; round < rounds; round++) {
            List<String> kv = new ArrayList<>();
            for (int k = 0; k < 5; k++) {
                kv.add("k" + k);
                // Hex of random bytes: values that compress little, so that compressed logs span segments too.
                kv.add("v" + round + "-" + java.util.HexFormat.of().formatHex(randomBytes(30)));
            }
            append(codec, kv.toArray(String[]::new));
        }
    }

    private final java.util.Random random = new java.util.Random(7);

    private byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return b;
    }

    @ParameterizedTest
    @ValueSource(strings = {"none", "gzip", "lz4", "zstd"})
    void testKeepsTheLatestRecordOfEveryKeyWithItsOffset(String codec) throws IOException {
        // 40 rounds of 5 keys over many segments: after cleaning, one record per key (the last round's), at the
        // offset it was written at; the active segment is left as it is.
        open(CONFIG);
        updates(codec, 40);
        int before = log.numberOfSegments();
        long sizeBefore = log.sizeInBytes();
        assertThat(before).isGreaterThan(3);
        Map<Long, String> activeBefore = new LinkedHashMap<>();
        long activeBase = log.segmentList().get(before - 1).baseOffset();
        contents().forEach((offset, kv) -> {
            if (offset >= activeBase) {
                activeBefore.put(offset, kv);
            }
        });

        LogCleaner.Result result = cleaner.clean(log);
        assertThat(result).isNotNull();
        assertThat(result.recordsRetained()).isLessThan(result.recordsRead());
        assertThat(log.sizeInBytes()).isLessThan(sizeBefore);
        Map<Long, String> after = contents();
        Map<Long, String> cleanedPart = new LinkedHashMap<>();
        after.forEach((offset, kv) -> {
            if (offset < activeBase) {
                cleanedPart.put(offset, kv);
            }
        });
        // Below the active segment (which is not mapped, as in Kafka) each key is left once: its last record there.
        assertThat(cleanedPart.values().stream().map(kv -> kv.substring(0, 2)).toList()).doesNotHaveDuplicates()
                .containsExactlyInAnyOrder("k0", "k1", "k2", "k3", "k4");
        assertThat(after).containsAllEntriesOf(activeBefore);
        assertThat(new ArrayList<>(after.keySet())).isSorted();
        // Every key still reads as its last value.
        Map<String, String> latest = new LinkedHashMap<>();
        after.values().forEach(kv -> latest.put(kv.substring(0, 2), kv.substring(3)));
        assertThat(latest).hasSize(5).allSatisfy((k, v) -> assertThat(v).startsWith("v39-"));
        assertThat(after).hasSize(5 + activeBefore.size());
        assertThat(log.logEndOffset()).isEqualTo(200);
    }

    private void transactional(long producerId, int seq, String key, String value) {
        log.append(MemoryRecords.withTransactionalRecords(Compression.NONE, producerId, (short) 0, seq,
                new SimpleRecord(time.milliseconds(), bytes(key), bytes(value))).buffer(), 0);
    }

    private void marker(long producerId, boolean commit) {
        log.append(MemoryRecords.withEndTransactionMarker(time.milliseconds(), producerId, (short) 0,
                new org.apache.kafka.common.record.EndTransactionMarker(commit
                        ? org.apache.kafka.common.record.ControlRecordType.COMMIT
                        : org.apache.kafka.common.record.ControlRecordType.ABORT, 0)).buffer(), 0);
        log.updateHighWatermark(log.logEndOffset());
    }

    @Test
    void testAbortedRecordsAreRemovedAndNeverHideACommittedValue() throws IOException {
        open(CONFIG);
        transactional(1, 0, "account", "committed");
        marker(1, true);
        transactional(2, 0, "account", "aborted");   // the latest value of the key, but aborted
        transactional(2, 1, "other", "aborted-too");
        marker(2, false);
        updates("none", 30);
        assertThat(cleaner.clean(log)).isNotNull();
        assertThat(contents().values()).contains("account=committed").doesNotContain("account=aborted")
                .doesNotContain("other=aborted-too");
    }

    /** The transaction markers left in the log: offset -> producerId:COMMIT|ABORT, with "+horizon" once one is set. */
    private Map<Long, String> markers() throws IOException {
        Map<Long, String> found = new LinkedHashMap<>();
        FetchSlice slice = log.read(log.logStartOffset(), Integer.MAX_VALUE, Long.MAX_VALUE, true);
        ByteBuffer bytes = ByteBuffer.allocate(slice.size());
        while (bytes.hasRemaining()) {
            slice.channel().read(bytes, slice.position() + bytes.position());
        }
        for (RecordBatch batch : MemoryRecords.readableRecords(bytes.flip()).batches()) {
            if (batch.isControlBatch()) {
                batch.ensureValid();
                var type = org.apache.kafka.common.record.ControlRecordType.parse(batch.iterator().next().key());
                found.put(batch.lastOffset(), batch.producerId() + ":" + type + (batch.deleteHorizonMs().isPresent() ? "+horizon" : ""));
            }
        }
        return found;
    }

    @Test
    void testMarkersStayForDeleteRetentionAfterTheirTransactionsRecordsAreGoneThenGo() throws IOException {
        open(CONFIG);
        transactional(1, 0, "account", "v1");
        marker(1, true);                          // its record is superseded below: nothing of it stays
        transactional(2, 0, "account", "aborted");
        marker(2, false);                         // aborted: its record goes at the first cleaning
        transactional(3, 0, "x", "1");
        marker(3, true);
        append("none", "x", "2");                 // supersedes the record of producer 3's transaction
        transactional(1, 1, "account", "v2");
        marker(1, true);                          // its record is the latest of its key: the marker stays
        transactional(2, 1, "p2", "last");
        marker(2, true);
        transactional(3, 1, "p3", "last");
        marker(3, true);
        // A producer's last batch is kept (empty if need be) for its sequence, as Kafka does, and with it its marker.
        transactional(4, 0, "x", "aborted-last");
        marker(4, false);
        updates("none", 30);
        long abortOffset = markers().entrySet().stream().filter(e -> e.getValue().equals("2:ABORT")).findFirst()
                .orElseThrow().getKey();
        assertThat(log.abortedTransactions(0, Long.MAX_VALUE)).extracting(AbortedTransaction::producerId).containsExactly(2L, 4L);
        Map<Long, String> before = markers();
        assertThat(before).hasSize(7);

        assertThat(cleaner.maybeClean(log)).isNotNull();
        // The first cleaning removes the records and sets a delete horizon on the markers left without any.
        assertThat(markers().values()).containsExactly("1:COMMIT+horizon", "2:ABORT+horizon", "3:COMMIT+horizon", "1:COMMIT",
                "2:COMMIT", "3:COMMIT", "4:ABORT");
        assertThat(markers().keySet()).containsExactlyElementsOf(before.keySet());
        assertThat(contents().values()).contains("account=v2", "x=2").doesNotContain("account=v1", "account=aborted", "x=1",
                "x=aborted-last");
        assertThat(log.abortedTransactions(0, Long.MAX_VALUE)).extracting(AbortedTransaction::lastOffset)
                .contains(abortOffset).hasSize(2);

        time.advance(30_000);
        assertThat(cleaner.maybeClean(log)).as("nothing dirty, no horizon reached").isNull();
        time.advance(30_001);
        // delete.retention.ms (60 s) after that: the horizon alone brings a cleaning, which removes those markers.
        assertThat(cleaner.maybeClean(log)).isNotNull();
        assertThat(markers().values()).containsExactly("1:COMMIT", "2:COMMIT", "3:COMMIT", "4:ABORT");
        assertThat(log.abortedTransactions(0, Long.MAX_VALUE)).as("the index entry goes with its marker")
                .extracting(AbortedTransaction::producerId).containsExactly(4L);
        assertThat(contents().values()).contains("account=v2", "x=2");
        assertThat(cleaner.maybeClean(log)).isNull();

        // Reopened after a crash, the log holds no transaction without its decision.
        long end = log.logEndOffset();
        log.close();
        log = Log.open(root.resolve("compacted-0"), CONFIG, time, FailureProbe.NONE, false);
        assertThat(log.logEndOffset()).isEqualTo(end);
        log.updateHighWatermark(end);
        assertThat(log.ongoingTransactions()).isZero();
        assertThat(log.lastStableOffset()).isEqualTo(end);
        assertThat(log.abortedTransactions(0, Long.MAX_VALUE)).extracting(AbortedTransaction::producerId).containsExactly(4L);
        assertThat(markers().values()).containsExactly("1:COMMIT", "2:COMMIT", "3:COMMIT", "4:ABORT");
        assertThat(contents().values()).contains("account=v2", "x=2", "p2=last", "p3=last").doesNotContain("x=aborted-last");
    }

    @Test
    void testNothingOfAnOpenTransactionIsCleaned() throws IOException {
        open(CONFIG);
        transactional(3, 0, "k0", "open-transaction");
        updates("none", 30);
        log.updateHighWatermark(log.logEndOffset());
        assertThat(log.lastStableOffset()).isZero();
        assertThat(cleaner.clean(log)).as("everything is at or past the last stable offset").isNull();
        assertThat(contents().values()).contains("k0=open-transaction");
    }

    @Test
    void testTombstonesStayForDeleteRetentionThenGo() throws IOException {
        open(CONFIG);
        append("none", "a", "1", "b", "1");
        append("none", "a", null);
        updates("none", 30); // fills segments so that the tombstone's segment is below the active one
        assertThat(cleaner.clean(log)).isNotNull();
        assertThat(contents().values()).contains("a=null").contains("b=1");

        // Before delete.retention.ms has passed since that cleaning, a new cleaning keeps the tombstone.
        time.advance(30_000);
        updates("none", 30);
        assertThat(cleaner.clean(log)).isNotNull();
        assertThat(contents().values()).contains("a=null");

        time.advance(31_000);
        updates("none", 30);
        assertThat(cleaner.clean(log)).isNotNull();
        assertThat(contents().values()).noneMatch(kv -> kv.startsWith("a=")).contains("b=1");
    }

    @Test
    void testAStoppedCleanerLeavesTheLogAsItWas() throws IOException {
        open(CONFIG);
        updates("none", 30);
        Map<Long, String> before = contents();
        int segments = log.numberOfSegments();
        cleaner.stop();
        assertThat(cleaner.clean(log)).as("a stopped cleaner cleans nothing").isNull();
        assertThat(log.numberOfSegments()).isEqualTo(segments);
        assertThat(contents()).isEqualTo(before);
        try (var files = java.nio.file.Files.list(log.dir())) {
            assertThat(files.map(f -> f.getFileName().toString()))
                    .noneMatch(name -> name.endsWith(".cleaned") || name.endsWith(".swap"));
        }
    }

    @Test
    void testATombstonePastItsHorizonGoesWithoutNewRecords() throws IOException {
        open(CONFIG);
        append("none", "a", "1");
        append("none", "a", null);
        updates("none", 30);
        assertThat(cleaner.maybeClean(log)).isNotNull();
        assertThat(contents().values()).contains("a=null");
        assertThat(cleaner.maybeClean(log)).as("nothing dirty, horizon not reached").isNull();
        time.advance(60_001);
        assertThat(cleaner.maybeClean(log)).as("the tombstone's horizon has passed").isNotNull();
        assertThat(contents().values()).noneMatch(kv -> kv.startsWith("a="));
        assertThat(cleaner.maybeClean(log)).isNull();
    }

    @Test
    void testRecordsYoungerThanTheMinCompactionLagAndTheActiveSegmentAreNotCleaned() throws IOException {
        open(CONFIG.withCompaction(new LogConfig.Compaction(true, false, 0.5, 10_000L, Long.MAX_VALUE, 60_000L)));
        updates("none", 40);
        assertThat(cleaner.clean(log)).as("every segment is younger than the lag").isNull();
        time.advance(10_001);
        append("none", "k0", "late");
        assertThat(cleaner.clean(log)).isNotNull();
        assertThat(contents().values()).contains("k0=late");
    }

    @Test
    void testTheDirtyRatioDecidesAndMaxCompactionLagOverrides() {
        open(CONFIG.withCompaction(new LogConfig.Compaction(true, false, 0.99, 0L, Long.MAX_VALUE, 60_000L)));
        updates("none", 40);
        assertThat(LogCleaner.dirtyRatio(log)).isEqualTo(1.0);
        assertThat(cleaner.maybeClean(log)).isNotNull(); // all dirty: 1.0 >= 0.99
        updates("none", 10); // one more segment below the active one: dirty, but not 99 % of the log
        assertThat(LogCleaner.dirtyRatio(log)).isGreaterThan(0.0).isLessThan(0.99);
        assertThat(cleaner.maybeClean(log)).as("not dirty enough").isNull();
        log.updateConfig(log.config().withCompaction(new LogConfig.Compaction(true, false, 0.99, 0L, 5_000L, 60_000L)));
        time.advance(6_000);
        assertThat(cleaner.maybeClean(log)).as("overdue by max.compaction.lag.ms").isNotNull();
    }

    @Test
    void testASmallDedupeBufferCleansInSeveralPassesWithTheSameResult() throws IOException {
        open(CONFIG);
        // 200 distinct keys, each written twice.
        for (int pass = 0; pass < 2; pass++) {
            for (int k = 0; k < 200; k += 10) {
                List<String> kv = new ArrayList<>();
                for (int j = k; j < k + 10; j++) {
                    kv.add("key-" + j);
                    kv.add("p" + pass);
                }
                append("none", kv.toArray(String[]::new));
            }
        }
        append("none", "tail", "t"); // keeps the last batch above the cleanable part
        LogCleaner small = new LogCleaner(new LogCleaner.Settings(150L * OffsetMap.BYTES_PER_ENTRY, Double.MAX_VALUE), time);
        int passes = 0;
        while (small.clean(log) != null) {
            passes++;
            assertThat(passes).isLessThan(20);
        }
        assertThat(passes).isGreaterThan(1);
        Map<String, String> latest = new LinkedHashMap<>();
        contents().values().forEach(kv -> latest.put(kv.substring(0, kv.indexOf('=')), kv.substring(kv.indexOf('=') + 1)));
        assertThat(latest).hasSize(201);
        assertThat(latest).allSatisfy((k, v) -> assertThat(v).isIn("p1", "t"));
    }

    @Test
    void testKeylessRecordsAndCompactDeleteRetention() throws IOException {
        open(CONFIG.withCompaction(new LogConfig.Compaction(true, true, 0.5, 0L, Long.MAX_VALUE, 60_000L))
                .withRetentionMs(1_000_000));
        log.append(MemoryRecords.withRecords(Compression.NONE, new SimpleRecord(time.milliseconds(), null, bytes("no key")))
                .buffer(), 0);
        updates("none", 40);
        cleaner.clean(log);
        assertThat(contents().values()).contains("null=no key");
        // compact,delete: time retention still deletes whole old segments.
        time.advance(2_000_000);
        updates("none", 1);
        log.maybeRoll();
        assertThat(log.applyRetention()).isPositive();
    }

    @Test
    void testACleaningInterruptedAfterItsCommitPointIsCompletedAtLoad() throws IOException {
        // The swap file exists (the commit point) but the old segments were not yet replaced: reopening finishes
        // the swap; a leftover .cleaned file (before the commit point) is deleted and changes nothing.
        open(CONFIG);
        updates("none", 40);
        Map<Long, String> full = contents();
        List<LogSegment> segments = log.segmentList();
        LogSegment first = segments.get(0);
        LogSegment second = segments.get(1);
        // What a cleaning of the first two segments would keep: their records whose key is not written later.
        log.close();
        log = null;
        Path dir = root.resolve("compacted-0");
        Files.copy(SegmentFiles.logFile(dir, first.baseOffset()), SegmentFiles.swapFile(dir, first.baseOffset(), second.baseOffset()));
        Files.writeString(SegmentFiles.cleanedFile(dir, segments.get(2).baseOffset()), "half-written");
        open(CONFIG);
        assertThat(Files.exists(SegmentFiles.cleanedFile(dir, segments.get(2).baseOffset()))).isFalse();
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).noneMatch(n -> n.endsWith(".swap"));
        }
        Map<Long, String> after = contents();
        // The swap held the first segment's records only: the second segment's are gone, everything else is intact.
        assertThat(after.keySet()).doesNotContainAnyElementsOf(
                full.keySet().stream().filter(o -> o >= second.baseOffset() && o < segments.get(2).baseOffset()).toList());
        full.forEach((offset, kv) -> {
            if (offset < second.baseOffset() || offset >= segments.get(2).baseOffset()) {
                assertThat(after).containsEntry(offset, kv);
            }
        });
        assertThat(log.logEndOffset()).isEqualTo(200);
    }

    @Test
    void testACleanedLogSurvivesReopening() throws IOException {
        open(CONFIG);
        updates("lz4", 40);
        cleaner.clean(log);
        Map<Long, String> cleaned = contents();
        log.close();
        log = null;
        open(CONFIG);
        assertThat(contents()).isEqualTo(cleaned);
        assertThat(log.cleanerCheckpoint()).isPositive();
        assertThat(cleaner.clean(log)).as("nothing new is dirty").isNull();
    }
}
