package io.gregor.broker.handlers;

import io.gregor.metadata.MetadataCache;
import io.gregor.coordinator.group.GroupCoordinatorService;
import io.gregor.metadata.MetadataImage;
import io.gregor.metadata.TopicImage;
import io.gregor.broker.network.RequestContext;
import io.gregor.coordinator.group.OffsetAndMetadata;
import io.gregor.coordinator.group.OffsetManager.FetchResult;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.OffsetFetchRequestData;
import org.apache.kafka.common.message.OffsetFetchResponseData;
import org.apache.kafka.common.message.OffsetFetchResponseData.OffsetFetchResponseGroup;
import org.apache.kafka.common.message.OffsetFetchResponseData.OffsetFetchResponsePartition;
import org.apache.kafka.common.message.OffsetFetchResponseData.OffsetFetchResponsePartitions;
import org.apache.kafka.common.message.OffsetFetchResponseData.OffsetFetchResponseTopic;
import org.apache.kafka.common.message.OffsetFetchResponseData.OffsetFetchResponseTopics;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * OffsetFetch v1-10: one group before v8, several after; topic ids from v10. A partition without a committed offset
 * gets offset -1. Errors: COORDINATOR_LOAD_IN_PROGRESS (group level from v2, per partition in v1).
 */
public final class OffsetFetchHandler extends BrokerHandler<OffsetFetchRequestData> {

    private final MetadataCache metadata;
    private final GroupCoordinatorService groups;

    public OffsetFetchHandler(MetadataCache metadata, GroupCoordinatorService groups) {
        super(ApiKeys.OFFSET_FETCH, 1, 10);
        this.metadata = metadata;
        this.groups = groups;
    }

    /** One topic of the response: its name (null when an id is unknown), id, and partitions. */
    private record TopicResult(String name, Uuid id, List<OffsetFetchResponsePartitions> partitions) {
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, OffsetFetchRequestData request) {
        short version = context.apiVersion();
        OffsetFetchResponseData response = new OffsetFetchResponseData();
        if (version >= 8) {
            List<CompletableFuture<OffsetFetchResponseGroup>> answers = new ArrayList<>();
            for (var group : request.groups()) {
                Map<String, List<Integer>> wanted = null;
                Map<String, Uuid> ids = new LinkedHashMap<>();
                if (group.topics() != null) {
                    wanted = new LinkedHashMap<>();
                    for (var t : group.topics()) {
                        String name = version >= 10 ? nameOf(t.topicId()) : t.name();
                        ids.put(name == null ? "?" + t.topicId() : name, t.topicId());
                        wanted.put(name == null ? "?" + t.topicId() : name, t.partitionIndexes());
                    }
                }
                String memberId = version >= 9 ? group.memberId() : null;
                int memberEpoch = version >= 9 ? group.memberEpoch() : -1;
                List<TopicPartition> partitions = partitions(wanted);
                answers.add(groups.fetchOffsets(group.groupId(), memberId, memberEpoch, partitions,
                        request.requireStable()).thenApply(result -> {
                    OffsetFetchResponseGroup out = new OffsetFetchResponseGroup().setGroupId(group.groupId());
                    render(result, partitions, ids, version, t -> out.topics().add((OffsetFetchResponseTopics) t));
                    return out.setErrorCode(result.error().code());
                }));
            }
            return CompletableFuture.allOf(answers.toArray(CompletableFuture[]::new)).thenApply(v -> {
                answers.forEach(g -> response.groups().add(g.join()));
                return response;
            });
        }
        Map<String, List<Integer>> wanted = null;
        if (request.topics() != null) {
            wanted = new LinkedHashMap<>();
            for (var t : request.topics()) {
                wanted.put(t.name(), t.partitionIndexes());
            }
        }
        List<TopicPartition> partitions = partitions(wanted);
        return groups.fetchOffsets(request.groupId(), null, -1, partitions, version >= 7 && request.requireStable())
                .thenApply(result -> {
            List<TopicResult> topics = new ArrayList<>();
            render(result, partitions, Map.of(), version, t -> topics.add((TopicResult) t));
            Errors error = result.error();
            for (TopicResult t : topics) {
                OffsetFetchResponseTopic topic = new OffsetFetchResponseTopic().setName(t.name());
                for (var p : t.partitions()) {
                    OffsetFetchResponsePartition partition = new OffsetFetchResponsePartition().setPartitionIndex(p.partitionIndex())
                            .setCommittedOffset(p.committedOffset()).setMetadata(p.metadata())
                            .setErrorCode(version < 2 && error != Errors.NONE ? error.code() : p.errorCode());
                    if (version >= 5) {
                        partition.setCommittedLeaderEpoch(p.committedLeaderEpoch());
                    }
                    topic.partitions().add(partition);
                }
                response.topics().add(topic);
            }
            if (version >= 2) {
                response.setErrorCode(error.code());
            }
            return response;
        });
    }

