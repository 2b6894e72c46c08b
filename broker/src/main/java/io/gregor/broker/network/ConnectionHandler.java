package io.gregor.broker.network;

import io.gregor.protocol.KafkaRequest;
import io.gregor.protocol.RequestParseException;
import io.gregor.protocol.RequestParser;
import io.gregor.protocol.ResponseWriter;
import io.gregor.protocol.legacy.LegacyCodec;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.stream.ChunkedInput;
import io.netty.handler.stream.ChunkedWriteHandler;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection: decodes request frames, hands them to their {@link ApiHandler} on the connection's serial
 * executor, and writes responses strictly in request order even when an earlier request is parked (long-poll fetch,
 * fsync wait). At most {@code maxInFlight} requests are in progress; beyond that the channel stops reading.
 *
 * <p>All fields are confined to the channel's event loop except {@link #serial}.
 */
final class ConnectionHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(ConnectionHandler.class);

    private final HandlerRegistry registry;
    private final RequestVersionLog versionsSeen;
    private final RequestParser parser;
    private final String listenerName;
    private final int maxInFlight;
    private final SerialExecutor serial;
    private final java.util.concurrent.CompletableFuture<Void> ready;
    private final ArrayDeque<InFlight> inFlight = new ArrayDeque<>();
    private String connectionId = "?";
    private InetSocketAddress remote;
    private boolean closed;

    /** A request waiting for its turn to be written; {@code parts} is null until its response is encoded. */
    private static final class InFlight {
        final KafkaRequest request;
        boolean done;
        List<Object> parts;

        InFlight(KafkaRequest request) {
            this.request = request;
        }
    }

    ConnectionHandler(HandlerRegistry registry, RequestVersionLog versionsSeen, String listenerName, int maxInFlight,
                      Executor ioPool, java.util.concurrent.CompletableFuture<Void> ready) {
        this.versionsSeen = versionsSeen;
        this.ready = ready;
        this.registry = registry;
        this.parser = new RequestParser(registry);
        this.listenerName = listenerName;
        this.maxInFlight = maxInFlight;
        this.serial = new SerialExecutor(ioPool);
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        remote = (InetSocketAddress) ctx.channel().remoteAddress();
        connectionId = ctx.channel().localAddress() + "-" + remote + "-" + ctx.channel().id().asShortText();
        super.channelActive(ctx);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf frame = (ByteBuf) msg;
        if (closed) {
            frame.release();
            return;
        }
        KafkaRequest request;
        try {
            request = parser.parse(frame.nioBuffer());
        } catch (RequestParseException e) {
            frame.release();
            onParseFailure(ctx, e);
            return;
        }
        versionsSeen.record(request, remote, registry.handler(request.apiKey()).maxVersion());
        InFlight slot = new InFlight(request);
        inFlight.add(slot);
        if (inFlight.size() >= maxInFlight) {
            ctx.channel().config().setAutoRead(false);
        }
        RequestContext context = new RequestContext(request, listenerName, remote, connectionId);
        serial.execute(() -> dispatch(ctx, slot, context, frame));
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private void dispatch(ChannelHandlerContext ctx, InFlight slot, RequestContext context, ByteBuf frame) {
        if (!ready.isDone()) {
            ready.join();
        }
        ApiHandler handler = registry.handler(context.request().apiKey());
        CompletableFuture<ApiMessage> future;
        try {
            future = handler.handle(context, context.request().body());
        } catch (RuntimeException | LinkageError | AssertionError e) {
            // An error escaping a handler must still produce an answer (here: a logged close), or every later
            // response on this connection would wait behind it.
            future = CompletableFuture.failedFuture(e);
        }
        future.whenComplete((response, error) -> {
            frame.release();
            ctx.executor().execute(() -> complete(ctx, slot, response, error));
        });
    }

    private void complete(ChannelHandlerContext ctx, InFlight slot, ApiMessage response, Throwable error) {
        if (closed) {
            return;
        }
        KafkaRequest request = slot.request;
        if (error != null) {
            log.error("Error handling {} v{} from {} (client {}), closing connection", request.apiKey(),
                    request.wireVersion(), remote, request.clientId(), error);
            close(ctx);
            return;
        }
        if (response != null) {
            try {
                slot.parts = request.legacy()
                        ? ResponseWriter.encode(ctx.alloc(), request.correlationId(), request.responseHeaderVersion(),
                                LegacyCodec.writeResponse(request.apiKey(), request.wireVersion(), response))
                        : ResponseWriter.encode(ctx.alloc(), request.correlationId(), request.responseHeaderVersion(),
                                response, request.apiVersion(), true);
            } catch (RuntimeException e) {
                log.error("Cannot encode {} v{} response for {}, closing connection", request.apiKey(),
                        request.wireVersion(), remote, e);
                close(ctx);
                return;
            }
        }
        slot.done = true;
        drain(ctx);
    }

    private void drain(ChannelHandlerContext ctx) {
        boolean wrote = false;
        while (!inFlight.isEmpty() && inFlight.peek().done) {
            InFlight head = inFlight.poll();
            if (head.parts != null) {
                for (Object part : head.parts) {
                    if (part instanceof ChunkedInput<?>) {
                        // Records converted while written (old fetch versions): the first such response on a
                        // connection puts a ChunkedWriteHandler in front of this one; it keeps the order of writes.
                        if (ctx.pipeline().get(ChunkedWriteHandler.class) == null) {
                            ctx.pipeline().addBefore(ctx.name(), "chunked-writer", new ChunkedWriteHandler());
                        }
                        ctx.write(part).addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
                    } else {
                        ctx.write(part, ctx.voidPromise());
                    }
                }
                wrote = true;
            }
        }
        if (wrote) {
            ctx.flush();
        }
        if (!ctx.channel().config().isAutoRead() && inFlight.size() < maxInFlight) {
            ctx.channel().config().setAutoRead(true);
        }
    }

    private void onParseFailure(ChannelHandlerContext ctx, RequestParseException e) {
        var header = e.header();
        if (e.unsupportedVersion() && header != null && header.requestApiKey() == ApiKeys.API_VERSIONS.id) {
            // KIP-511: answer an ApiVersions request newer than ours with v0 and our ranges; the client retries lower.
            InFlight slot = new InFlight(new KafkaRequest(header, ApiKeys.API_VERSIONS, (short) 0, null, 0));
            inFlight.add(slot);
            ApiMessage response = ApiVersionsHandler.unsupportedVersionResponse(registry);
            complete(ctx, slot, response, null);
            return;
        }
        log.warn("Closing connection from {}{}: {}", remote,
                header == null ? "" : " (client " + header.clientId() + ")", e.getMessage());
        close(ctx);
    }

    private void close(ChannelHandlerContext ctx) {
        if (!closed) {
            closed = true;
            for (InFlight slot : inFlight) {
                if (slot.parts != null) {
                    slot.parts.forEach(ReferenceCountUtil::release);
                }
            }
            inFlight.clear();
            ctx.close();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        try {
            registry.connectionClosed(connectionId);
        } finally {
            close(ctx);
        }
        super.channelInactive(ctx);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof IdleStateEvent) {
            log.debug("Closing idle connection from {}", remote);
            close(ctx);
            return;
        }
        super.userEventTriggered(ctx, evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (closed) {
            return;
        }
        if (cause instanceof io.netty.handler.codec.DecoderException && cause.getCause() != null) {
            cause = cause.getCause();
        }
        if (cause instanceof io.netty.handler.codec.TooLongFrameException
                || cause instanceof io.netty.handler.codec.CorruptedFrameException) {
            log.warn("Closing connection from {}: {}", remote, cause.getMessage());
        } else if (cause instanceof java.io.IOException) {
            log.debug("Connection from {} failed: {}", remote, cause.toString());
        } else {
            log.warn("Closing connection from {} after an unexpected error", remote, cause);
        }
        close(ctx);
    }
}
