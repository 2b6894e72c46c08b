package io.gregor.it;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.reflect.Method;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.apache.kafka.common.message.ApiMessageType;
import org.apache.kafka.common.message.RequestHeaderData;
import org.apache.kafka.common.message.ResponseHeaderData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.Message;
import org.apache.kafka.common.protocol.ObjectSerializationCache;

/**
 * A minimal blocking Kafka protocol client for tests that need to send exactly the bytes they want: requests are
 * encoded with kafka-clients' generated message classes (or written by hand via {@link #sendRaw(byte[])}), one at a
 * time, and every read is bounded by a socket timeout so a misbehaving broker fails the test instead of hanging it.
 */
final class RawKafkaClient implements AutoCloseable {
    private static final String CLIENT_ID = "gregor-raw-it";

    private final Socket socket;
    private final OutputStream out;
    private final DataInputStream in;
    private int nextCorrelationId = 1;

    RawKafkaClient(InetSocketAddress address) throws IOException {
        this(address, Duration.ofSeconds(10));
    }

    RawKafkaClient(InetSocketAddress address, Duration readTimeout) throws IOException {
        socket = new Socket();
        socket.setTcpNoDelay(true);
        socket.connect(address, 5_000);
        socket.setSoTimeout((int) readTimeout.toMillis());
        out = socket.getOutputStream();
        in = new DataInputStream(socket.getInputStream());
    }

    /** Sends {@code request} as version {@code version} and returns the parsed response of the same version. */
    @SuppressWarnings("unchecked")
    <T extends ApiMessage> T send(ApiMessage request, short version) throws IOException {
        ApiKeys key = ApiKeys.forId(request.apiKey());
        int correlationId = write(request, version, version);
        return (T) receive(key, version, correlationId);
    }

    /**
     * Sends {@code request} as version {@code version} on a connection of its own, closed after the response (for
     * tests that go through every version of an API), and returns the parsed response.
     */
    static <T extends ApiMessage> T sendOnce(InetSocketAddress address, ApiMessage request, short version) throws IOException {
        try (RawKafkaClient client = new RawKafkaClient(address)) {
            return client.send(request, version);
        }
    }

    /** Every error code field in a response, found by walking its generated fields (not its text). */
    static List<Short> errorCodes(Message message) throws ReflectiveOperationException {
        List<Short> codes = new ArrayList<>();
        for (Method method : message.getClass().getMethods()) {
            if (method.getParameterCount() != 0 || method.getDeclaringClass() != message.getClass()
                    || method.getName().equals("duplicate") || method.getName().equals("unknownTaggedFields")) {
                continue;
            }
            if (method.getName().equals("errorCode") && method.getReturnType() == short.class) {
                codes.add((Short) method.invoke(message));
            } else if (Message.class.isAssignableFrom(method.getReturnType())) {
                Object child = method.invoke(message);
                if (child != null) {
                    codes.addAll(errorCodes((Message) child));
                }
            } else if (Collection.class.isAssignableFrom(method.getReturnType())) {
                for (Object element : (Collection<?>) method.invoke(message)) {
                    if (element instanceof Message child) {
                        codes.addAll(errorCodes(child));
                    }
                }
            }
        }
        return codes;
    }

    /**
     * Writes {@code request} with {@code claimedVersion} in its header but its body encoded as {@code bodyVersion}
     * (for versions the codec no longer knows), without reading anything back. Returns the correlation id.
     */
    int write(ApiMessage request, short claimedVersion, short bodyVersion) throws IOException {
        int correlationId = nextCorrelationId++;
        sendRaw(encode(request, claimedVersion, bodyVersion, correlationId));
        return correlationId;
    }

    /** The bytes of the request header {@link #encode} writes for {@code key} at {@code version}. */
    static int headerSize(ApiKeys key, short version) {
        RequestHeaderData header = new RequestHeaderData().setRequestApiKey(key.id).setRequestApiVersion(version)
                .setCorrelationId(1).setClientId(CLIENT_ID);
        return header.size(new ObjectSerializationCache(), requestHeaderVersion(key, version));
    }

    /** The frame (length prefix, header, body) of {@code request}, without sending it. */
    static byte[] encode(ApiMessage request, short claimedVersion, short bodyVersion, int correlationId) {
        ApiKeys key = ApiKeys.forId(request.apiKey());
        RequestHeaderData header = new RequestHeaderData()
                .setRequestApiKey(key.id)
                .setRequestApiVersion(claimedVersion)
                .setCorrelationId(correlationId)
                .setClientId(CLIENT_ID);
        short headerVersion = requestHeaderVersion(key, claimedVersion);
        ObjectSerializationCache cache = new ObjectSerializationCache();
        int headerSize = header.size(cache, headerVersion);
        int bodySize = request.size(cache, bodyVersion);
        ByteBuffer buffer = ByteBuffer.allocate(4 + headerSize + bodySize);
        buffer.putInt(headerSize + bodySize);
        ByteBufferAccessor accessor = new ByteBufferAccessor(buffer);
        header.write(accessor, cache, headerVersion);
        request.write(accessor, cache, bodyVersion);
        if (buffer.hasRemaining()) {
            throw new IllegalStateException("encoded " + buffer.position() + " of " + buffer.capacity() + " bytes");
        }
        return buffer.array();
    }

