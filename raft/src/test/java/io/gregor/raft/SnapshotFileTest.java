package io.gregor.raft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SnapshotFileTest {

    @TempDir
    Path dir;

    // A written snapshot reads back with its term, index and payload; no temporary file remains.
    @Test
    void shouldRoundTrip() throws IOException {
        Path file = dir.resolve("snapshot.3_42");
        SnapshotFile.write(file, 3, 42, "state".getBytes(StandardCharsets.UTF_8));

        SnapshotFile.Contents contents = SnapshotFile.read(file);
        assertThat(contents.term()).isEqualTo(3);
        assertThat(contents.index()).isEqualTo(42);
        assertThat(new String(contents.payload(), StandardCharsets.UTF_8)).isEqualTo("state");
        try (var files = Files.list(dir)) {
            assertThat(files).containsExactly(file);
        }
    }

    // A flipped payload byte or a truncated file is reported with the file's path.
    @Test
    void shouldDetectCorruption() throws IOException {
        Path file = dir.resolve("snapshot.1_7");
        SnapshotFile.write(file, 1, 7, new byte[100]);
        byte[] bytes = Files.readAllBytes(file);
        bytes[SnapshotFile.HEADER_BYTES + 10] ^= 1;
        Files.write(file, bytes);
        assertThatThrownBy(() -> SnapshotFile.read(file)).isInstanceOf(IOException.class)
                .hasMessageContaining(file.toString()).hasMessageContaining("checksum");

        Files.write(file, java.util.Arrays.copyOf(bytes, 50));
        assertThatThrownBy(() -> SnapshotFile.read(file)).isInstanceOf(IOException.class)
                .hasMessageContaining("does not match file size");
    }
}
