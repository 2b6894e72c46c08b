package io.gregor.broker.controller;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Replica placement with and without broker.rack. */
class ReplicaPlacementTest {
    private static final List<Integer> SIX = List.of(1, 2, 3, 4, 5, 6);

    @Test
    void withoutRacksReplicasFollowTheLeaderInIdOrder() {
        assertThat(ReplicaPlacement.place(SIX, 0, 3, 3, 4)).containsExactly(List.of(5, 6, 1), List.of(6, 1, 2),
                List.of(1, 2, 3));
    }

    @Test
    void everyPartitionSpansAsManyRacksAsItHasReplicas() {
        Map<Integer, String> racks = Map.of(1, "a", 2, "a", 3, "b", 4, "b", 5, "c", 6, "c");
        for (int start = 0; start < 6; start++) {
            List<List<Integer>> placement = ReplicaPlacement.place(SIX, racks, 0, 12, 3, start);
            Map<Integer, Integer> leaders = new HashMap<>();
            for (List<Integer> replicas : placement) {
                assertThat(replicas).hasSize(3).doesNotHaveDuplicates();
                Set<String> used = new HashSet<>();
                replicas.forEach(b -> used.add(racks.get(b)));
                assertThat(used).as("racks of %s", replicas).containsExactlyInAnyOrder("a", "b", "c");
                leaders.merge(replicas.get(0), 1, Integer::sum);
            }
            assertThat(leaders).as("12 leaders over 6 brokers").containsOnlyKeys(SIX).allSatisfy((b, n) ->
                    assertThat(n).isEqualTo(2));
        }
    }

    @Test
    void moreReplicasThanRacksFillEveryRackFirst() {
        Map<Integer, String> racks = Map.of(1, "a", 2, "a", 3, "b", 4, "b");
        for (List<Integer> replicas : ReplicaPlacement.place(List.of(1, 2, 3, 4), racks, 0, 8, 3, 1)) {
            assertThat(replicas).hasSize(3).doesNotHaveDuplicates();
            assertThat(replicas.subList(0, 2).stream().map(racks::get).toList()).as("first two of %s", replicas)
                    .containsExactlyInAnyOrder("a", "b");
        }
    }

    @Test
    void brokersWithoutARackAreARackOfTheirOwn() {
        Map<Integer, String> racks = Map.of(1, "a", 2, "a");
        for (List<Integer> replicas : ReplicaPlacement.place(List.of(1, 2, 3), racks, 0, 6, 2, 0)) {
            assertThat(replicas).as("one replica on the rack-less broker 3").contains(3).hasSize(2);
        }
    }
}
