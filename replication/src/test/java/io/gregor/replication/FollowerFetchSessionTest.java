package io.gregor.replication;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.Test;

class FollowerFetchSessionTest {

    private static FetchRequestData.FetchPartition at(int partition, long offset) {
        return new FetchRequestData.FetchPartition().setPartition(partition).setFetchOffset(offset)
                .setCurrentLeaderEpoch(3).setLastFetchedEpoch(3).setPartitionMaxBytes(1024);
    }

    private static Map<String, List<FetchRequestData.FetchPartition>> wanted(Object... topicPartitionOffset) {
        Map<String, List<FetchRequestData.FetchPartition>> wanted = new LinkedHashMap<>();
        for (int i = 0; i < topicPartitionOffset.length; i += 3) {
            wanted.computeIfAbsent((String) topicPartitionOffset[i], t -> new java.util.ArrayList<>())
                    .add(at((Integer) topicPartitionOffset[i + 1], (Long) topicPartitionOffset[i + 2]));
        }
        return wanted;
    }

    private static List<String> named(FetchRequestData request) {
        return request.topics().stream().flatMap(t -> t.partitions().stream().map(p -> t.topic() + "-" + p.partition()
                + "@" + p.fetchOffset())).toList();
    }

    private static List<String> forgotten(FetchRequestData request) {
        return request.forgottenTopicsData().stream().flatMap(t -> t.partitions().stream().map(p -> t.topic() + "-" + p))
                .toList();
    }

    @Test
    void afterTheFirstFullFetchOnlyMovedPartitionsAndForgottenOnesAreSent() {
        FollowerFetchSession session = new FollowerFetchSession();
        FetchRequestData first = new FetchRequestData();
        session.build(first, wanted("a", 0, 10L, "a", 1, 20L, "b", 0, 5L));
        assertThat(first.sessionId()).isZero();
        assertThat(first.sessionEpoch()).isZero();
        assertThat(named(first)).containsExactly("a-0@10", "a-1@20", "b-0@5");
        session.onResponse(new FetchResponseData().setSessionId(77));

        FetchRequestData second = new FetchRequestData();
        session.build(second, wanted("a", 0, 12L, "a", 1, 20L, "b", 0, 5L));
        assertThat(second.sessionId()).isEqualTo(77);
        assertThat(second.sessionEpoch()).isEqualTo(1);
        assertThat(named(second)).containsExactly("a-0@12");
        assertThat(forgotten(second)).isEmpty();
        session.onResponse(new FetchResponseData().setSessionId(77));

        FetchRequestData third = new FetchRequestData();
        session.build(third, wanted("a", 0, 12L, "c", 2, 0L));
        assertThat(third.sessionEpoch()).isEqualTo(2);
        assertThat(named(third)).containsExactly("c-2@0");
        assertThat(forgotten(third)).containsExactlyInAnyOrder("a-1", "b-0");
    }

    @Test
    void aSessionErrorOrAFailedFetchMakesTheNextFetchFullAndClosesTheOldSession() {
        FollowerFetchSession session = new FollowerFetchSession();
        session.build(new FetchRequestData(), wanted("a", 0, 10L, "a", 1, 20L));
        session.onResponse(new FetchResponseData().setSessionId(5));
        session.build(new FetchRequestData(), wanted("a", 0, 11L, "a", 1, 20L));
        session.onResponse(new FetchResponseData().setErrorCode(Errors.FETCH_SESSION_ID_NOT_FOUND.code()));

        FetchRequestData full = new FetchRequestData();
        session.build(full, wanted("a", 0, 11L, "a", 1, 20L));
        assertThat(full.sessionId()).isEqualTo(5);
        assertThat(full.sessionEpoch()).isZero();
        assertThat(named(full)).containsExactly("a-0@11", "a-1@20");
        session.onResponse(new FetchResponseData().setSessionId(6));

        session.build(new FetchRequestData(), wanted("a", 0, 11L, "a", 1, 21L));
        session.reset(); // the fetch timed out
        FetchRequestData again = new FetchRequestData();
        session.build(again, wanted("a", 0, 11L, "a", 1, 21L));
        assertThat(again.sessionId()).isEqualTo(6);
        assertThat(again.sessionEpoch()).isZero();
        assertThat(named(again)).hasSize(2);
    }

    @Test
    void aLeaderThatGrantsNoSessionGetsFullFetchesThatAskForOne() {
        FollowerFetchSession session = new FollowerFetchSession();
        for (int round = 0; round < 3; round++) {
            FetchRequestData request = new FetchRequestData();
            session.build(request, wanted("a", 0, 10L + round));
            assertThat(request.sessionId()).isZero();
            assertThat(request.sessionEpoch()).isZero();
            assertThat(named(request)).containsExactly("a-0@" + (10 + round));
            session.onResponse(new FetchResponseData().setSessionId(0));
        }
    }
}
