package io.gregor.broker.group;

import io.gregor.broker.config.BrokerConfig;
import java.util.List;

/** The coordinator's settings (group.* and offsets.* broker properties). */
public record GroupConfig(long initialRebalanceDelayMs, int minSessionTimeoutMs, int maxSessionTimeoutMs, int maxSize,
                          int consumerHeartbeatIntervalMs, int consumerSessionTimeoutMs, int consumerMaxSize,
                          List<String> consumerAssignors, long offsetsRetentionMs, long offsetsRetentionCheckIntervalMs) {

    /** The classic settings with Kafka's defaults for the rest (tests). */
    public GroupConfig(long initialRebalanceDelayMs, int minSessionTimeoutMs, int maxSessionTimeoutMs, int maxSize) {
        this(initialRebalanceDelayMs, minSessionTimeoutMs, maxSessionTimeoutMs, maxSize, 5_000, 45_000, Integer.MAX_VALUE,
                List.of(ServerAssignor.UNIFORM, ServerAssignor.RANGE), 7L * 24 * 3600 * 1000, 600_000);
    }

    public static GroupConfig from(BrokerConfig config) {
        return new GroupConfig(config.groupInitialRebalanceDelayMs(), config.groupMinSessionTimeoutMs(),
                config.groupMaxSessionTimeoutMs(), config.groupMaxSize(), config.groupConsumerHeartbeatIntervalMs(),
                config.groupConsumerSessionTimeoutMs(), config.groupConsumerMaxSize(), config.groupConsumerAssignors(),
                config.offsetsRetentionMinutes() * 60_000L, config.offsetsRetentionCheckIntervalMs());
    }
}
