package io.gregor.coordinator.group;

/** A committed offset with the leader epoch and metadata string the consumer sent. */
public record OffsetAndMetadata(long offset, int leaderEpoch, String metadata, long commitTimestampMs) {
}
