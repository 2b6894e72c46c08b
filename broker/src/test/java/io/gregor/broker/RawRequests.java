package io.gregor.broker;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.common.message.RequestHeaderData;
import org.apache.kafka.common.message.ResponseHeaderData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.requests.RequestUtils;

/** One request at an exact version over a fresh socket, for tests that check every version of an API. */
final class RawRequests {
    private static final AtomicInteger CORRELATION_ID = new AtomicInteger();

    private RawRequests() {
    }

    /** Sends one request on a fresh connection and decodes the response; the connection closing fails the test. */
    static ApiMessage send(int port, String clientId, ApiKeys key, short version, ApiMessage body) throws IOException {
        RequestHeaderData header = new RequestHeaderData().setRequestApiKey(key.id).setRequestApiVersion(version)
                .setCorrelationId(CORRELATION_ID.incrementAndGet()).setClientId(clientId);
        ByteBuffer frame = RequestUtils.serialize(header, key.requestHeaderVersion(version), body, version);
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(10_000);
            DataOutputStream out = new DataOutputStream(socket.getOutputStream());
            out.writeInt(frame.remaining());
            out.write(frame.array(), frame.arrayOffset() + frame.position(), frame.remaining());
            out.flush();
            DataInputStream in = new DataInputStream(socket.getInputStream());
            byte[] bytes = new byte[in.readInt()];
            in.readFully(bytes);
            ByteBufferAccessor accessor = new ByteBufferAccessor(ByteBuffer.wrap(bytes));
            ResponseHeaderData responseHeader = new ResponseHeaderData(accessor, key.responseHeaderVersion(version));
            assertThat(responseHeader.correlationId()).isEqualTo(header.correlationId());
            ApiMessage response = key.messageType.newResponse();
            response.read(accessor, version);
            return response;
        }
    }

    /** Every error code field in a response, found by walking its generated fields (not its text). */
    static List<Short> errorCodes(Object message) throws ReflectiveOperationException {
        List<Short> codes = new java.util.ArrayList<>();
        for (java.lang.reflect.Method method : message.getClass().getMethods()) {
            if (method.getParameterCount() != 0 || method.getDeclaringClass() != message.getClass()
                    || method.getName().equals("duplicate") || method.getName().equals("unknownTaggedFields")) {
                continue;
            }
            if (method.getName().equals("errorCode") && method.getReturnType() == short.class) {
                codes.add((Short) method.invoke(message));
            } else if (org.apache.kafka.common.protocol.Message.class.isAssignableFrom(method.getReturnType())) {
                Object child = method.invoke(message);
                if (child != null) {
                    codes.addAll(errorCodes(child));
                }
            } else if (java.util.Collection.class.isAssignableFrom(method.getReturnType())) {
                for (Object element : (java.util.Collection<?>) method.invoke(message)) {
                    if (element instanceof org.apache.kafka.common.protocol.Message) {
                        codes.addAll(errorCodes(element));
                    }
                }
            }
        }
        return codes;
    }
}
