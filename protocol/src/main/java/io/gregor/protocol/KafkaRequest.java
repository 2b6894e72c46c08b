package io.gregor.protocol;

import org.apache.kafka.common.message.RequestHeaderData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;

/**
 * A decoded request: its header, API key and version, and the generated message body.
 *
 * @param apiVersion the version {@code body} was read at and the response is built for
 * @param sizeInBytes size of the frame without its length prefix
 * @param wireVersion the version the client sent: the same as {@code apiVersion}, except for a legacy version that
 *     was bridged to a current one ({@link io.gregor.protocol.legacy.LegacyCodec})
 */
public record KafkaRequest(RequestHeaderData header, ApiKeys apiKey, short apiVersion, ApiMessage body, int sizeInBytes,
                           short wireVersion) {

    public KafkaRequest(RequestHeaderData header, ApiKeys apiKey, short apiVersion, ApiMessage body, int sizeInBytes) {
        this(header, apiKey, apiVersion, body, sizeInBytes, apiVersion);
    }

    /** True when the client spoke a version Kafka 4.x removed and the response must be written back in it. */
    public boolean legacy() {
        return wireVersion != apiVersion;
    }

    public int correlationId() {
        return header.correlationId();
    }

    public String clientId() {
        return header.clientId() == null ? "" : header.clientId();
    }

    /** The response header version this request's response must use (ApiVersions always uses v0). */
    public short responseHeaderVersion() {
        return apiKey.responseHeaderVersion(apiVersion);
    }
}
