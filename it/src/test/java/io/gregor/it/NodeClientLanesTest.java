package io.gregor.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.gregor.broker.network.NodeClient;
import io.gregor.testkit.GregorCluster;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.Test;

/**
 * A node answers the requests of one connection in order: the node client keeps a connection per lane, so a fetch
 * parked at a leader does not hold up a request of another kind (a heartbeat, a transaction marker or verification).
 */
class NodeClientLanesTest {

    private static FetchRequestData parkedFetch() {
        return new FetchRequestData().setReplicaId(-1).setMaxWaitMs(3_000).setMinBytes(1).setMaxBytes(1 << 20)
                .setTopics(List.of(new FetchRequestData.FetchTopic().setTopic("parked").setPartitions(List.of(
                        new FetchRequestData.FetchPartition().setPartition(0).setFetchOffset(0)
                                .setPartitionMaxBytes(1 << 20)))));
    }

    @Test
    void aParkedFetchHoldsUpItsOwnLaneOnly() throws Exception {
        try (GregorCluster gregor = GregorCluster.single().start();
             NodeClient client = new NodeClient("lanes-test", 1 << 20)) {
            gregor.createTopic("parked", 1);
            String[] hostPort = gregor.bootstrapServers().split(",")[0].split(":");
            InetSocketAddress node = new InetSocketAddress(hostPort[0], Integer.parseInt(hostPort[1]));

            // Another lane: answered while the fetch (the topic is empty) is still parked.
            CompletableFuture<ApiMessage> parked = client.send("fetch", node, parkedFetch(), (short) 12,
                    Duration.ofSeconds(20));
            ApiMessage versions = client.send("other", node, new ApiVersionsRequestData(), (short) 0,
                    Duration.ofSeconds(20)).get(20, TimeUnit.SECONDS);
            assertThat(((ApiVersionsResponseData) versions).errorCode()).isEqualTo(Errors.NONE.code());
            assertThat(parked).as("the fetch still parked when the other lane was answered").isNotDone();
            FetchResponseData fetched = (FetchResponseData) parked.get(20, TimeUnit.SECONDS);
            assertThat(fetched.responses().get(0).partitions().get(0).errorCode()).isEqualTo(Errors.NONE.code());

            // The same lane: the answer waits for the parked fetch before it (why the lanes exist).
            CompletableFuture<ApiMessage> parkedAgain = client.send("fetch", node, parkedFetch(), (short) 12,
                    Duration.ofSeconds(20));
            client.send("fetch", node, new ApiVersionsRequestData(), (short) 0, Duration.ofSeconds(20))
                    .get(20, TimeUnit.SECONDS);
            assertThat(parkedAgain).as("the fetch answered before the request behind it").isDone();
        }
    }
}
