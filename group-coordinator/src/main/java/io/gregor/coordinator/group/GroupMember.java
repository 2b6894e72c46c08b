package io.gregor.coordinator.group;

import io.gregor.coordinator.group.ClassicGroupManager.JoinResult;
import io.gregor.coordinator.group.ClassicGroupManager.Protocol;
import io.gregor.coordinator.group.ClassicGroupManager.SyncResult;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** A member of a classic group. Touched only on its shard's queue. */
final class GroupMember {
    String memberId;
    final String groupInstanceId;
    String clientId;
    String clientHost;
    int sessionTimeoutMs;
    int rebalanceTimeoutMs;
    String protocolType;
    List<Protocol> protocols;
    byte[] assignment = new byte[0];
    /** The parked JoinGroup of this member while the group prepares a rebalance. */
    CompletableFuture<JoinResult> awaitingJoin;
    /** The parked SyncGroup of this member while the leader's assignment is awaited. */
    CompletableFuture<SyncResult> awaitingSync;

    GroupMember(String memberId, String groupInstanceId) {
        this.memberId = memberId;
        this.groupInstanceId = groupInstanceId;
    }

    byte[] metadata(String protocolName) {
        for (Protocol p : protocols) {
            if (p.name().equals(protocolName)) {
                return p.metadata();
            }
        }
        return new byte[0];
    }

    boolean supports(String protocolName) {
        return protocols.stream().anyMatch(p -> p.name().equals(protocolName));
    }

    boolean sameProtocols(List<Protocol> other) {
        return Protocol.same(protocols, other);
    }
}
