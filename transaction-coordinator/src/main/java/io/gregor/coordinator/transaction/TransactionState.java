package io.gregor.coordinator.transaction;

/**
 * The states of a transactional id, with the ids Kafka stores in {@code __transaction_state}.
 *
 * <ul>
 *   <li>EMPTY: the producer is initialised and no transaction is open;
 *   <li>ONGOING: partitions were added, the transaction is open;
 *   <li>PREPARE_COMMIT / PREPARE_ABORT: the decision is durable, markers are being written;
 *   <li>COMPLETE_COMMIT / COMPLETE_ABORT: every marker is written;
 *   <li>DEAD: the transactional id expired (its record is about to be removed);
 *   <li>PREPARE_EPOCH_FENCE: an epoch bump to fence a producer is pending (Kafka keeps it in memory only).
 * </ul>
 */
public enum TransactionState {
    EMPTY(0), ONGOING(1), PREPARE_COMMIT(2), PREPARE_ABORT(3), COMPLETE_COMMIT(4), COMPLETE_ABORT(5), DEAD(6),
    PREPARE_EPOCH_FENCE(7);

    private final byte id;

    TransactionState(int id) {
        this.id = (byte) id;
    }

    public byte id() {
        return id;
    }

    /** The state of a stored id. */
    public static TransactionState of(byte id) {
        for (TransactionState state : values()) {
            if (state.id == id) {
                return state;
            }
        }
        throw new IllegalArgumentException("unknown transaction state " + id);
    }

    /** The name DescribeTransactions and ListTransactions give (Kafka's). */
    public String displayName() {
        return switch (this) {
            case EMPTY -> "Empty";
            case ONGOING -> "Ongoing";
            case PREPARE_COMMIT -> "PrepareCommit";
            case PREPARE_ABORT -> "PrepareAbort";
            case COMPLETE_COMMIT -> "CompleteCommit";
            case COMPLETE_ABORT -> "CompleteAbort";
            case DEAD -> "Dead";
            case PREPARE_EPOCH_FENCE -> "PrepareEpochFence";
        };
    }

    public boolean isPrepare() {
        return this == PREPARE_COMMIT || this == PREPARE_ABORT;
    }
}
