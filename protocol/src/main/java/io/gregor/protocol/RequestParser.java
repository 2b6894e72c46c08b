package io.gregor.protocol;

import java.nio.ByteBuffer;
import org.apache.kafka.common.message.ApiMessageType;
import org.apache.kafka.common.message.RequestHeaderData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import io.gregor.protocol.legacy.LegacyCodec;

/**
 * Decodes one request frame (without its 4-byte length prefix) with kafka-clients' generated message classes.
 *
 * <p>Generated classes do not enforce version ranges, so the caller passes the range it supports for each key; a
 * version outside it (or outside the schemas the codec knows) fails with {@link RequestParseException#unsupportedVersion()}
 * set and the header filled in. A version Kafka 4.x removed but the range admits is read through
 * {@link LegacyCodec} and handed on at its bridge version. Produce request records are kept as a view of {@code frame}: the caller must not
 * reuse the buffer until the request is done.
 */
public final class RequestParser {
    private final VersionRange ranges;

    /** Supplies the supported range per API key, or null when the key is not served. */
    public interface VersionRange {
        short[] rangeOf(ApiKeys key);
    }

    public RequestParser(VersionRange ranges) {
        this.ranges = ranges;
    }

    public KafkaRequest parse(ByteBuffer frame) throws RequestParseException {
        int size = frame.remaining();
        if (size < 8) {
            throw new RequestParseException("frame of " + size + " bytes is too short for a request header", null, false, null);
        }
        short keyId = frame.getShort(frame.position());
        short version = frame.getShort(frame.position() + 2);
        if (!ApiKeys.hasId(keyId)) {
            throw new RequestParseException("unknown API key " + keyId, null, false, null);
        }
        ApiKeys key = ApiKeys.forId(keyId);
        RequestHeaderData header;
        ByteBufferAccessor accessor = new ByteBufferAccessor(frame);
        try {
            header = new RequestHeaderData(accessor, headerVersion(key, version));
        } catch (RuntimeException e) {
            throw new RequestParseException("malformed request header for " + key, null, false, e);
        }
        short[] range = ranges.rangeOf(key);
        if (range == null || version < range[0] || version > range[1]) {
            throw new RequestParseException(key + " v" + version + " is not supported"
                    + (range == null ? "" : " (supported: v" + range[0] + "-v" + range[1] + ")"), header, true, null);
        }
        if (LegacyCodec.isLegacy(key, version)) {
            ApiMessage body;
            try {
                body = LegacyCodec.readRequest(key, version, frame);
            } catch (RuntimeException e) {
                throw new RequestParseException("malformed " + key + " v" + version + " request: " + e.getMessage(), header, false, e);
            }
            return new KafkaRequest(header, key, LegacyCodec.bridgeVersion(key), body, size, version);
        }
        ApiMessage body = key.messageType.newRequest();
        try {
            body.read(accessor, version);
        } catch (RuntimeException e) {
            throw new RequestParseException("malformed " + key + " v" + version + " request: " + e.getMessage(), header, false, e);
        }
        return new KafkaRequest(header, key, version, body, size);
    }

    /** The header version of a request; ApiVersions requests of unknown newer versions still use header v2. */
    static short headerVersion(ApiKeys key, short version) {
        ApiMessageType type = key.messageType;
        if (version > type.highestSupportedVersion(true)) {
            return type.requestHeaderVersion(type.highestSupportedVersion(true));
        }
        if (version < type.lowestSupportedVersion()) {
            return type.requestHeaderVersion(type.lowestSupportedVersion());
        }
        return type.requestHeaderVersion(version);
    }
}