    /**
     * Sends a request of a version Kafka 4.0 removed, encoded by kafka-clients 3.9.1's message classes (relocated in
     * gregor-kafka-legacy), and returns the response decoded by the same classes.
     */
    @SuppressWarnings("unchecked")
    <T extends io.gregor.legacy.kafka.common.protocol.ApiMessage> T sendLegacy(
            io.gregor.legacy.kafka.common.protocol.ApiMessage request, short version) throws IOException {
        int correlationId = writeLegacy(request, version);
        return (T) receiveLegacy(request.apiKey(), version, correlationId);
    }

    /** Writes a legacy request (header v1) without reading anything back; returns the correlation id. */
    int writeLegacy(io.gregor.legacy.kafka.common.protocol.ApiMessage request, short version) throws IOException {
        int correlationId = nextCorrelationId++;
        RequestHeaderData header = new RequestHeaderData().setRequestApiKey(request.apiKey())
                .setRequestApiVersion(version).setCorrelationId(correlationId).setClientId(CLIENT_ID);
        ObjectSerializationCache cache = new ObjectSerializationCache();
        int headerSize = header.size(cache, (short) 1);
        var legacyCache = new io.gregor.legacy.kafka.common.protocol.ObjectSerializationCache();
        int bodySize = request.size(legacyCache, version);
        ByteBuffer buffer = ByteBuffer.allocate(4 + headerSize + bodySize);
        buffer.putInt(headerSize + bodySize);
        header.write(new ByteBufferAccessor(buffer), cache, (short) 1);
        request.write(new io.gregor.legacy.kafka.common.protocol.ByteBufferAccessor(buffer), legacyCache, version);
        sendRaw(buffer.array());
        return correlationId;
    }

    /** Reads one legacy response (header v0) and decodes it with kafka-clients 3.9.1's classes. */
    io.gregor.legacy.kafka.common.protocol.ApiMessage receiveLegacy(short apiKey, short version, int expectedCorrelationId)
            throws IOException {
        ByteBuffer frame = ByteBuffer.wrap(readFrame());
        int correlationId = frame.getInt();
        if (correlationId != expectedCorrelationId) {
            throw new IOException("correlation id " + correlationId + ", expected " + expectedCorrelationId);
        }
        var response = io.gregor.legacy.kafka.common.protocol.ApiKeys.forId(apiKey).messageType.newResponse();
        response.read(new io.gregor.legacy.kafka.common.protocol.ByteBufferAccessor(frame), version);
        if (frame.hasRemaining()) {
            throw new IOException(frame.remaining() + " unread bytes after legacy " + apiKey + " v" + version + " response");
        }
        return response;
    }

    /** Reads one response frame and decodes it as {@code key} version {@code version}. */
    ApiMessage receive(ApiKeys key, short version, int expectedCorrelationId) throws IOException {
        ByteBuffer frame = ByteBuffer.wrap(readFrame());
        ByteBufferAccessor accessor = new ByteBufferAccessor(frame);
        ResponseHeaderData header = new ResponseHeaderData(accessor, key.responseHeaderVersion(version));
        if (header.correlationId() != expectedCorrelationId) {
            throw new IOException("correlation id " + header.correlationId() + ", expected " + expectedCorrelationId);
        }
        ApiMessage response = key.messageType.newResponse();
        response.read(accessor, version);
        if (frame.hasRemaining()) {
            throw new IOException(frame.remaining() + " unread bytes after " + key + " v" + version + " response");
        }
        return response;
    }

    /** Writes {@code bytes} to the socket exactly as given (include the length prefix yourself). */
    void sendRaw(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    /** Reads one length-prefixed frame and returns its payload. */
    byte[] readFrame() throws IOException {
        int size = in.readInt();
        if (size < 0 || size > 64 << 20) {
            throw new IOException("implausible response size " + size);
        }
        byte[] payload = new byte[size];
        in.readFully(payload);
        return payload;
    }

    /**
     * Whether the broker closes this connection within the socket timeout: true on end of stream or a reset, false if
     * the read times out. Fails if the broker sends a response instead.
     */
    boolean awaitClosedByBroker() throws IOException {
        try {
            InputStream raw = socket.getInputStream();
            int b = raw.read();
            if (b == -1) {
                return true;
            }
            throw new IOException("broker sent data (first byte " + b + ") instead of closing the connection");
        } catch (SocketTimeoutException e) {
            return false;
        } catch (SocketException | EOFException e) {
            return true; // connection reset
        }
    }

    /** The request header version for {@code version}, also for versions outside what the codec knows. */
    static short requestHeaderVersion(ApiKeys key, short version) {
        ApiMessageType type = key.messageType;
        short clamped = (short) Math.max(type.lowestSupportedVersion(), Math.min(version, type.highestSupportedVersion(true)));
        return key.requestHeaderVersion(clamped);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
