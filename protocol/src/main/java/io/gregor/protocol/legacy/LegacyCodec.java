package io.gregor.protocol.legacy;

import io.gregor.legacy.kafka.common.protocol.ByteBufferAccessor;
import io.gregor.legacy.kafka.common.protocol.ObjectSerializationCache;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;

/**
 * The request versions Kafka 4.0 removed (KIP-896), served by bridging through the generated message classes of
 * kafka-clients 3.9.1 (relocated under {@code io.gregor.legacy.kafka}).
 *
 * <p>A legacy request is read with the 3.9.1 class at the version the client sent, written again by that class at the
 * <em>bridge version</em> (the lowest version kafka-clients 4.x still knows for that API) and read by the 4.x class
 * at the bridge version. Handlers therefore only ever see current classes; the fields a legacy version lacks keep
 * their schema defaults, which are the defaults Kafka applied to those versions (no transactional id, read
 * uncommitted, no generation for OffsetCommit v0, ...). A response goes the other way: written by the 4.x class at the
 * bridge version, read by the 3.9.1 class, written by it at the client's version. Neither direction hand-writes a
 * message layout.
 *
 * <p>Two responses differ in meaning, not only in fields, and are adjusted on the way down: ListOffsets v0 answers
 * with a list of offsets ({@code OldStyleOffsets}) instead of one offset, and DescribeConfigs v0 has
 * {@code IsDefault} where later versions have {@code ConfigSource}.
 *
 * <p>Record sets are carried as bytes: converting message formats v0/v1 is {@link LegacyRecords}' job.
 * Thread-safe (stateless).
 */
public final class LegacyCodec {
    private LegacyCodec() {
    }

    /** True when {@code version} of {@code key} is below what kafka-clients 4.x parses but 3.9.1 still knows it. */
    public static boolean isLegacy(ApiKeys key, short version) {
        return version >= 0 && version < key.messageType.lowestSupportedVersion() && version >= legacyLowest(key);
    }

    /** The lowest version served through the bridge for {@code key}, or the 4.x lowest when there is none. */
    public static short legacyLowest(ApiKeys key) {
        short modern = key.messageType.lowestSupportedVersion();
        if (!io.gregor.legacy.kafka.common.protocol.ApiKeys.hasId(key.id)) {
            return modern;
        }
        var old = io.gregor.legacy.kafka.common.protocol.ApiKeys.forId(key.id).messageType;
        short oldLowest = old.lowestSupportedVersion();
        // A legacy version is only bridged when 3.9.1 also knows the bridge version.
        return old.highestSupportedVersion(true) >= modern ? (short) Math.min(oldLowest, modern) : modern;
    }

    /** The version a legacy request of {@code key} is handled at: the lowest version kafka-clients 4.x knows. */
    public static short bridgeVersion(ApiKeys key) {
        return key.messageType.lowestSupportedVersion();
    }

    /**
     * Reads a legacy request body and returns it as a 4.x message at {@link #bridgeVersion}.
     *
     * @param body the request bytes after the header; consumed
     * @throws RuntimeException when the body is malformed for that version
     */
    public static ApiMessage readRequest(ApiKeys key, short version, ByteBuffer body) {
        var old = oldKey(key).messageType.newRequest();
        old.read(new ByteBufferAccessor(body), version);
        adjustRequest(old);
        short bridge = bridgeVersion(key);
        ApiMessage modern = key.messageType.newRequest();
        modern.read(new org.apache.kafka.common.protocol.ByteBufferAccessor(write(old, bridge)), bridge);
        return modern;
    }

    /**
     * Writes a 4.x response (built for {@link #bridgeVersion}) as the body of a {@code version} response. Record sets
     * in it must be in the message format the client reads: in memory ({@code MemoryRecords}) or
     * {@link DownConvertedRecords} converted while they are written.
     *
     * @return the response body, without the response header, in parts to be sent in order: {@link ByteBuffer}s, and
     *     each record set a part of its own, never copied (its buffer, or the {@link DownConvertedRecords})
     */
    public static List<Object> writeResponse(ApiKeys key, short version, ApiMessage response) {
        short bridge = bridgeVersion(key);
        // Fetch records are taken out before the bridge and put back after it, so they are copied once (into the
        // final response), not three times.
        List<Object> records = response instanceof FetchResponseData fetch ? detachRecords(fetch) : null;
        ByteBuffer modernBytes = writeModern(response, bridge);
        var old = oldKey(key).messageType.newResponse();
        old.read(new ByteBufferAccessor(modernBytes), bridge);
        if (records != null) {
            attachRecords((io.gregor.legacy.kafka.common.message.FetchResponseData) old, records);
        }
        adjustResponse(old, version);
        PartsWriter writer = new PartsWriter();
        ObjectSerializationCache cache = new ObjectSerializationCache();
        old.size(cache, version); // fills the cache write() reads
        old.write(writer, cache, version);
        return writer.finish();
    }

