package io.gregor.broker.handlers;

import io.gregor.broker.network.ApiHandler;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;

/** Shared plumbing of the request handlers: the API key and version range from the constructor. */
abstract class BrokerHandler<Q extends ApiMessage> implements ApiHandler<Q> {
    private final ApiKeys key;
    private final short min;
    private final short max;

    BrokerHandler(ApiKeys key, int min, int max) {
        this.key = key;
        this.min = (short) min;
        this.max = (short) max;
    }

    @Override
    public ApiKeys apiKey() {
        return key;
    }

    @Override
    public short minVersion() {
        return min;
    }

    @Override
    public short maxVersion() {
        return max;
    }

    static CompletableFuture<ApiMessage> done(ApiMessage response) {
        return CompletableFuture.completedFuture(response);
    }
}
