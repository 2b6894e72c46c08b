package io.gregor.broker.handlers;

import io.gregor.metadata.ApiError;
import org.apache.kafka.common.protocol.Errors;

/** Kafka's config resource types, and the check that a BROKER resource names this node, shared by the config APIs. */
final class ConfigResources {
    static final byte TOPIC = 2;
    static final byte BROKER = 4;
    static final byte BROKER_LOGGER = 8;

    private ConfigResources() {
    }

    /** A broker resource is "" (the cluster-wide default) or this node's id; anything else is INVALID_REQUEST. */
    static ApiError checkBrokerName(String resourceName, int nodeId) {
        if (resourceName.isEmpty() || resourceName.equals(String.valueOf(nodeId))) {
            return ApiError.NONE;
        }
        return ApiError.of(Errors.INVALID_REQUEST, "Unexpected broker id, expected " + nodeId
                + " or empty string, but received " + resourceName);
    }

    static ApiError unsupportedType(byte resourceType) {
        return ApiError.of(Errors.INVALID_REQUEST, "Unsupported resource type: " + resourceType);
    }

    /** Completes {@code targets[i]} with the i-th result of {@code all}, or all of them with its failure. */
    static void completeEach(java.util.concurrent.CompletableFuture<java.util.List<ApiError>> all,
                             java.util.List<java.util.concurrent.CompletableFuture<ApiError>> targets) {
        all.whenComplete((errors, failure) -> {
            for (int i = 0; i < targets.size(); i++) {
                if (failure != null) {
                    targets.get(i).completeExceptionally(failure);
                } else {
                    targets.get(i).complete(errors.get(i));
                }
            }
        });
    }

    /**
     * The outcome for a resource that is not a topic: broker configs go through {@code alterBroker} with the node id
     * the resource names (-1 for "", the cluster-wide defaults); a name that is not a node id is INVALID_REQUEST;
     * logger levels and unknown types are refused.
     */
    static java.util.concurrent.CompletableFuture<ApiError> alterNonTopic(
            byte resourceType, String resourceName,
            java.util.function.IntFunction<java.util.concurrent.CompletableFuture<ApiError>> alterBroker) {
        if (resourceType == BROKER) {
            int nodeId;
            try {
                nodeId = resourceName.isEmpty() ? -1 : Integer.parseInt(resourceName);
            } catch (NumberFormatException e) {
                nodeId = -2;
            }
            if (nodeId < -1) {
                return java.util.concurrent.CompletableFuture.completedFuture(ApiError.of(Errors.INVALID_REQUEST,
                        "Unexpected broker id: " + resourceName));
            }
            return alterBroker.apply(nodeId);
        }
        if (resourceType == BROKER_LOGGER) {
            return java.util.concurrent.CompletableFuture.completedFuture(ApiError.of(
                    org.apache.kafka.common.protocol.Errors.INVALID_REQUEST, "Changing broker logger levels is not supported."));
        }
        return java.util.concurrent.CompletableFuture.completedFuture(unsupportedType(resourceType));
    }
}
