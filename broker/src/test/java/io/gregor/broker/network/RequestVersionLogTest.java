package io.gregor.broker.network;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.gregor.protocol.KafkaRequest;
import java.net.InetSocketAddress;
import java.util.List;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.RequestHeaderData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class RequestVersionLogTest {
    private final Logger logger = (Logger) LoggerFactory.getLogger(RequestVersionLog.class);
    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();
    private final InetSocketAddress remote = new InetSocketAddress("127.0.0.1", 50000);

    @BeforeEach
    void attach() {
        appender.start();
        logger.addAppender(appender);
        logger.setLevel(Level.INFO);
    }

    @AfterEach
    void detach() {
        logger.detachAppender(appender);
        logger.setLevel(null);
    }

    private static KafkaRequest fetch(String clientId, short apiVersion, short wireVersion) {
        RequestHeaderData header = new RequestHeaderData().setClientId(clientId).setRequestApiKey(ApiKeys.FETCH.id);
        return new KafkaRequest(header, ApiKeys.FETCH, apiVersion, new FetchRequestData(), 0, wireVersion);
    }

    @Test
    void oldVersionsAreLoggedOncePerClientAndTheNewestOnlyAtDebug() {
        // pykafka's Fetch v1 (bridged to v4) twice, a current client's Fetch v18, and Fetch v1 from another client id.
        RequestVersionLog versions = new RequestVersionLog(100);
        versions.record(fetch("pykafka", (short) 4, (short) 1), remote, (short) 18);
        versions.record(fetch("pykafka", (short) 4, (short) 1), remote, (short) 18);
        versions.record(fetch("java-4.2", (short) 18, (short) 18), remote, (short) 18);
        versions.record(fetch("other", (short) 12, (short) 12), remote, (short) 18);
        List<String> messages = appender.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
        assertThat(messages).containsExactly(
                "Client 'pykafka' (127.0.0.1) uses Fetch v1 (legacy, removed in Kafka 4.0)",
                "Client 'other' (127.0.0.1) uses Fetch v12");
        assertThat(appender.list).allSatisfy(e -> assertThat(e.getLevel()).isEqualTo(Level.INFO));
    }

    @Test
    void rememberingIsBounded() {
        // Beyond maxEntries combinations nothing more is remembered or logged at INFO.
        RequestVersionLog versions = new RequestVersionLog(2);
        for (int i = 0; i < 5; i++) {
            versions.record(fetch("client-" + i, (short) 4, (short) 1), remote, (short) 18);
        }
        assertThat(appender.list).hasSize(2);
    }
}
