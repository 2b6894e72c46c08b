package io.gregor.coordinator.group;

import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A classic-protocol group: members, generation and chosen protocol. Its generation, members and assignments as of
 * the last SyncGroup are stored (GroupMetadata records); the rest (a rebalance in progress, parked requests) lives
 * only in memory, as in Kafka. Touched only on its shard's queue.
 */
final class ClassicGroup extends Group {
    GroupState state = GroupState.EMPTY;
    int generationId;
    String protocolType;
    String protocolName;
    String leaderId;
    final Map<String, GroupMember> members = new LinkedHashMap<>();
    final Map<String, String> staticMembers = new HashMap<>();
    /** Member ids handed out with MEMBER_ID_REQUIRED, not yet joined with them. */
    final Set<String> pendingMembers = new HashSet<>();
    /** When the group last became empty (coordinator clock), for offset retention; -1 while it has members. */
    long emptySinceMs = -1;
    /** True while the first rebalance of an empty group waits group.initial.rebalance.delay.ms. */
    boolean initialDelay;

    ClassicGroup(String groupId) {
        super(groupId);
    }

    @Override
    boolean isEmpty() {
        return members.isEmpty();
    }

    @Override
    String stateName() {
        return state.toString();
    }

    @Override
    String type() {
        return "classic";
    }

    @Override
    String protocolType() {
        return protocolType == null ? "" : protocolType;
    }

    boolean is(GroupState s) {
        return state == s;
    }

    boolean allMembersJoined() {
        return pendingMembers.isEmpty() && members.values().stream().allMatch(m -> m.awaitingJoin != null);
    }

    /** The protocol most members list first among those every member supports; null when there is none. */
    String selectProtocol() {
        Set<String> candidates = null;
        for (GroupMember m : members.values()) {
            Set<String> names = new HashSet<>();
            m.protocols.forEach(p -> names.add(p.name()));
            if (candidates == null) {
                candidates = names;
            } else {
                candidates.retainAll(names);
            }
        }
        if (candidates == null || candidates.isEmpty()) {
            return null;
        }
        Map<String, Integer> votes = new LinkedHashMap<>();
        for (GroupMember m : members.values()) {
            for (var p : m.protocols) {
                if (candidates.contains(p.name())) {
                    votes.merge(p.name(), 1, Integer::sum);
                    break;
                }
            }
        }
        return votes.entrySet().stream().max(Map.Entry.comparingByValue()).map(Map.Entry::getKey).orElse(null);
    }

    /** Whether a joining member's protocols fit the group: same type, and at least one protocol all others have. */
    boolean acceptsProtocols(String type, List<ClassicGroupManager.Protocol> protocols) {
        if (protocols.isEmpty() || type == null || type.isEmpty()) {
            return false;
        }
        if (members.isEmpty()) {
            return true;
        }
        if (!type.equals(protocolType)) {
            return false;
        }
        return protocols.stream().anyMatch(p -> members.values().stream().allMatch(m -> m.supports(p.name())));
    }

    int maxRebalanceTimeoutMs() {
        return members.values().stream().mapToInt(m -> m.rebalanceTimeoutMs).max().orElse(0);
    }
}
