package io.gregor.broker.controller;

import io.gregor.broker.network.NodeClient;
import io.gregor.metadata.BrokerRegistration;
import io.gregor.metadata.MetadataCache;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.IntSupplier;
import java.util.function.Predicate;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.protocol.Message;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The way from this node to the active controller (the leader of the metadata quorum): whether this node is it, and
 * Kafka-protocol requests to it on its inter-broker listener, retried while there is no controller, it cannot be
 * reached, or it answers NOT_CONTROLLER (leadership moved) until the deadline.
 */
public final class ControllerChannel implements AutoCloseable {
    /** The NodeClient lane of requests to the controller (heartbeats, ISR changes, forwarded requests). */
    private static final String LANE = "controller";
    private static final Logger log = LoggerFactory.getLogger(ControllerChannel.class);
    private static final long RETRY_BACKOFF_MS = 100;

    private final int nodeId;
    private final IntSupplier leaderId;
    private final java.util.function.BooleanSupplier isLeader;
    private final MetadataCache metadata;
    private final String listenerName;
    private final NodeClient client;
    private final ScheduledExecutorService retries = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "gregor-controller-channel");
        t.setDaemon(true);
        return t;
    });

    /**
     * @param leaderId     the node id of the metadata quorum's leader, -1 when none is known
     * @param isLeader     whether this node is the leader and ready to append
     * @param listenerName the listener nodes reach each other on (inter.broker.listener.name)
     */
    public ControllerChannel(int nodeId, IntSupplier leaderId, java.util.function.BooleanSupplier isLeader,
                             MetadataCache metadata, String listenerName, NodeClient client) {
        this.nodeId = nodeId;
        this.leaderId = leaderId;
        this.isLeader = isLeader;
        this.metadata = metadata;
        this.listenerName = listenerName;
        this.client = client;
    }

    /** True when this node is the active controller: metadata writes run here. */
    public boolean isActive() {
        return isLeader.getAsBoolean();
    }

    /** The active controller's node id, or -1 while there is none. */
    public int controllerId() {
        return leaderId.getAsInt();
    }

    /** The active controller's inter-broker address, or null while it is unknown or not registered yet. */
    public InetSocketAddress controllerAddress() {
        int id = leaderId.getAsInt();
        BrokerRegistration controller = id < 0 ? null : metadata.image().broker(id);
        BrokerRegistration.Endpoint endpoint = controller == null ? null : controller.endpoint(listenerName);
        return endpoint == null ? null : InetSocketAddress.createUnresolved(endpoint.host(), endpoint.port());
    }

    /**
     * Sends {@code request} to the active controller and completes with its response; retried (see the class comment)
     * while {@code retriable} says the response's error means "ask again", until {@code timeout}. Completes
     * exceptionally with a {@link TimeoutException} when no controller answered in time.
     */
    public CompletableFuture<ApiMessage> send(ApiMessage request, short version, Duration timeout,
                                              Predicate<ApiMessage> retriable) {
        CompletableFuture<ApiMessage> result = new CompletableFuture<>();
        attempt(request, version, System.nanoTime() + timeout.toNanos(), retriable, result, null);
        return result;
    }

    /**
     * CreateTopics on the active controller (-1 partitions or replication factor: the defaults), retried on
     * NOT_CONTROLLER until {@code timeout}; the outcome of each topic by name.
     */
    public CompletableFuture<java.util.Map<String, io.gregor.metadata.ApiError>> createTopics(
            java.util.List<TopicOperations.NewTopic> topics, Duration timeout) {
        var request = new org.apache.kafka.common.message.CreateTopicsRequestData()
                .setTimeoutMs((int) Math.min(timeout.toMillis(), 30_000));
        for (TopicOperations.NewTopic topic : topics) {
            var wanted = new org.apache.kafka.common.message.CreateTopicsRequestData.CreatableTopic().setName(topic.name())
                    .setNumPartitions(topic.partitions()).setReplicationFactor(topic.replicationFactor());
            topic.configs().forEach((k, v) -> wanted.configs().add(
                    new org.apache.kafka.common.message.CreateTopicsRequestData.CreatableTopicConfig().setName(k).setValue(v)));
            request.topics().add(wanted);
        }
        return send(request, (short) 7, timeout, r -> ((org.apache.kafka.common.message.CreateTopicsResponseData) r).topics()
                .stream().anyMatch(t -> t.errorCode() == Errors.NOT_CONTROLLER.code())).thenApply(r -> {
                    var response = (org.apache.kafka.common.message.CreateTopicsResponseData) r;
                    java.util.Map<String, io.gregor.metadata.ApiError> outcome = new java.util.LinkedHashMap<>();
                    for (TopicOperations.NewTopic topic : topics) {
                        var result = response.topics().find(topic.name());
                        outcome.put(topic.name(), result == null
                                ? io.gregor.metadata.ApiError.of(Errors.UNKNOWN_SERVER_ERROR, "no answer for " + topic.name())
                                : io.gregor.metadata.ApiError.of(Errors.forCode(result.errorCode()), result.errorMessage()));
                    }
                    return outcome;
                });
    }

    private void attempt(ApiMessage request, short version, long deadlineNs, Predicate<ApiMessage> retriable,
                         CompletableFuture<ApiMessage> result, String lastProblem) {
        long leftMs = TimeUnit.NANOSECONDS.toMillis(deadlineNs - System.nanoTime());
        if (leftMs <= 0) {
            result.completeExceptionally(new TimeoutException("No active controller answered within the deadline"
                    + (lastProblem == null ? "" : " (last: " + lastProblem + ")")));
            return;
        }
        if (controllerId() == nodeId) {
            // Never over the network to this node itself: until it is registered its listener holds requests back, so
            // a request to itself would wait for its own registration. Its caller handles the request here instead.
            if (isActive()) {
                result.completeExceptionally(new ThisNodeIsController(nodeId));
            } else {
                retryLater(request, version, deadlineNs, retriable, result, "this node is becoming the active controller");
            }
            return;
        }
        InetSocketAddress address = controllerAddress();
        if (address == null) {
            retryLater(request, version, deadlineNs, retriable, result, "no active controller known");
            return;
        }
        InetSocketAddress resolved = new InetSocketAddress(address.getHostString(), address.getPort());
        client.send(LANE, resolved, request, version, Duration.ofMillis(Math.min(leftMs, 30_000))).whenComplete((response, e) -> {
            if (e != null) {
                Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
                if (cause instanceof TimeoutException) {
                    client.disconnect(LANE, resolved);
                }
                retryLater(request, version, deadlineNs, retriable, result, cause.toString());
            } else if (retriable.test(response)) {
                retryLater(request, version, deadlineNs, retriable, result, "answered " + errorOf(response));
            } else {
                result.complete(response);
            }
        });
    }

    private void retryLater(ApiMessage request, short version, long deadlineNs, Predicate<ApiMessage> retriable,
                            CompletableFuture<ApiMessage> result, String problem) {
        log.debug("Controller request {} to retry: {}", request.apiKey(), problem);
        try {
            retries.schedule(() -> attempt(request, version, deadlineNs, retriable, result, problem), RETRY_BACKOFF_MS,
                    TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException closed) {
            result.completeExceptionally(new IOException("controller channel is closed"));
        }
    }

    /**
     * What {@link #send} fails with when this node became the active controller meanwhile: the caller handles the
     * request here ({@link #isThisNode}).
     */
    public static final class ThisNodeIsController extends RuntimeException {
        ThisNodeIsController(int nodeId) {
            super("node " + nodeId + " is the active controller itself", null, false, false);
        }
    }

    /** True if {@code error} (or its cause) is a {@link ThisNodeIsController}. */
    public static boolean isThisNode(Throwable error) {
        Throwable t = error;
        while (t instanceof CompletionException && t.getCause() != null) {
            t = t.getCause();
        }
        return t instanceof ThisNodeIsController;
    }

    /** A top-level {@code ErrorCode} of a response, if it has one, else NONE. */
    public static Errors errorOf(ApiMessage response) {
        try {
            Object code = response.getClass().getMethod("errorCode").invoke(response);
            return Errors.forCode((Short) code);
        } catch (ReflectiveOperationException | ClassCastException e) {
            return Errors.NONE;
        }
    }

    /** Retries NOT_CONTROLLER answers (the leadership moved between looking it up and asking). */
    public static boolean notController(Message response) {
        return response instanceof ApiMessage m && errorOf(m) == Errors.NOT_CONTROLLER;
    }

    @Override
    public void close() {
        retries.shutdownNow();
    }
}
