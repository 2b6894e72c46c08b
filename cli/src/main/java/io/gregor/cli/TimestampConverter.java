package io.gregor.cli;

import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.format.DateTimeParseException;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Parses a point in time as epoch milliseconds ({@code 1700000000000}) or ISO-8601: {@code 2024-05-01T12:00:00Z},
 * {@code 2024-05-01T12:00:00+02:00} (also {@code +0200} and {@code +02}, as Kafka's tools accept them), or without
 * zone ({@code 2024-05-01T12:00}, {@code 2024-05-01}) in the local time zone. Returns epoch milliseconds.
 */
class TimestampConverter implements ITypeConverter<Long> {
    /** An offset written without a colon ({@code +0200}), which {@link OffsetDateTime#parse} refuses. */
    private static final DateTimeFormatter COMPACT_OFFSET = new DateTimeFormatterBuilder()
            .append(DateTimeFormatter.ISO_LOCAL_DATE_TIME)
            .appendOffset("+HHMM", "Z")
            .toFormatter();

    @Override
    public Long convert(String value) {
        String s = value.trim();
        if (!s.isEmpty() && s.chars().allMatch(Character::isDigit)) {
            return Long.parseLong(s);
        }
        try {
            return Instant.parse(s).toEpochMilli();
        } catch (DateTimeParseException ignored) {
            // try the next form
        }
        try {
            return OffsetDateTime.parse(s).toInstant().toEpochMilli();
        } catch (DateTimeParseException ignored) {
            // try the next form
        }
        try {
            return OffsetDateTime.parse(s, COMPACT_OFFSET).toInstant().toEpochMilli();
        } catch (DateTimeParseException ignored) {
            // try the next form
        }
        ZoneId zone = zoneWhenUnspecified();
        try {
            return LocalDateTime.parse(s).atZone(zone).toInstant().toEpochMilli();
        } catch (DateTimeParseException ignored) {
            // try the next form
        }
        try {
            return LocalDate.parse(s).atStartOfDay(zone).toInstant().toEpochMilli();
        } catch (DateTimeParseException ignored) {
            throw new TypeConversionException(
                    "'" + value + "' is neither epoch milliseconds nor an ISO-8601 date/time (e.g. 2024-05-01T12:00:00Z)");
        }
    }

    /** The zone of a date or time written without one. */
    ZoneId zoneWhenUnspecified() {
        return ZoneId.systemDefault();
    }

    /**
     * The same forms, but a time without zone is UTC: what Kafka's {@code kafka-consumer-groups.sh --to-datetime}
     * assumes, so that the same value picks the same offsets with either tool.
     */
    static final class Utc extends TimestampConverter {
        @Override
        ZoneId zoneWhenUnspecified() {
            return ZoneOffset.UTC;
        }
    }
}
