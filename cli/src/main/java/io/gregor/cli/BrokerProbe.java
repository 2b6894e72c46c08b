package io.gregor.cli;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.NoRouteToHostException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.nio.ByteBuffer;
import java.util.Locale;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.message.RequestHeaderData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.ObjectSerializationCache;

/**
 * Checks that a Kafka listener answers on at least one bootstrap address before a Kafka client is built.
 *
 * <p>Design note: Kafka's clients retry a refused connection until {@code default.api.timeout.ms} runs out and then
 * report "Timed out waiting for a node assignment", which says nothing about the cause. One TCP connect per address
 * answers "is anybody there?" in milliseconds and lets us name the address and the reason. On plaintext listeners we
 * also send one ApiVersions v0 request and check the answer's frame: a Kafka client that reaches an HTTP or TLS port
 * reads the first four bytes of the reply ("HTTP") as a frame length of about 1.2 GB and dies of OutOfMemoryError.
 */
final class BrokerProbe {
    /** ApiVersions responses are a few hundred bytes; anything near this is not one. */
    private static final int MAX_PROBE_RESPONSE_BYTES = 1 << 20;

    private BrokerProbe() {}

    /** Parses {@code host:port[,host:port...]}; IPv6 hosts in brackets. */
    static List<InetSocketAddress> parse(String bootstrapServers) {
        List<InetSocketAddress> result = new ArrayList<>();
        for (String part : bootstrapServers.split(",")) {
            String s = part.trim();
            if (s.isEmpty()) {
                continue;
            }
            int colon = s.lastIndexOf(':');
            if (colon <= 0 || colon == s.length() - 1) {
                throw new CliException("bad bootstrap server '" + s + "': expected HOST:PORT");
            }
            String host = s.substring(0, colon);
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            int port;
            try {
                port = Integer.parseInt(s.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new CliException("bad bootstrap server '" + s + "': port is not a number");
            }
            if (port < 1 || port > 65535) {
                throw new CliException("bad bootstrap server '" + s + "': port out of range");
            }
            result.add(InetSocketAddress.createUnresolved(host, port));
        }
        if (result.isEmpty()) {
            throw new CliException("no bootstrap server given");
        }
        return result;
    }

    /** Returns when one address accepts a TCP connection; otherwise throws a {@link CliException} naming the first. */
    static void requireReachable(String bootstrapServers, int connectTimeoutMs, boolean plaintext) {
        List<InetSocketAddress> addresses = parse(bootstrapServers);
        String firstFailure = null;
        for (InetSocketAddress unresolved : addresses) {
            String reason = tryConnect(unresolved, connectTimeoutMs, plaintext);
            if (reason == null) {
                return;
            }
            if (firstFailure == null) {
                firstFailure = reason;
            }
        }
        throw new CliException("cannot reach broker at " + bootstrapServers + " (" + firstFailure + ")");
    }

    /** Null on success, else a short lower-case reason. */
    private static String tryConnect(InetSocketAddress unresolved, int connectTimeoutMs, boolean plaintext) {
        InetSocketAddress address = new InetSocketAddress(unresolved.getHostString(), unresolved.getPort());
        if (address.isUnresolved()) {
            return "unknown host " + unresolved.getHostString();
        }
        try (Socket socket = new Socket()) {
            socket.connect(address, connectTimeoutMs);
            if (!plaintext) {
                return null;
            }
            socket.setSoTimeout(connectTimeoutMs);
            return checkApiVersions(socket);
        } catch (ConnectException e) {
            return "connection refused";
        } catch (SocketTimeoutException e) {
            return "no answer within " + connectTimeoutMs + " ms";
        } catch (EOFException e) {
            return "connection closed without a Kafka answer; is this a Kafka listener (TLS?)";
        } catch (NoRouteToHostException e) {
            return "no route to host";
        } catch (UnknownHostException e) {
            return "unknown host " + unresolved.getHostString();
        } catch (IOException e) {
            return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage().toLowerCase(Locale.ROOT);
        }
    }

    /** Sends ApiVersions v0 and checks the reply's frame and correlation id; null when it looks like Kafka. */
    private static String checkApiVersions(Socket socket) throws IOException {
        int correlationId = 0x67726567; // "greg"
        short version = 0;
        RequestHeaderData header = new RequestHeaderData()
                .setRequestApiKey(ApiKeys.API_VERSIONS.id)
                .setRequestApiVersion(version)
                .setCorrelationId(correlationId)
                .setClientId("gregor-cli-probe");
        short headerVersion = ApiKeys.API_VERSIONS.requestHeaderVersion(version);
        ApiVersionsRequestData body = new ApiVersionsRequestData();
        ObjectSerializationCache cache = new ObjectSerializationCache();
        int size = header.size(cache, headerVersion) + body.size(cache, version);
        ByteBuffer request = ByteBuffer.allocate(4 + size);
        request.putInt(size);
        ByteBufferAccessor accessor = new ByteBufferAccessor(request);
        header.write(accessor, cache, headerVersion);
        body.write(accessor, cache, version);
        DataOutputStream out = new DataOutputStream(socket.getOutputStream());
        out.write(request.array());
        out.flush();
        DataInputStream in = new DataInputStream(socket.getInputStream());
        int responseSize = in.readInt();
        if (responseSize < 4 || responseSize > MAX_PROBE_RESPONSE_BYTES || in.readInt() != correlationId) {
            return "the answer is not Kafka protocol; is this a Kafka listener (TLS, HTTP?)";
        }
        return null;
    }
}
