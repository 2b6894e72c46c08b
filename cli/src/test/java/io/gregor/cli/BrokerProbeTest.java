package io.gregor.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class BrokerProbeTest {

    @Test
    void shouldParseBootstrapList() {
        var addresses = BrokerProbe.parse("a:1, b:2,[::1]:3");
        assertThat(addresses).hasSize(3);
        assertThat(addresses.get(2).getHostString()).isEqualTo("::1");
        assertThat(addresses.get(2).getPort()).isEqualTo(3);
    }

    @Test
    void shouldRejectMalformedBootstrap() {
        assertThatThrownBy(() -> BrokerProbe.parse("localhost")).hasMessageContaining("expected HOST:PORT");
        assertThatThrownBy(() -> BrokerProbe.parse("h:x")).hasMessageContaining("port is not a number");
        assertThatThrownBy(() -> BrokerProbe.parse(" , ")).hasMessageContaining("no bootstrap server");
    }

    // A Kafka client that reaches an HTTP port reads "HTTP" as a 1.2 GB frame length and runs out of memory; the
    // probe must see that the reply is not Kafka and say so.
    @Test
    @Timeout(10)
    void shouldRejectListenerThatDoesNotSpeakKafka() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Thread.ofVirtual().start(() -> {
                try (Socket s = server.accept(); OutputStream out = s.getOutputStream()) {
                    s.getInputStream().read(new byte[64]);
                    out.write("HTTP/1.1 400 Bad Request\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                } catch (Exception ignored) {
                    // the test asserts on the client side
                }
            });
            String bootstrap = "127.0.0.1:" + server.getLocalPort();
            CliRun run = CliRun.run("topic", "list", "-b", bootstrap);
            assertThat(run.exitCode()).isEqualTo(GregorCli.EXIT_FAILURE);
            assertThat(run.err()).startsWith("error: cannot reach broker at " + bootstrap).contains("not Kafka protocol");
        }
    }

    @Test
    @Timeout(10)
    void shouldReportUnknownHost() {
        CliRun run = CliRun.run("topic", "list", "-b", "no-such-host.invalid:9092");
        assertThat(run.exitCode()).isEqualTo(GregorCli.EXIT_FAILURE);
        assertThat(run.err()).contains("unknown host no-such-host.invalid");
    }
}
