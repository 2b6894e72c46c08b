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

    private static Map<String, String> brokerOnly(String... extra) {
        Map<String, String> config = new java.util.HashMap<>(Map.of("process.roles", "broker", "node.id", "4",
                "listeners", "PLAINTEXT://127.0.0.1:9092", "controller.listener.names", "CONTROLLER",
                "listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"));
        for (int i = 0; i < extra.length; i += 2) {
            config.put(extra[i], extra[i + 1]);
        }
        return config;
    }

    @Test
    void aBrokerOnlyNodeFindsTheQuorumThroughVotersOrBootstrapServers() {
        BrokerConfig bootstrap = BrokerConfig.of(brokerOnly("controller.quorum.bootstrap.servers",
                "10.0.0.1:9093, 10.0.0.2:9093"));
        assertThat(bootstrap.brokerOnly()).isTrue();
        assertThat(bootstrap.clustered()).isTrue();
        assertThat(bootstrap.bootstrapServers()).containsExactly("10.0.0.1:9093", "10.0.0.2:9093");
        assertThat(bootstrap.voters()).isEmpty();
        BrokerConfig voters = BrokerConfig.of(brokerOnly("controller.quorum.voters",
                "1@10.0.0.1:9093,2@10.0.0.2:9093,3@10.0.0.3:9093"));
        assertThat(voters.brokerOnly()).isTrue();
        assertThat(voters.voters()).hasSize(3);
        // Combined nodes are not broker-only.
        assertThat(BrokerConfig.defaults().brokerOnly()).isFalse();
    }

    @Test
    void aBrokerOnlyNodeThatCannotFindOrWouldJoinTheQuorumWronglyIsRefused() {
        assertThatThrownBy(() -> BrokerConfig.of(brokerOnly())).isInstanceOf(ConfigException.class)
                .hasMessageContaining("controller.quorum.bootstrap.servers");
        assertThatThrownBy(() -> BrokerConfig.of(brokerOnly("controller.quorum.voters", "4@10.0.0.4:9093,1@10.0.0.1:9093")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("is one of the voters");
        assertThatThrownBy(() -> BrokerConfig.of(brokerOnly("controller.quorum.bootstrap.servers", "10.0.0.1")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("host:port");
        assertThatThrownBy(() -> BrokerConfig.of(brokerOnly("controller.quorum.bootstrap.servers", "10.0.0.1:9093",
                "listeners", "PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("must not be in listeners");
        assertThatThrownBy(() -> BrokerConfig.of(brokerOnly("process.roles", "controller",
                "controller.quorum.bootstrap.servers", "10.0.0.1:9093")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("controller-only nodes are not supported");
        // A broker,controller node with bootstrap servers only (a voter to be) needs its CONTROLLER listener.
        assertThatThrownBy(() -> BrokerConfig.of(brokerOnly("process.roles", "broker,controller",
                "controller.quorum.bootstrap.servers", "10.0.0.1:9093")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("controller.listener.names");
    }

    @Test
    void aBrokerControllerNodeMayJoinThroughBootstrapServersToBeMadeAVoter() {
        BrokerConfig joining = BrokerConfig.of(brokerOnly("process.roles", "broker,controller",
                "controller.quorum.bootstrap.servers", "10.0.0.1:9093",
                "listeners", "PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093"));
        assertThat(joining.brokerOnly()).isFalse();
        assertThat(joining.clustered()).isTrue();
        assertThat(joining.voters()).isEmpty();
        assertThat(joining.controllerListener()).isPresent();
    }
}
