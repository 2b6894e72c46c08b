package io.gregor.protocol;

import org.apache.kafka.common.message.RequestHeaderData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;

/**
 * A decoded request: its header, API key and version, and the generated message body.
 *
 * @param sizeInBytes size of the frame without its length prefix
 */
public record KafkaRequest(RequestHeaderData header, ApiKeys apiKey, short apiVersion, ApiMessage body, int sizeInBytes) {

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
