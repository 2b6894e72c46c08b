package io.gregor.protocol;

import org.apache.kafka.common.message.RequestHeaderData;

/**
 * A frame that cannot be turned into a request. When the header could be read, {@link #header()} is set so the broker
 * can still answer (ApiVersions) or log who sent it.
 */
public final class RequestParseException extends Exception {
    private final transient RequestHeaderData header;
    private final boolean unsupportedVersion;

    RequestParseException(String message, RequestHeaderData header, boolean unsupportedVersion, Throwable cause) {
        super(message, cause);
        this.header = header;
        this.unsupportedVersion = unsupportedVersion;
    }

    public RequestHeaderData header() {
        return header;
    }

    public boolean unsupportedVersion() {
        return unsupportedVersion;
    }
}
