package io.gregor.broker.network;

import io.gregor.broker.controller.FeatureOperations;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.message.ApiVersionsResponseData.ApiVersion;
import org.apache.kafka.common.message.ApiVersionsResponseData.ApiVersionCollection;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * ApiVersions: the ranges come from the handler registry, so nothing is advertised that is not served.
 *
 * <p>Errors: UNSUPPORTED_VERSION (request newer than ours, answered in v0 by the connection), INVALID_REQUEST
 * (v3+ with an invalid client software name or version).
 */
public final class ApiVersionsHandler implements ApiHandler<ApiVersionsRequestData> {
    private final HandlerRegistry registry;
    private final java.util.function.IntSupplier transactionVersion;
    private final java.util.function.LongSupplier featuresEpoch;

    /**
     * @param transactionVersion the finalized transaction.version (0-2) advertised from ApiVersions v3: 2 makes
     *                           Kafka 4.x producers use transaction version 2 (KIP-890 part 2)
     * @param featuresEpoch      the epoch of the finalized features (it grows with every change)
     */
    public ApiVersionsHandler(HandlerRegistry registry, java.util.function.IntSupplier transactionVersion,
                              java.util.function.LongSupplier featuresEpoch) {
        this.registry = registry;
        this.transactionVersion = transactionVersion;
        this.featuresEpoch = featuresEpoch;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.API_VERSIONS;
    }

    @Override
    public short minVersion() {
        return 0;
    }

    @Override
    public short maxVersion() {
        return 4;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, ApiVersionsRequestData request) {
        ApiVersionsResponseData response = new ApiVersionsResponseData().setApiKeys(apiKeys(registry));
        if (context.apiVersion() >= 3) {
            // Features (KIP-584), as Kafka 4.x answers them: what this broker supports and what is finalized.
            ApiVersionsResponseData.SupportedFeatureKeyCollection supported =
                    new ApiVersionsResponseData.SupportedFeatureKeyCollection();
            supported.add(new ApiVersionsResponseData.SupportedFeatureKey().setName(FeatureOperations.TRANSACTION_VERSION)
                    .setMinVersion((short) 0).setMaxVersion(FeatureOperations.MAX_TRANSACTION_VERSION));
            response.setSupportedFeatures(supported);
            ApiVersionsResponseData.FinalizedFeatureKeyCollection finalized =
                    new ApiVersionsResponseData.FinalizedFeatureKeyCollection();
            short level = (short) transactionVersion.getAsInt();
            if (level > 0) {
                finalized.add(new ApiVersionsResponseData.FinalizedFeatureKey().setName(FeatureOperations.TRANSACTION_VERSION)
                        .setMinVersionLevel(level).setMaxVersionLevel(level));
            }
            response.setFinalizedFeatures(finalized).setFinalizedFeaturesEpoch(featuresEpoch.getAsLong());
        }
        if (context.apiVersion() >= 3 && !(valid(request.clientSoftwareName()) && valid(request.clientSoftwareVersion()))) {
            response.setErrorCode(Errors.INVALID_REQUEST.code());
        }
        return CompletableFuture.completedFuture(response);
    }

    /** KIP-511 software names: alphanumerics, '.', '-'; must start and end with an alphanumeric. */
    private static boolean valid(String s) {
        return s != null && s.matches("[a-zA-Z0-9](?:[a-zA-Z0-9\\-.]*[a-zA-Z0-9])?");
    }

    static ApiVersionsResponseData unsupportedVersionResponse(HandlerRegistry registry) {
        return new ApiVersionsResponseData().setErrorCode(Errors.UNSUPPORTED_VERSION.code()).setApiKeys(apiKeys(registry));
    }

    private static ApiVersionCollection apiKeys(HandlerRegistry registry) {
        ApiVersionCollection keys = new ApiVersionCollection();
        registry.all().stream()
                .sorted(java.util.Comparator.comparingInt(h -> h.apiKey().id))
                .forEach(h -> keys.add(new ApiVersion().setApiKey(h.apiKey().id)
                        .setMinVersion(advertisedMin(registry, h)).setMaxVersion(h.maxVersion())));
        return keys;
    }

    /**
     * The registry's range, legacy versions included when they are served. Produce is advertised from v0 even when
     * legacy versions are off, as Kafka 4.x does: librdkafka stops compressing when Produce v0 is missing
     * (KAFKA-18659).
     */
    private static short advertisedMin(HandlerRegistry registry, ApiHandler<?> handler) {
        return handler.apiKey() == ApiKeys.PRODUCE ? 0 : registry.rangeOf(handler.apiKey())[0];
    }
}
