package io.gregor.raft;

import org.slf4j.ILoggerFactory;
import org.slf4j.LoggerFactory;

/**
 * Turns Ratis' INFO chatter (every configuration key read, every role change, every segment roll)
 * down to WARN, unless the application's logging configuration sets a level for
 * {@code org.apache.ratis} itself. The events that matter are logged by this module at INFO:
 * start-up time, snapshot restore and creation, leader changes.
 *
 * <p>Only logback is handled (it is an optional dependency); with another SLF4J binding the
 * application's configuration decides.
 */
final class RatisLogging {

    static final String RATIS_LOGGER = "org.apache.ratis";

    /**
     * Logs every failed connection to a peer that is down as a WARN and an ERROR with stack traces, many a second
     * while a quorum forms or a node is away. The module logs what it waits for instead ("Waiting for the metadata
     * quorum ...").
     */
    static final String LIFECYCLE_LOGGER = "org.apache.ratis.util.LifeCycle";

    /**
     * Logs a WARN with a stack trace for every failed append to a voter that is down, many a second for as long as it
     * is away. Whether a voter keeps up is in DescribeQuorum and {@code gregor cluster status}; the controller logs
     * when it fences a node.
     */
    static final String APPENDER_LOGGER = "org.apache.ratis.server.leader.LogAppender";

    private RatisLogging() {}

    static void quietUnlessConfigured() {
        try {
            LogbackLevels.setIfUnset(LoggerFactory.getILoggerFactory(), RATIS_LOGGER, "WARN");
            LogbackLevels.setIfUnset(LoggerFactory.getILoggerFactory(), LIFECYCLE_LOGGER, "OFF");
            LogbackLevels.setIfUnset(LoggerFactory.getILoggerFactory(), APPENDER_LOGGER, "ERROR");
        } catch (LinkageError absent) {
            // logback is not on the class path: nothing to do.
        }
    }

    /** Isolated so that a missing logback only fails this class's linking, caught above. */
    private static final class LogbackLevels {
        static void setIfUnset(ILoggerFactory factory, String name, String level) {
            if (factory instanceof ch.qos.logback.classic.LoggerContext context) {
                ch.qos.logback.classic.Logger logger = context.getLogger(name);
                if (logger.getLevel() == null) {
                    logger.setLevel(ch.qos.logback.classic.Level.toLevel(level));
                }
            }
        }
    }
}