    /** The partitions asked for, or null for all. */
    private static List<TopicPartition> partitions(Map<String, List<Integer>> wanted) {
        if (wanted == null) {
            return null;
        }
        List<TopicPartition> partitions = new ArrayList<>();
        for (var e : wanted.entrySet()) {
            for (int p : e.getValue()) {
                partitions.add(new TopicPartition(e.getKey(), p));
            }
        }
        return partitions;
    }

    private String nameOf(Uuid id) {
        TopicImage topic = metadata.image().topic(id);
        return topic == null ? null : topic.name();
    }

    private void render(FetchResult result, List<TopicPartition> partitions, Map<String, Uuid> ids, short version,
                        java.util.function.Consumer<Object> sink) {
        Map<String, List<OffsetFetchResponsePartitions>> byTopic = new LinkedHashMap<>();
        if (partitions != null) {
            for (TopicPartition tp : partitions) {
                byTopic.computeIfAbsent(tp.topic(), t -> new ArrayList<>()).add(partition(tp, result.offsets().get(tp)));
            }
        } else {
            result.offsets().forEach((tp, commit) -> byTopic.computeIfAbsent(tp.topic(), t -> new ArrayList<>())
                    .add(partition(tp, commit)));
            result.unstable().forEach(tp -> byTopic.computeIfAbsent(tp.topic(), t -> new ArrayList<>())
                    .add(partition(tp, null)));
        }
        // A transaction still commits an offset of these (KIP-447): the consumer asks again once it is decided.
        byTopic.forEach((name, list) -> list.forEach(p -> {
            if (result.unstable().contains(new TopicPartition(name, p.partitionIndex()))) {
                p.setErrorCode(Errors.UNSTABLE_OFFSET_COMMIT.code());
            }
        }));
        MetadataImage image = metadata.image();
        byTopic.forEach((name, list) -> {
            Uuid id = ids.get(name);
            if (id == null) {
                TopicImage topic = image.topic(name);
                id = topic == null ? Uuid.ZERO_UUID : topic.id();
            }
            if (version >= 8) {
                OffsetFetchResponseTopics topic = new OffsetFetchResponseTopics();
                if (version >= 10) {
                    topic.setTopicId(id);
                    if (name.startsWith("?")) {
                        list.forEach(p -> p.setErrorCode(Errors.UNKNOWN_TOPIC_ID.code()));
                    }
                } else {
                    topic.setName(name);
                }
                topic.partitions().addAll(list);
                sink.accept(topic);
            } else {
                sink.accept(new TopicResult(name, id, list));
            }
        });
    }

    private static OffsetFetchResponsePartitions partition(TopicPartition tp, OffsetAndMetadata commit) {
        return new OffsetFetchResponsePartitions().setPartitionIndex(tp.partition())
                .setCommittedOffset(commit == null ? -1 : commit.offset())
                .setCommittedLeaderEpoch(commit == null ? -1 : commit.leaderEpoch())
                .setMetadata(commit == null ? "" : commit.metadata());
    }
}
