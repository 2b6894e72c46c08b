package io.gregor.broker.group;

import io.gregor.broker.config.BrokerConfig;

/** The coordinator's settings (group.* broker properties). */
public record GroupConfig(long initialRebalanceDelayMs, int minSessionTimeoutMs, int maxSessionTimeoutMs, int maxSize) {

    public static GroupConfig from(BrokerConfig config) {
        return new GroupConfig(config.groupInitialRebalanceDelayMs(), config.groupMinSessionTimeoutMs(),
                config.groupMaxSessionTimeoutMs(), config.groupMaxSize());
    }
}
