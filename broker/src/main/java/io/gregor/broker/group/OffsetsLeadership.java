package io.gregor.broker.group;

import io.gregor.coordinator.group.GroupCoordinatorService;
import io.gregor.metadata.MetadataImage;
import io.gregor.metadata.MetadataManager;
import io.gregor.metadata.PartitionRegistration;
import io.gregor.metadata.TopicImage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves the group coordinator with the leadership of {@code __consumer_offsets}: a partition this node comes to lead
 * is loaded (its groups replayed), one it no longer leads is unloaded, each for the leader epoch of the change.
 * Partitions are loaded at start by the broker; this follows the changes after that.
 */
public final class OffsetsLeadership implements MetadataManager.Listener {
    private static final Logger log = LoggerFactory.getLogger(OffsetsLeadership.class);

    private final int nodeId;
    private final GroupCoordinatorService groups;

    public OffsetsLeadership(int nodeId, GroupCoordinatorService groups) {
        this.nodeId = nodeId;
        this.groups = groups;
    }

    @Override
    public void onImage(MetadataImage previous, MetadataImage next) {
        TopicImage now = next.topic(OffsetsTopic.TOPIC);
        if (now == null || groups.numPartitions() == 0) {
            return;
        }
        TopicImage before = previous.topic(OffsetsTopic.TOPIC);
        if (before != null && before.registrations().equals(now.registrations())) {
            return;
        }
        for (int p = 0; p < Math.min(now.partitions(), groups.numPartitions()); p++) {
            PartitionRegistration was = before == null ? null : before.registration(p);
            PartitionRegistration is = now.registration(p);
            if (is == null || is.equals(was)) {
                continue;
            }
            boolean ledBefore = was != null && was.leader() == nodeId;
            if (is.leader() == nodeId && (!ledBefore || was.leaderEpoch() != is.leaderEpoch())) {
                log.info("Loading the groups of {}-{} (leader epoch {})", OffsetsTopic.TOPIC, p, is.leaderEpoch());
                groups.load(p, is.leaderEpoch());
            } else if (ledBefore && is.leader() != nodeId) {
                log.info("Unloading the groups of {}-{}: node {} no longer leads it", OffsetsTopic.TOPIC, p, nodeId);
                groups.unload(p, is.leaderEpoch());
            }
        }
    }
}
