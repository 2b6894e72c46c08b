package io.gregor.broker.network;

import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;

/**
 * Serves one API key. Implementations declare the versions they support; the ApiVersions response and the request
 * parser's version check both come from these declarations, so nothing is advertised that is not implemented.
 *
 * <p>{@link #handle} runs on the connection's serial executor (an I/O pool thread): requests of one connection are
 * handled one after another in arrival order, but the returned future may complete later (long polls, fsync waits);
 * responses still leave in request order.
 *
 * @param <Q> the generated request data class
 */
public interface ApiHandler<Q extends ApiMessage> {

    ApiKeys apiKey();

    short minVersion();

    short maxVersion();

    /**
     * Handles a request. The future completes with the response body, or with {@code null} when no response is to be
     * sent (Produce with acks=0).
     */
    CompletableFuture<ApiMessage> handle(RequestContext context, Q request);
}
