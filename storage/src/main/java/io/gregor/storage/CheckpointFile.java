package io.gregor.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * A small text checkpoint written atomically, in Kafka's checkpoint layout:
 *
 * <pre>
 *  0            version line, always 0
 *  N            number of entry lines
 *  entry ...    one entry per line, fields separated by single spaces
 * </pre>
 *
 * Written to {@code <name>.tmp}, fsynced, renamed over the file, then the directory is fsynced,
 * so a crash leaves either the old or the new content. Used for {@code leader-epoch-checkpoint}
 * ("epoch startOffset" entries) and the single-value {@code recovery-point},
 * {@code log-start-offset} and {@code high-watermark} files. Not thread-safe.
 */
final class CheckpointFile {

    static final String TMP_SUFFIX = ".tmp";
    private static final int VERSION = 0;

    private final Path file;

    CheckpointFile(Path file) {
        this.file = file;
    }

    Path file() {
        return file;
    }

    void write(List<String> entries) throws IOException {
        StringBuilder text = new StringBuilder().append(VERSION).append('\n').append(entries.size()).append('\n');
        for (String entry : entries) {
            text.append(entry).append('\n');
        }
        Path tmp = file.resolveSibling(file.getFileName() + TMP_SUFFIX);
        try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer bytes = ByteBuffer.wrap(text.toString().getBytes(StandardCharsets.UTF_8));
            while (bytes.hasRemaining()) {
                channel.write(bytes);
            }
            channel.force(true);
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        fsyncDirectory(file.getParent());
    }

    /** The entry lines, or null when the file is absent. Throws {@link IOException} when malformed. */
    List<String> read() throws IOException {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return null;
        }
        if (lines.size() < 2 || !lines.get(0).trim().equals(String.valueOf(VERSION))) {
            throw new IOException("Malformed checkpoint " + file + ": bad version line");
        }
        int count;
        try {
            count = Integer.parseInt(lines.get(1).trim());
        } catch (NumberFormatException e) {
            throw new IOException("Malformed checkpoint " + file + ": bad count line", e);
        }
        if (count < 0 || lines.size() < 2 + count) {
            throw new IOException("Malformed checkpoint " + file + ": expected " + count + " entries");
        }
        return new ArrayList<>(lines.subList(2, 2 + count));
    }

    void writeLong(long value) throws IOException {
        write(List.of(Long.toString(value)));
    }

    /** The single value, or {@code fallback} when the file is absent or malformed. */
    long readLong(long fallback) {
        try {
            List<String> entries = read();
            return entries == null || entries.size() != 1 ? fallback : Long.parseLong(entries.get(0).trim());
        } catch (IOException | NumberFormatException e) {
            return fallback;
        }
    }

    static void fsyncDirectory(Path dir) throws IOException {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }
}
