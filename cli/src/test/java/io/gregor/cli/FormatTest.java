package io.gregor.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.LocalDate;
import java.time.ZoneId;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine.TypeConversionException;

class FormatTest {

    @Test
    void shouldAlignTableColumns() {
        StringWriter text = new StringWriter();
        new Table("NAME", "PARTITIONS").row("orders", 12).row("a", null).print(new PrintWriter(text));
        assertThat(text.toString().lines().toList())
                .containsExactly("NAME    PARTITIONS", "orders  12", "a       -");
    }

    @Test
    void shouldWriteJsonWithEscapes() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", "a\"b\\c\n\u0001");
        m.put("n", 3);
        m.put("ok", true);
        m.put("none", null);
        m.put("list", Arrays.asList(1, "x", null));
        assertThat(Json.write(m))
                .isEqualTo("{\"name\":\"a\\\"b\\\\c\\n\\u0001\",\"n\":3,\"ok\":true,\"none\":null,\"list\":[1,\"x\",null]}");
        assertThat(Json.write(List.of())).isEqualTo("[]");
    }

    @Test
    void shouldParseTimestamps() {
        TimestampConverter c = new TimestampConverter();
        assertThat(c.convert("0")).isZero();
        assertThat(c.convert("2024-05-01T12:00:00Z")).isEqualTo(1714564800000L);
        assertThat(c.convert("2024-05-01T14:00:00+02:00")).isEqualTo(1714564800000L);
        long localMidnight = LocalDate.of(2024, 5, 1).atStartOfDay(ZoneId.systemDefault()).toInstant().toEpochMilli();
        assertThat(c.convert("2024-05-01")).isEqualTo(localMidnight);
        assertThat(c.convert("2024-05-01T00:00")).isEqualTo(localMidnight);
        assertThatThrownBy(() -> c.convert("soon")).isInstanceOf(TypeConversionException.class);
    }

    // Kafka's --to-datetime forms: milliseconds, offsets with or without a colon, and UTC when no zone is written.
    @Test
    void shouldParseKafkaDatetimesWithUtcDefault() {
        TimestampConverter utc = new TimestampConverter.Utc();
        assertThat(utc.convert("2024-05-01T12:00:00.000")).isEqualTo(1714564800000L);
        assertThat(utc.convert("2024-05-01T12:00:00.000Z")).isEqualTo(1714564800000L);
        assertThat(utc.convert("2024-05-01T14:00:00.000+02:00")).isEqualTo(1714564800000L);
        assertThat(utc.convert("2024-05-01T14:00:00.000+0200")).isEqualTo(1714564800000L);
        assertThat(utc.convert("2024-05-01T14:00:00.000+02")).isEqualTo(1714564800000L);
        assertThat(utc.convert("2024-05-01")).isEqualTo(1714521600000L);
        assertThat(new TimestampConverter().convert("2024-05-01T14:00:00.000+0200")).isEqualTo(1714564800000L);
    }
}
