package io.gregor.broker.handlers;

import io.gregor.metadata.MetadataCache;
import io.gregor.coordinator.group.GroupCoordinatorService;
import io.gregor.coordinator.group.ConsumerGroupManager.GroupDescription;
import io.gregor.coordinator.group.ConsumerGroupManager.MemberDescription;
import io.gregor.metadata.MetadataImage;
import io.gregor.metadata.TopicImage;
import io.gregor.broker.network.RequestContext;
import java.util.ArrayList;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.ConsumerGroupDescribeRequestData;
import org.apache.kafka.common.message.ConsumerGroupDescribeResponseData;
import org.apache.kafka.common.message.ConsumerGroupDescribeResponseData.Assignment;
import org.apache.kafka.common.message.ConsumerGroupDescribeResponseData.DescribedGroup;
import org.apache.kafka.common.message.ConsumerGroupDescribeResponseData.Member;
import org.apache.kafka.common.message.ConsumerGroupDescribeResponseData.TopicPartitions;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;

/**
 * ConsumerGroupDescribe v0-1: consumer-protocol groups with their epochs, assignor and members' current and target
 * assignments. A classic or unknown group gets GROUP_ID_NOT_FOUND (the Admin client then asks DescribeGroups).
 */
public final class ConsumerGroupDescribeHandler extends BrokerHandler<ConsumerGroupDescribeRequestData> {
    /** ConsumerGroupDescribe v1 member type of a consumer-protocol member. */
    private static final byte CONSUMER_MEMBER = 1;
    /** ConsumerGroupDescribe v1 member type of a classic member inside a consumer group. */
    private static final byte CLASSIC_MEMBER = 0;

    private final MetadataCache metadata;
    private final GroupCoordinatorService groups;

    public ConsumerGroupDescribeHandler(MetadataCache metadata, GroupCoordinatorService groups) {
        super(ApiKeys.CONSUMER_GROUP_DESCRIBE, 0, 1);
        this.metadata = metadata;
        this.groups = groups;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, ConsumerGroupDescribeRequestData request) {
        short version = context.apiVersion();
        MetadataImage image = metadata.image();
        ConsumerGroupDescribeResponseData response = new ConsumerGroupDescribeResponseData();
        return groups.consumerGroupDescribe(request.groupIds()).thenApply(described -> {
            for (GroupDescription d : described) {
                response.groups().add(group(image, d, version));
            }
            return response;
        });
    }

    private DescribedGroup group(MetadataImage image, GroupDescription d, short version) {
        DescribedGroup group = new DescribedGroup().setGroupId(d.groupId()).setErrorCode(d.error().code())
                .setErrorMessage(d.message()).setGroupState(d.state()).setGroupEpoch(d.groupEpoch())
                .setAssignmentEpoch(d.assignmentEpoch()).setAssignorName(d.assignorName());
        for (MemberDescription m : d.members()) {
            Member member = new Member().setMemberId(m.memberId()).setInstanceId(m.instanceId()).setRackId(m.rackId())
                    .setMemberEpoch(m.memberEpoch()).setClientId(m.clientId()).setClientHost(m.clientHost())
                    .setSubscribedTopicNames(new ArrayList<>(m.subscribedTopicNames()))
                    .setSubscribedTopicRegex(m.subscribedTopicRegex())
                    .setAssignment(assignment(image, m.assignment()))
                    .setTargetAssignment(assignment(image, m.targetAssignment()));
            if (version >= 1) {
                member.setMemberType(m.classic() ? CLASSIC_MEMBER : CONSUMER_MEMBER);
            }
            group.members().add(member);
        }
        return group;
    }

    private static Assignment assignment(MetadataImage image, Map<Uuid, Set<Integer>> partitions) {
        Assignment a = new Assignment();
        partitions.forEach((id, set) -> {
            TopicImage topic = image.topic(id);
            a.topicPartitions().add(new TopicPartitions().setTopicId(id).setTopicName(topic == null ? "" : topic.name())
                    .setPartitions(new ArrayList<>(set)));
        });
        return a;
    }
}
