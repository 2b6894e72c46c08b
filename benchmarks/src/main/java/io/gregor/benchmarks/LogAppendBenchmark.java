package io.gregor.benchmarks;

import io.gregor.storage.FailureProbe;
import io.gregor.storage.Log;
import io.gregor.storage.LogConfig;
import io.gregor.storage.Time;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The produce path of the storage layer: validate (CRC32C), stamp and write one batch, no fsync.
 * Segments roll at 64 MiB so rolling is part of the measurement. With {@code idempotent}, every batch is an
 * idempotent producer's next one (its sequence checked against the producer state and kept); without, a plain
 * batch. Both recompute the batch's CRC before each append, so the difference is the producer-state work.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
public class LogAppendBenchmark {

    @Param({"100", "1000", "16384"})
    int batchBytes;

    @Param({"1", "10"})
    int recordsPerBatch;

    @Param({"false", "true"})
    boolean idempotent;

    private int sequence;

    private Path dir;
    private Log log;
    private ByteBuffer batch;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        dir = Files.createTempDirectory("gregor-append-bench");
        log = Log.open(dir.resolve("bench-0"), LogConfig.defaults().withSegmentBytes(64 << 20), Time.SYSTEM, FailureProbe.NONE, true);
        batch = BenchmarkBatches.batch(recordsPerBatch, batchBytes - 61, System.currentTimeMillis());
    }

    @Benchmark
    public long append() {
        BenchmarkBatches.stamp(batch, idempotent ? 1000L : -1L, (short) 0, sequence);
        sequence = sequence > Integer.MAX_VALUE - recordsPerBatch ? 0 : sequence + recordsPerBatch;
        return log.append(batch.duplicate(), 0).lastOffset();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        log.deleteFiles();
        try {
            Files.deleteIfExists(dir);
        } catch (IOException ignored) {
            // Temp directory; best effort.
        }
    }
}
