package io.gregor.coordinator.group;

import java.util.List;

/** The coordinator's settings (group.* and offsets.* broker properties). */
public record GroupConfig(long initialRebalanceDelayMs, int minSessionTimeoutMs, int maxSessionTimeoutMs, int maxSize,
                          int consumerHeartbeatIntervalMs, int consumerSessionTimeoutMs, int consumerMaxSize,
                          List<String> consumerAssignors, String migrationPolicy, long offsetsRetentionMs,
                          long offsetsRetentionCheckIntervalMs, int offsetMetadataMaxBytes) {

    /** The classic settings with Kafka's defaults for the rest (tests). */
    public GroupConfig(long initialRebalanceDelayMs, int minSessionTimeoutMs, int maxSessionTimeoutMs, int maxSize) {
        this(initialRebalanceDelayMs, minSessionTimeoutMs, maxSessionTimeoutMs, maxSize, 5_000, 45_000, Integer.MAX_VALUE,
                List.of(ServerAssignor.UNIFORM, ServerAssignor.RANGE), "bidirectional", 7L * 24 * 3600 * 1000, 600_000, 4096);
    }

    /** Whether a live classic group may become a consumer group (group.consumer.migration.policy). */
    public boolean onlineUpgrade() {
        return migrationPolicy.equals("bidirectional") || migrationPolicy.equals("upgrade");
    }

    /** Whether a consumer group left with classic members only goes back to the classic protocol. */
    public boolean onlineDowngrade() {
        return migrationPolicy.equals("bidirectional") || migrationPolicy.equals("downgrade");
    }
}
