package io.gregor.metadata;

import java.util.List;

/** What a metadata operation decided: records to append, and the response to give once they are committed. */
public record ControllerResult<T>(List<MetadataRecord> records, T response) {

    public static <T> ControllerResult<T> of(List<MetadataRecord> records, T response) {
        return new ControllerResult<>(records, response);
    }

    public static <T> ControllerResult<T> noChange(T response) {
        return new ControllerResult<>(List.of(), response);
    }
}
