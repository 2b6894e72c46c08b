package io.gregor.coordinator.transaction;

/**
 * The transaction coordinator's settings.
 *
 * @param maxTimeoutMs transaction.max.timeout.ms: a producer asking for a longer timeout gets INVALID_TRANSACTION_TIMEOUT
 * @param idExpirationMs transactional.id.expiration.ms: an id without an open or completing transaction that has not
 *     changed for this long is removed (its producer id and epoch are forgotten, as in Kafka)
 * @param cleanupIntervalMs transaction.remove.expired.transaction.cleanup.interval.ms: how often expired ids are looked for
 */
public record TransactionConfig(int maxTimeoutMs, long idExpirationMs, long cleanupIntervalMs) {
    public TransactionConfig {
        if (maxTimeoutMs < 1 || idExpirationMs < 1 || cleanupIntervalMs < 1) {
            throw new IllegalArgumentException("transaction settings must be positive");
        }
    }
}
