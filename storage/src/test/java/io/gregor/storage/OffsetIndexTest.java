package io.gregor.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OffsetIndexTest {

    @TempDir
    Path dir;

    @Test
    void shouldLookUpLargestEntryAtOrBelowTarget() throws IOException {
        // Entries every 10 offsets: a lookup returns the position of the floor entry, or 0 below the first.
        OffsetIndex index = new OffsetIndex(dir.resolve("a.index"), 100, 800);
        for (int i = 1; i <= 50; i++) {
            index.append(100 + i * 10L, i * 1000);
        }
        assertThat(index.lookup(99)).isZero();
        assertThat(index.lookup(105)).isZero();
        assertThat(index.lookup(110)).isEqualTo(1000);
        assertThat(index.lookup(257)).isEqualTo(15_000);
        assertThat(index.lookup(10_000)).isEqualTo(50_000);
        index.sanityCheck(60_000);
        assertThatThrownBy(() -> index.sanityCheck(40_000)).isInstanceOf(CorruptIndexException.class);
    }

    @Test
    void shouldTrimOnCloseAndReloadEntries() throws IOException {
        // A closed index is trimmed to its entries and reopens with the same lookups; a full index says so.
        Path file = dir.resolve("b.index");
        OffsetIndex index = new OffsetIndex(file, 0, 80);
        for (int i = 0; i < 10; i++) {
            index.append(i * 2L, i * 10);
        }
        assertThat(index.isFull()).isTrue();
        index.close();
        assertThat(Files.size(file)).isEqualTo(80);
        OffsetIndex reopened = new OffsetIndex(file, 0, 0);
        assertThat(reopened.entries()).isEqualTo(10);
        assertThat(reopened.lookup(7)).isEqualTo(30);
    }

    @Test
    void shouldFindTimeIndexScanStart() throws IOException {
        // The time index returns the offset of the last entry strictly below the target timestamp.
        TimeIndex index = new TimeIndex(dir.resolve("c.timeindex"), 0, 1200);
        index.maybeAppend(100, 0);
        index.maybeAppend(200, 10);
        index.maybeAppend(150, 12);
        index.maybeAppend(300, 20);
        assertThat(index.entries()).isEqualTo(3);
        assertThat(index.lookupScanStart(50)).isZero();
        assertThat(index.lookupScanStart(200)).isZero();
        assertThat(index.lookupScanStart(201)).isEqualTo(10);
        assertThat(index.lastEntry()).isEqualTo(new TimestampOffset(300, 20));
        index.sanityCheck(1000);
    }
}
