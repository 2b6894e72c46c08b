package io.gregor.broker.handlers;

import io.gregor.broker.network.RequestContext;
import io.gregor.raft.MetadataLogException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.kafka.common.message.AddRaftVoterRequestData;
import org.apache.kafka.common.message.AddRaftVoterResponseData;
import org.apache.kafka.common.message.RemoveRaftVoterRequestData;
import org.apache.kafka.common.message.RemoveRaftVoterResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.ApiError;

/**
 * AddRaftVoter v0-1 and RemoveRaftVoter v0 (KIP-853: Admin.addRaftVoter / removeRaftVoter, {@code kafka-metadata-quorum.sh
 * remove-controller}, {@code gregor cluster add-voter / remove-voter}), on the active controller: a membership change of
 * the Ratis quorum, answered once committed. A node is added only while it observes the quorum at the endpoint given;
 * a removed voter goes on observing. The voter directory id is not checked (Gregor's nodes have none). Errors are
 * Kafka's: DUPLICATE_VOTER, VOTER_NOT_FOUND, INVALID_REQUEST, INCONSISTENT_CLUSTER_ID, REQUEST_TIMED_OUT.
 */
final class RaftVoterHandlers {
    private RaftVoterHandlers() {
    }

    private static final long DEFAULT_TIMEOUT_MS = 30_000;

    static final class Add extends BrokerHandler<AddRaftVoterRequestData> {
        private final QuorumMembership membership;
        private final Supplier<String> clusterId;
        private final String controllerListenerName;

        Add(QuorumMembership membership, Supplier<String> clusterId, String controllerListenerName) {
            super(ApiKeys.ADD_RAFT_VOTER, 0, 1);
            this.membership = membership;
            this.clusterId = clusterId;
            this.controllerListenerName = controllerListenerName;
        }

        @Override
        public CompletableFuture<ApiMessage> handle(RequestContext context, AddRaftVoterRequestData request) {
            if (request.clusterId() != null && !request.clusterId().equals(clusterId.get())) {
                return done(error(new ApiError(Errors.INCONSISTENT_CLUSTER_ID, "this is cluster " + clusterId.get())));
            }
            if (request.listeners().isEmpty()) {
                return done(error(new ApiError(Errors.INVALID_REQUEST, "no endpoint given for voter " + request.voterId())));
            }
            AddRaftVoterRequestData.Listener endpoint = request.listeners().stream()
                    .filter(l -> l.name().equalsIgnoreCase(controllerListenerName)).findFirst()
                    .orElse(request.listeners().iterator().next());
            long timeoutMs = request.timeoutMs() > 0 ? request.timeoutMs() : DEFAULT_TIMEOUT_MS;
            return membership.addVoter(request.voterId(), endpoint.host(), endpoint.port())
                    .orTimeout(timeoutMs, TimeUnit.MILLISECONDS)
                    .handle((v, e) -> error(e == null ? ApiError.NONE : translate(e)));
        }

        private static AddRaftVoterResponseData error(ApiError error) {
            return new AddRaftVoterResponseData().setErrorCode(error.error().code()).setErrorMessage(error.message());
        }
    }

    static final class Remove extends BrokerHandler<RemoveRaftVoterRequestData> {
        private final QuorumMembership membership;
        private final Supplier<String> clusterId;

        Remove(QuorumMembership membership, Supplier<String> clusterId) {
            super(ApiKeys.REMOVE_RAFT_VOTER, 0, 0);
            this.membership = membership;
            this.clusterId = clusterId;
        }

        @Override
        public CompletableFuture<ApiMessage> handle(RequestContext context, RemoveRaftVoterRequestData request) {
            if (request.clusterId() != null && !request.clusterId().equals(clusterId.get())) {
                return done(error(new ApiError(Errors.INCONSISTENT_CLUSTER_ID, "this is cluster " + clusterId.get())));
            }
            return membership.removeVoter(request.voterId()).orTimeout(DEFAULT_TIMEOUT_MS, TimeUnit.MILLISECONDS)
                    .handle((v, e) -> error(e == null ? ApiError.NONE : translate(e)));
        }

        private static RemoveRaftVoterResponseData error(ApiError error) {
            return new RemoveRaftVoterResponseData().setErrorCode(error.error().code()).setErrorMessage(error.message());
        }
    }

    private static ApiError translate(Throwable error) {
        Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        if (cause instanceof java.util.concurrent.TimeoutException) {
            return new ApiError(Errors.REQUEST_TIMED_OUT, "the membership change was not committed in time");
        }
        if (cause instanceof MetadataLogException e) {
            return switch (e.reason()) {
                case ALREADY_VOTER -> new ApiError(Errors.DUPLICATE_VOTER, e.getMessage());
                case NOT_VOTER -> new ApiError(Errors.VOTER_NOT_FOUND, e.getMessage());
                case INVALID_CHANGE -> new ApiError(Errors.INVALID_REQUEST, e.getMessage());
                case CHANGE_IN_PROGRESS -> new ApiError(Errors.REQUEST_TIMED_OUT, e.getMessage());
                case NOT_LEADER -> new ApiError(Errors.NOT_CONTROLLER, e.getMessage());
                default -> new ApiError(Errors.UNKNOWN_SERVER_ERROR, e.getMessage());
            };
        }
        return new ApiError(Errors.UNKNOWN_SERVER_ERROR, String.valueOf(cause));
    }
}
