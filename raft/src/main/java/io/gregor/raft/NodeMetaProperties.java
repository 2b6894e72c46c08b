package io.gregor.raft;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import java.util.UUID;

/**
 * {@code <dir>/meta.properties}: the identity of a metadata log directory, written once when the
 * directory is first used and checked on every later start.
 *
 * <pre>
 * version=1
 * group.id=&lt;uuid of the Raft group&gt;
 * node.id=&lt;this node's id&gt;
 * </pre>
 *
 * <p>The group id is derived deterministically ({@link #DEFAULT_GROUP_ID}) so that every node of a
 * future multi-node cluster agrees on it without coordination; it is stored so that a later change
 * of the derivation cannot orphan an existing directory.
 */
record NodeMetaProperties(UUID groupId, int nodeId) {

    static final String FILE_NAME = "meta.properties";
    static final UUID DEFAULT_GROUP_ID =
            UUID.nameUUIDFromBytes("gregor-cluster-metadata".getBytes(StandardCharsets.UTF_8));

    /** Reads the file, or writes it on first use; fails if it names another node. */
    static NodeMetaProperties loadOrCreate(Path dir, int nodeId) {
        Path file = dir.resolve(FILE_NAME);
        try {
            Files.createDirectories(dir);
            if (!Files.exists(file)) {
                NodeMetaProperties created = new NodeMetaProperties(DEFAULT_GROUP_ID, nodeId);
                created.write(file);
                return created;
            }
            Properties properties = new Properties();
            try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                properties.load(reader);
            }
            NodeMetaProperties stored = new NodeMetaProperties(
                    UUID.fromString(required(properties, "group.id", file)),
                    Integer.parseInt(required(properties, "node.id", file)));
            if (stored.nodeId != nodeId) {
                throw new IllegalStateException("Metadata log directory " + dir + " belongs to node "
                        + stored.nodeId + ", not to node " + nodeId + " (see " + file + ")");
            }
            return stored;
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read or write " + file, e);
        }
    }

    private static String required(Properties properties, String key, Path file) {
        String value = properties.getProperty(key);
        if (value == null) {
            throw new IllegalStateException("Missing " + key + " in " + file);
        }
        return value.trim();
    }

    private void write(Path file) throws IOException {
        Properties properties = new Properties();
        properties.setProperty("version", "1");
        properties.setProperty("group.id", groupId.toString());
        properties.setProperty("node.id", Integer.toString(nodeId));
        java.io.StringWriter text = new java.io.StringWriter();
        properties.store(text, "Gregor metadata log identity; do not edit");
        SnapshotFile.writeAtomically(file, java.nio.ByteBuffer.wrap(text.toString().getBytes(StandardCharsets.UTF_8)));
    }
}
