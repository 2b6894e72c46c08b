package io.gregor.benchmarks;

import io.gregor.storage.FailureProbe;
import io.gregor.storage.FetchSlice;
import io.gregor.storage.Log;
import io.gregor.storage.LogConfig;
import io.gregor.storage.Time;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
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
 * Random-offset fetch positioning: segment lookup, offset index binary search and the short
 * header scan to the batch holding the offset, as a consumer fetch does. Uses {@code index.interval.bytes}
 * as the parameter since it sets how far the scan runs.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
public class OffsetIndexLookupBenchmark {

    private static final int BATCHES = 200_000;

    @Param({"4096", "65536"})
    int indexIntervalBytes;

    private Path dir;
    private Log log;
    private final SplittableRandom random = new SplittableRandom(42);

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        dir = Files.createTempDirectory("gregor-index-bench");
        LogConfig config = LogConfig.defaults().withSegmentBytes(16 << 20).withIndexIntervalBytes(indexIntervalBytes);
        log = Log.open(dir.resolve("bench-0"), config, Time.SYSTEM, FailureProbe.NONE, true);
        ByteBuffer batch = BenchmarkBatches.batch(1, 139, System.currentTimeMillis());
        for (int i = 0; i < BATCHES; i++) {
            log.append(batch.duplicate(), 0);
        }
    }

    @Benchmark
    public long lookup() {
        FetchSlice slice = log.read(random.nextLong(BATCHES), 1, Long.MAX_VALUE, true);
        return slice.position();
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
