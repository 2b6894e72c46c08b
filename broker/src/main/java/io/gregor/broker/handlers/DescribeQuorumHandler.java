package io.gregor.broker.handlers;

import io.gregor.broker.network.RequestContext;
import io.gregor.raft.RaftMetadataLog;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import org.apache.kafka.common.message.DescribeQuorumRequestData;
import org.apache.kafka.common.message.DescribeQuorumResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * DescribeQuorum v0-2 (what {@code kafka-metadata-quorum.sh describe} and Admin.describeMetadataQuorum ask): the
 * metadata quorum's leader, its term as the leader epoch, the commit index as the high watermark, and each voter
 * with the last index it holds, and the observers (broker-only nodes, Ratis listeners) likewise. Forwarded to the
 * active controller, which alone knows the voters' progress. The metadata log is Ratis, not a Kafka topic: its name
 * here is Kafka's, {@code __cluster_metadata}, partition 0.
 */
public final class DescribeQuorumHandler extends BrokerHandler<DescribeQuorumRequestData> {
    static final String METADATA_TOPIC = "__cluster_metadata";

    private final Supplier<RaftMetadataLog.QuorumState> quorum;
    private final String listenerName;

    /** {@code listenerName}: the name the voters' Raft addresses are listed under (the CONTROLLER listener's). */
    public DescribeQuorumHandler(Supplier<RaftMetadataLog.QuorumState> quorum, String listenerName) {
        super(ApiKeys.DESCRIBE_QUORUM, 0, 2);
        this.quorum = quorum;
        this.listenerName = listenerName;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, DescribeQuorumRequestData request) {
        short version = context.apiVersion();
        DescribeQuorumResponseData response = new DescribeQuorumResponseData();
        RaftMetadataLog.QuorumState state = quorum.get();
        for (DescribeQuorumRequestData.TopicData topic : request.topics()) {
            DescribeQuorumResponseData.TopicData out = new DescribeQuorumResponseData.TopicData()
                    .setTopicName(topic.topicName());
            response.topics().add(out);
            for (DescribeQuorumRequestData.PartitionData p : topic.partitions()) {
                DescribeQuorumResponseData.PartitionData partition = new DescribeQuorumResponseData.PartitionData()
                        .setPartitionIndex(p.partitionIndex());
                out.partitions().add(partition);
                if (!METADATA_TOPIC.equals(topic.topicName()) || p.partitionIndex() != 0) {
                    partition.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
                    continue;
                }
                long now = System.currentTimeMillis();
                partition.setLeaderId(state.leaderId()).setLeaderEpoch((int) state.term())
                        .setHighWatermark(state.commitIndex());
                for (RaftMetadataLog.VoterState v : state.voters()) {
                    partition.currentVoters().add(replica(v, state, version, now));
                }
                for (RaftMetadataLog.VoterState v : state.observers()) {
                    partition.observers().add(replica(v, state, version, now));
                }
            }
        }
        if (version >= 2) {
            for (RaftMetadataLog.VoterState v : state.voters()) {
                DescribeQuorumResponseData.Node node = new DescribeQuorumResponseData.Node().setNodeId(v.nodeId());
                node.listeners().add(new DescribeQuorumResponseData.Listener().setName(listenerName).setHost(v.host())
                        .setPort(v.port()));
                response.nodes().add(node);
            }
        }
        return done(response);
    }

    private static DescribeQuorumResponseData.ReplicaState replica(RaftMetadataLog.VoterState v,
            RaftMetadataLog.QuorumState state, short version, long now) {
        DescribeQuorumResponseData.ReplicaState replica = new DescribeQuorumResponseData.ReplicaState()
                .setReplicaId(v.nodeId()).setLogEndOffset(v.matchIndex());
        if (version >= 1) {
            long contact = v.lastContactAgoMs() < 0 ? -1 : now - v.lastContactAgoMs();
            replica.setLastFetchTimestamp(contact)
                    .setLastCaughtUpTimestamp(v.matchIndex() >= state.commitIndex() ? contact : -1);
        }
        return replica;
    }
}
