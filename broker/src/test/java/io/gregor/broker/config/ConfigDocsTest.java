package io.gregor.broker.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class ConfigDocsTest {
    @Test
    void shouldMatchTheCommittedReference() throws Exception {
        // docs/configuration.md is generated from the config tables; a changed table without regenerated docs fails here.
        Path doc = Path.of("..", "docs", "configuration.md");
        assertThat(Files.readString(doc))
                .as("docs/configuration.md is stale: run ConfigDocs.main from the repository root")
                .isEqualTo(ConfigDocs.markdown());
    }

    @Test
    void shouldRejectBadValuesWithKafkaStyleMessages() {
        // A wrong type names the property and the value, as Kafka's ConfigException does.
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> BrokerConfig.of(java.util.Map.of("num.partitions", "zero")))
                .hasMessageContaining("Invalid value zero for configuration num.partitions");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> BrokerConfig.of(java.util.Map.of("listeners", "nonsense")))
                .hasMessageContaining("listeners");
    }
}
