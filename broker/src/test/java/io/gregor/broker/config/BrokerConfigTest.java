package io.gregor.broker.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class BrokerConfigTest {

    @Test
    void aListenerWhoseSecurityIsNotServedIsRefusedNotServedAsPlaintext() {
        for (String listener : new String[] {"SSL://127.0.0.1:9093", "SASL_PLAINTEXT://127.0.0.1:9093", "SASL_SSL://127.0.0.1:9093"}) {
            assertThatThrownBy(() -> BrokerConfig.of(Map.of("listeners", "PLAINTEXT://127.0.0.1:9092," + listener)))
                    .isInstanceOf(ConfigException.class)
                    .hasMessageContaining("listeners")
                    .hasMessageContaining("does not serve yet");
        }
        // A named listener mapped to SSL is refused the same way.
        assertThatThrownBy(() -> BrokerConfig.of(Map.of("listeners", "EXTERNAL://127.0.0.1:9093",
                "listener.security.protocol.map", "EXTERNAL:SSL")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("EXTERNAL uses security protocol SSL");
    }

    @Test
    void namedListenersNeedAProtocolAndMayBePlaintext() {
        assertThatThrownBy(() -> BrokerConfig.of(Map.of("listeners", "EXTERNAL://127.0.0.1:9093")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("EXTERNAL:PLAINTEXT");
        BrokerConfig named = BrokerConfig.of(Map.of("listeners", "EXTERNAL://127.0.0.1:9093",
                "listener.security.protocol.map", "EXTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT"));
        assertThat(named.listeners()).extracting(Endpoint::listenerName).containsExactly("EXTERNAL");
        assertThat(named.securityProtocolMap()).containsEntry("EXTERNAL", "PLAINTEXT");
        assertThatThrownBy(() -> BrokerConfig.of(Map.of("listener.security.protocol.map", "PLAINTEXT:TLS")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("listener.security.protocol.map");
    }

    @Test
    void unknownPropertiesAreKeptAndWarnedAboutOneByOne() {
        BrokerConfig config = BrokerConfig.of(Map.of("num.partitions", "3", "log.cleaner.threads", "2",
                "no.such.setting", "x"));
        assertThat(config.unknownNames()).containsExactlyInAnyOrder("log.cleaner.threads", "no.such.setting");
        assertThat(config.warnings()).hasSize(2)
                .anySatisfy(w -> assertThat(w).contains("'log.cleaner.threads'"))
                .anySatisfy(w -> assertThat(w).contains("'no.such.setting'"));
        assertThat(BrokerConfig.defaults().warnings()).isEmpty();
    }
}
