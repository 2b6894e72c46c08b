package io.gregor.broker.network;

import io.gregor.broker.config.BrokerConfig;
import io.gregor.broker.config.Endpoint;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.timeout.IdleStateHandler;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Kafka protocol listeners: one server channel per configured listener, a shared event-loop group (native epoll
 * when available, NIO otherwise), and per connection the pipeline {@code idle → framing → request dispatch}.
 */
public final class KafkaServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(KafkaServer.class);

    private final BrokerConfig config;
    private final HandlerRegistry registry;
    private final ExecutorService ioPool;
    private final RequestVersionLog versionsSeen = new RequestVersionLog(10_000);
    private final AtomicInteger connections = new AtomicInteger();
    private final List<Channel> serverChannels = new ArrayList<>();
    private final List<InetSocketAddress> bound = new ArrayList<>();
    private final java.util.concurrent.CompletableFuture<Void> ready = new java.util.concurrent.CompletableFuture<>();
    private EventLoopGroup group;

    public KafkaServer(BrokerConfig config, HandlerRegistry registry, ExecutorService ioPool) {
        this.config = config;
        this.registry = registry;
        this.ioPool = ioPool;
    }

    public void start() throws IOException {
        boolean epoll = Epoll.isAvailable();
        int threads = config.numNetworkThreads() > 0 ? config.numNetworkThreads() : Runtime.getRuntime().availableProcessors();
        group = new MultiThreadIoEventLoopGroup(threads, epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
        for (Endpoint endpoint : config.brokerListeners()) {
            ServerBootstrap bootstrap = new ServerBootstrap()
                    .group(group)
                    .channel(epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class)
                    .option(ChannelOption.SO_BACKLOG, 1024)
                    .option(ChannelOption.SO_REUSEADDR, true)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childOption(ChannelOption.SO_KEEPALIVE, true)
                    .childHandler(initializer(endpoint.listenerName()));
            if (config.socketSendBufferBytes() > 0) {
                bootstrap.childOption(ChannelOption.SO_SNDBUF, config.socketSendBufferBytes());
            }
            if (config.socketReceiveBufferBytes() > 0) {
                // Set on the listening socket so that it applies from the handshake (the TCP window scale).
                bootstrap.option(ChannelOption.SO_RCVBUF, config.socketReceiveBufferBytes());
            }
            try {
                Channel channel = bootstrap.bind(endpoint.host(), endpoint.port()).sync().channel();
                serverChannels.add(channel);
                bound.add((InetSocketAddress) channel.localAddress());
            } catch (Exception e) {
                close();
                throw new IOException("Cannot listen on " + endpoint + ": " + e.getMessage(), e);
            }
        }
        log.info("Listening on {} ({} transport, {} network threads)", bound, epoll ? "epoll" : "nio", threads);
    }

    private ChannelHandler initializer(String listenerName) {
        int maxFrame = config.socketRequestMaxBytes();
        long idleMs = config.connectionsMaxIdleMs();
        return new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
                if (connections.incrementAndGet() > config.maxConnections()) {
                    connections.decrementAndGet();
                    log.warn("Refusing connection from {}: max.connections={} reached", ch.remoteAddress(), config.maxConnections());
                    ch.close();
                    return;
                }
                ch.closeFuture().addListener(f -> connections.decrementAndGet());
                if (idleMs > 0) {
                    ch.pipeline().addLast(new IdleStateHandler(0, 0, idleMs, TimeUnit.MILLISECONDS));
                }
                ch.pipeline().addLast(new FrameDecoder(maxFrame));
                ch.pipeline().addLast(new ConnectionHandler(registry, versionsSeen, listenerName, config.queuedMaxRequests(), ioPool, ready));
            }
        };
    }

    /** Length-prefixed frames; a negative or over-limit length fails fast and the connection is closed. */
    static final class FrameDecoder extends LengthFieldBasedFrameDecoder {
        private final int maxFrame;

        FrameDecoder(int maxFrame) {
            super(maxFrame == Integer.MAX_VALUE ? Integer.MAX_VALUE : maxFrame + 4, 0, 4, 0, 4, true);
            this.maxFrame = maxFrame;
        }

        @Override
        protected long getUnadjustedFrameLength(io.netty.buffer.ByteBuf buf, int offset, int length, java.nio.ByteOrder order) {
            long size = buf.getInt(offset);
            if (size < 0) {
                throw new io.netty.handler.codec.CorruptedFrameException("negative request size " + size);
            }
            if (size > maxFrame) {
                throw new io.netty.handler.codec.TooLongFrameException("request of " + size
                        + " bytes exceeds socket.request.max.bytes (" + maxFrame + ")");
            }
            return size;
        }
    }

    /**
     * Lets requests through. Until then connections are accepted and their requests wait, so the listeners can be
     * bound while the metadata log is still starting.
     */
    public void markReady() {
        ready.complete(null);
    }

    public List<InetSocketAddress> boundAddresses() {
        return List.copyOf(bound);
    }

    public int connectionCount() {
        return connections.get();
    }

    @Override
    public void close() {
        for (Channel channel : serverChannels) {
            channel.close().syncUninterruptibly();
        }
        serverChannels.clear();
        if (group != null) {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
            group = null;
        }
    }
}
