package io.gregor.raft;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32C;

/**
 * One metadata snapshot on disk: the bytes returned by {@link MetadataStateMachine#snapshot()}
 * framed with the Raft term and index they are as of, and a checksum.
 *
 * <p>File naming follows Ratis' {@code SimpleStateMachineStorage} ({@code snapshot.<term>_<index>}
 * in the group's {@code sm/} directory, with a {@code .md5} companion) so that Ratis finds the
 * latest snapshot, retains the newest ones and can ship them to followers.
 *
 * <pre>
 *  0        4          8         16        24         28                 28+length
 *  +--------+----------+---------+---------+----------+------------------+---------+
 *  | magic  | version  | term    | index   | length   | payload          | crc32c  |
 *  | int32  | int32    | int64   | int64   | int32    | length bytes     | int32   |
 *  +--------+----------+---------+---------+----------+------------------+---------+
 *  crc32c covers bytes [0, 28+length). All integers are big-endian.
 * </pre>
 *
 * <p>Written atomically: to {@code <name>.tmp}, fsynced, renamed over the final name, then the
 * directory is fsynced. A torn or corrupt file is reported by {@link #read} with its path.
 */
final class SnapshotFile {

    static final int MAGIC = 0x47524D53; // "GRMS"
    static final int VERSION = 1;
    static final int HEADER_BYTES = 28;
    static final int TRAILER_BYTES = 4;

    /** Contents of a snapshot file. */
    record Contents(long term, long index, byte[] payload) {}

    private SnapshotFile() {}

    static void write(Path file, long term, long index, byte[] payload) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(HEADER_BYTES + payload.length + TRAILER_BYTES);
        buffer.putInt(MAGIC).putInt(VERSION).putLong(term).putLong(index).putInt(payload.length).put(payload);
        CRC32C crc = new CRC32C();
        crc.update(buffer.array(), 0, buffer.position());
        buffer.putInt((int) crc.getValue());
        buffer.flip();
        writeAtomically(file, buffer);
    }

    /**
     * Writes {@code contents} to {@code file} so that a crash leaves either the old file or the whole new one: to
     * {@code <name>.tmp}, fsynced, renamed over {@code file}, then the directory fsynced.
     */
    static void writeAtomically(Path file, ByteBuffer contents) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.CREATE,
                StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
            while (contents.hasRemaining()) {
                channel.write(contents);
            }
            channel.force(true);
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        fsyncDirectory(file.getParent());
    }

    static Contents read(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        if (bytes.length < HEADER_BYTES + TRAILER_BYTES) {
            throw corrupt(file, "file has " + bytes.length + " bytes, shorter than header and checksum");
        }
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        int magic = buffer.getInt();
        int version = buffer.getInt();
        long term = buffer.getLong();
        long index = buffer.getLong();
        int length = buffer.getInt();
        if (magic != MAGIC) {
            throw corrupt(file, "bad magic 0x" + Integer.toHexString(magic));
        }
        if (version != VERSION) {
            throw corrupt(file, "unsupported version " + version);
        }
        if (length < 0 || length != bytes.length - HEADER_BYTES - TRAILER_BYTES) {
            throw corrupt(file, "payload length " + length + " does not match file size " + bytes.length);
        }
        CRC32C crc = new CRC32C();
        crc.update(bytes, 0, HEADER_BYTES + length);
        int stored = ByteBuffer.wrap(bytes, HEADER_BYTES + length, TRAILER_BYTES).getInt();
        if (stored != (int) crc.getValue()) {
            throw corrupt(file, "checksum mismatch");
        }
        byte[] payload = new byte[length];
        buffer.get(payload);
        return new Contents(term, index, payload);
    }

    private static IOException corrupt(Path file, String detail) {
        return new IOException("Corrupt metadata snapshot " + file + ": " + detail);
    }

    static void fsyncDirectory(Path dir) throws IOException {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }
}
