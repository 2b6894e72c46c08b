package io.gregor.storage;

/** A timestamp and the offset it belongs to. */
public record TimestampOffset(long timestamp, long offset) {}
