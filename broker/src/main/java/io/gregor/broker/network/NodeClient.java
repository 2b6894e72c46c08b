package io.gregor.broker.network;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.common.message.RequestHeaderData;
import org.apache.kafka.common.message.ResponseHeaderData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.ObjectSerializationCache;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kafka-protocol requests from this node to other nodes (the active controller, partition leaders): one connection
 * per destination address and lane, opened on first use and again after it breaks; requests on a connection are
 * pipelined and matched to responses by correlation id. A node answers the requests of one connection in order, so
 * each kind of traffic has a lane of its own (as Kafka's brokers have a network client per purpose): a follower's
 * fetch, parked at the leader for up to replica.fetch.wait.max.ms, does not hold up a heartbeat to the controller, a
 * transaction marker or a transaction verification on the same destination. Every request has a deadline; a broken connection fails the requests in
 * flight on it with an {@link IOException}. Thread-safe.
 */
public final class NodeClient implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(NodeClient.class);

    private final String clientId;
    private final int maxResponseBytes;
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Map<Destination, Connection> connections = new ConcurrentHashMap<>();

    /** The lane of requests sent without one. */
    public static final String DEFAULT_LANE = "default";

    private record Destination(InetSocketAddress address, String lane) {
    }
    private final AtomicInteger correlationIds = new AtomicInteger();
    private volatile boolean closed;

    /**
     * @param clientId         the client id of every request (e.g. {@code gregor-node-2}), as it appears in the
     *                         other node's logs
     * @param maxResponseBytes the largest response frame read; a larger one breaks the connection
     */
    public NodeClient(String clientId, int maxResponseBytes) {
        this.clientId = clientId;
        this.maxResponseBytes = maxResponseBytes;
    }

    /**
     * Sends {@code request} at {@code version} to {@code address}; completes with the response body, or exceptionally
     * with an {@link IOException} (connection refused or broken, closed client) or a {@link TimeoutException} after
     * {@code timeout}.
     */
    public CompletableFuture<ApiMessage> send(InetSocketAddress address, ApiMessage request, short version, Duration timeout) {
        return send(DEFAULT_LANE, address, request, version, timeout);
    }

    /** As {@link #send(InetSocketAddress, ApiMessage, short, Duration)}, on the connection of {@code lane}. */
    public CompletableFuture<ApiMessage> send(String lane, InetSocketAddress address, ApiMessage request, short version,
                                              Duration timeout) {
        if (closed) {
            return CompletableFuture.failedFuture(new IOException("node client is closed"));
        }
        Connection connection = connections.computeIfAbsent(new Destination(address, lane), d -> new Connection(d.address()));
        CompletableFuture<ApiMessage> result = connection.send(request, version);
        return result.orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Drops the connection of {@code lane} to {@code address} (after a timeout that may have left it stuck). */
    public void disconnect(String lane, InetSocketAddress address) {
        Connection connection = connections.remove(new Destination(address, lane));
        if (connection != null) {
            connection.close(new IOException("disconnected"));
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Connection connection : connections.values()) {
            connection.close(new IOException("node client is closed"));
        }
        connections.clear();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }

    private record InFlight(ApiKeys key, short version, CompletableFuture<ApiMessage> future) {
    }

    /** One connection: opened lazily; requests wait for the connect; failures fail everything in flight. */
    private final class Connection {
        private final InetSocketAddress address;
        private final Map<Integer, InFlight> inFlight = new ConcurrentHashMap<>();
        private ChannelFuture connect;

        Connection(InetSocketAddress address) {
            this.address = address;
        }

        synchronized CompletableFuture<ApiMessage> send(ApiMessage request, short version) {
            if (connect == null || connect.isDone() && (!connect.isSuccess() || !connect.channel().isActive())) {
                connect = open();
            }
            ApiKeys key = ApiKeys.forId(request.apiKey());
            int correlationId = correlationIds.incrementAndGet();
            CompletableFuture<ApiMessage> future = new CompletableFuture<>();
            inFlight.put(correlationId, new InFlight(key, version, future));
            future.whenComplete((r, e) -> inFlight.remove(correlationId));
            ChannelFuture pending = connect;
            pending.addListener(done -> {
                if (!done.isSuccess()) {
                    future.completeExceptionally(new IOException("cannot connect to " + address + ": "
                            + done.cause().getMessage(), done.cause()));
                    return;
                }
                Channel channel = pending.channel();
                ByteBuf frame;
                try {
                    frame = encode(channel, request, key, version, correlationId);
                } catch (RuntimeException e) {
                    future.completeExceptionally(e);
                    return;
                }
                channel.writeAndFlush(frame).addListener(written -> {
                    if (!written.isSuccess()) {
                        future.completeExceptionally(new IOException("cannot send to " + address, written.cause()));
                    }
                });
            });
            return future;
        }

        private ChannelFuture open() {
            Bootstrap bootstrap = new Bootstrap().group(group).channel(NioSocketChannel.class)
                    .option(ChannelOption.TCP_NODELAY, true)
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 10_000)
                    .handler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast(new LengthFieldBasedFrameDecoder(maxResponseBytes, 0, 4, 0, 4));
                            ch.pipeline().addLast(new ResponseHandler(Connection.this));
                        }
                    });
            ChannelFuture future = bootstrap.connect(address);
            future.addListener(done -> {
                if (done.isSuccess()) {
                    future.channel().closeFuture().addListener(c -> failAll(new IOException("connection to " + address
                            + " closed")));
                }
            });
            return future;
        }

        void onResponse(ByteBuf frame) {
            ByteBuffer buffer = ByteBuffer.allocate(frame.readableBytes());
            frame.readBytes(buffer);
            buffer.flip();
            int correlationId = buffer.getInt(0);
            InFlight request = inFlight.remove(correlationId);
            if (request == null) {
                return; // timed out meanwhile
            }
            try {
                ByteBufferAccessor accessor = new ByteBufferAccessor(buffer);
                new ResponseHeaderData(accessor, request.key().responseHeaderVersion(request.version()));
                ApiMessage body = request.key().messageType.newResponse();
                body.read(accessor, request.version());
                request.future().complete(body);
            } catch (RuntimeException e) {
                request.future().completeExceptionally(new IOException("unreadable " + request.key() + " response from "
                        + address + ": " + e.getMessage(), e));
            }
        }

        void failAll(IOException error) {
            for (InFlight request : inFlight.values()) {
                request.future().completeExceptionally(error);
            }
            inFlight.clear();
        }

        synchronized void close(IOException error) {
            if (connect != null) {
                connect.channel().close();
            }
            failAll(error);
        }
    }

    private ByteBuf encode(Channel channel, ApiMessage request, ApiKeys key, short version, int correlationId) {
        short headerVersion = key.requestHeaderVersion(version);
        RequestHeaderData header = new RequestHeaderData().setRequestApiKey(key.id).setRequestApiVersion(version)
                .setClientId(clientId).setCorrelationId(correlationId);
        ObjectSerializationCache cache = new ObjectSerializationCache();
        int size = header.size(cache, headerVersion) + request.size(cache, version);
        ByteBuffer buffer = ByteBuffer.allocate(4 + size);
        buffer.putInt(size);
        ByteBufferAccessor accessor = new ByteBufferAccessor(buffer);
        header.write(accessor, cache, headerVersion);
        request.write(accessor, cache, version);
        buffer.flip();
        return channel.alloc().buffer(buffer.remaining()).writeBytes(buffer);
    }

    private static final class ResponseHandler extends SimpleChannelInboundHandler<ByteBuf> {
        private final Connection connection;

        ResponseHandler(Connection connection) {
            this.connection = connection;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, ByteBuf frame) {
            connection.onResponse(frame);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            log.debug("Connection to {} failed: {}", connection.address, cause.toString());
            ctx.close();
        }
    }
}
