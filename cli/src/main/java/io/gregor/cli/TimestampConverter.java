package io.gregor.cli;

import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeParseException;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Parses a point in time as epoch milliseconds ({@code 1700000000000}) or ISO-8601: {@code 2024-05-01T12:00:00Z},
 * {@code 2024-05-01T12:00:00+02:00}, or without zone ({@code 2024-05-01T12:00}, {@code 2024-05-01}) in the local
 * time zone. Returns epoch milliseconds.
 */
final class TimestampConverter implements ITypeConverter<Long> {
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
        ZoneId zone = ZoneId.systemDefault();
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
}
