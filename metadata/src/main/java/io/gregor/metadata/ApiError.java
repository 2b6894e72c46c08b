package io.gregor.metadata;

import org.apache.kafka.common.protocol.Errors;

/** A Kafka error code with the message to send with it (null for the code's default message). */
public record ApiError(Errors error, String message) {
    public static final ApiError NONE = new ApiError(Errors.NONE, null);

    public static ApiError of(Errors error, String message) {
        return new ApiError(error, message);
    }

    public boolean isSuccess() {
        return error == Errors.NONE;
    }

    public short code() {
        return error.code();
    }

    /** The message clients show: ours, else Kafka's default text for the code. */
    public String messageOrDefault() {
        return message != null ? message : error == Errors.NONE ? null : error.message();
    }
}