    private static List<Object> detachRecords(FetchResponseData fetch) {
        List<Object> records = new ArrayList<>();
        for (var topic : fetch.responses()) {
            for (var p : topic.partitions()) {
                records.add(p.records() instanceof MemoryRecords memory ? memory.buffer()
                        : p.records() instanceof DownConvertedRecords lazy ? lazy : null);
                p.setRecords(MemoryRecords.EMPTY);
            }
        }
        return records;
    }

    private static void attachRecords(io.gregor.legacy.kafka.common.message.FetchResponseData old, List<Object> records) {
        Iterator<Object> next = records.iterator();
        for (var topic : old.responses()) {
            for (var p : topic.partitions()) {
                Object part = next.next();
                if (part instanceof ByteBuffer bytes) {
                    p.setRecords(io.gregor.legacy.kafka.common.record.MemoryRecords.readableRecords(bytes));
                } else if (part instanceof DownConvertedRecords lazy) {
                    p.setRecords(new PartsWriter.LazyPart(lazy));
                }
            }
        }
    }

    /**
     * Clears the two request fields that exist only in legacy versions (the bridge version cannot carry them):
     * ListOffsets v0 {@code MaxNumOffsets} (the answer is always the one offset) and OffsetCommit v1
     * {@code CommitTimestamp} (the commit is stamped when it is stored, as for v2+).
     */
    private static void adjustRequest(io.gregor.legacy.kafka.common.protocol.ApiMessage old) {
        if (old instanceof io.gregor.legacy.kafka.common.message.ListOffsetsRequestData offsets) {
            offsets.topics().forEach(t -> t.partitions().forEach(p -> p.setMaxNumOffsets(1)));
        } else if (old instanceof io.gregor.legacy.kafka.common.message.OffsetCommitRequestData commit) {
            commit.topics().forEach(t -> t.partitions().forEach(p -> p.setCommitTimestamp(-1)));
        }
    }

    private static void adjustResponse(io.gregor.legacy.kafka.common.protocol.ApiMessage old, short version) {
        if (old instanceof io.gregor.legacy.kafka.common.message.ListOffsetsResponseData offsets && version == 0) {
            for (var topic : offsets.topics()) {
                for (var p : topic.partitions()) {
                    if (p.errorCode() == 0 && p.offset() >= 0) {
                        p.setOldStyleOffsets(java.util.List.of(p.offset()));
                    }
                    p.setTimestamp(-1).setOffset(-1).setLeaderEpoch(-1);
                }
            }
        } else if (old instanceof io.gregor.legacy.kafka.common.message.DescribeConfigsResponseData configs && version == 0) {
            for (var result : configs.results()) {
                for (var config : result.configs()) {
                    // ConfigSource 5 is DEFAULT_CONFIG; -1 (unknown) is what the 3.9.1 class reads for v0.
                    config.setIsDefault(config.configSource() == 5).setConfigSource((byte) -1).setSynonyms(new java.util.ArrayList<>());
                }
            }
        }
    }

    private static ByteBuffer write(io.gregor.legacy.kafka.common.protocol.ApiMessage message, short version) {
        ObjectSerializationCache cache = new ObjectSerializationCache();
        ByteBuffer buffer = ByteBuffer.allocate(message.size(cache, version));
        message.write(new ByteBufferAccessor(buffer), cache, version);
        return buffer.flip();
    }

    private static ByteBuffer writeModern(ApiMessage message, short version) {
        var cache = new org.apache.kafka.common.protocol.ObjectSerializationCache();
        ByteBuffer buffer = ByteBuffer.allocate(message.size(cache, version));
        message.write(new org.apache.kafka.common.protocol.ByteBufferAccessor(buffer), cache, version);
        return buffer.flip();
    }

    private static io.gregor.legacy.kafka.common.protocol.ApiKeys oldKey(ApiKeys key) {
        return io.gregor.legacy.kafka.common.protocol.ApiKeys.forId(key.id);
    }
}
