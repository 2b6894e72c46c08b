package io.gregor.broker;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.Socket;
import java.nio.ByteBuffer;
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
}
