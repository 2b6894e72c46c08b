package io.gregor.coordinator.transaction;

import io.gregor.coordinator.runtime.CoordinatorResult;
import io.gregor.coordinator.runtime.CoordinatorShard;
import io.gregor.coordinator.runtime.CoordinatorTime;
import io.gregor.coordinator.runtime.CoordinatorTimer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.protocol.Errors;

/**
 * The transactional ids of one partition of {@code __transaction_state}. Operations check a request against the
 * stored state and return the record of the new state with the response; the state changes only when that record is
 * replayed. Kafka's rules (transaction version 1): InitProducerId bumps the epoch (fencing the previous producer and
 * aborting its open transaction), AddPartitionsToTxn opens the transaction, EndTxn writes the decision (PREPARE_*),
 * then the markers are written and the transaction completes (COMPLETE_*); a transaction open longer than its timeout
 * is aborted with a bumped epoch.
 *
 * <p>Runs on the shard's queue only.
 */
public final class TransactionCoordinatorShard implements CoordinatorShard<TransactionRecord> {

    /** Told when a decided transaction needs its markers written (after its PREPARE record is committed). */
    interface Decisions {
        void markersDue(int partition, TransactionMetadata prepared);
    }

    /** What InitProducerId answers. */
    public record InitResult(Errors error, long producerId, short producerEpoch) {
        static InitResult error(Errors error) {
            return new InitResult(error, -1, (short) -1);
        }
    }

    private final int partition;
    private final CoordinatorTimer<TransactionRecord> timer;
    private final CoordinatorTime time;
    private final Decisions decisions;
    private final Map<String, TransactionMetadata> transactions = new HashMap<>();
    private final TransactionConfig config;
    private static final String EXPIRY_TIMER = "expire-transactional-ids";

    TransactionCoordinatorShard(int partition, CoordinatorTimer<TransactionRecord> timer, CoordinatorTime time,
                                Decisions decisions, TransactionConfig config) {
        this.partition = partition;
        this.timer = timer;
        this.time = time;
        this.decisions = decisions;
        this.config = config;
    }

    /** Looks for expired transactional ids every cleanup interval, as a timer of the shard. */
    private void scheduleExpiry() {
        timer.schedule(EXPIRY_TIMER, config.cleanupIntervalMs(), () -> {
            CoordinatorResult<TransactionRecord, Void> result = expireIds();
            scheduleExpiry();
            return result;
        });
    }

    /**
     * Tombstones for the ids with nothing open or completing (Empty, CompleteCommit, CompleteAbort) unchanged for
     * transactional.id.expiration.ms: a later InitProducerId of such an id starts it afresh with a new producer id.
     */
    CoordinatorResult<TransactionRecord, Void> expireIds() {
        long now = time.milliseconds();
        List<TransactionRecord> tombstones = new ArrayList<>();
        for (TransactionMetadata m : transactions.values()) {
            boolean idle = m.state() == TransactionState.EMPTY || m.state() == TransactionState.COMPLETE_COMMIT
                    || m.state() == TransactionState.COMPLETE_ABORT;
            if (idle && now - m.updateMs() >= config.idExpirationMs()) {
                tombstones.add(new TransactionRecord(m.transactionalId(), null));
            }
        }
        return CoordinatorResult.of(tombstones, null);
    }

    @Override
    public void replay(long offset, TransactionRecord record) {
        if (record.isTombstone()) {
            transactions.remove(record.transactionalId());
        } else {
            transactions.put(record.transactionalId(), record.metadata());
        }
    }

    @Override
    public void onLoaded() {
        scheduleExpiry();
        // A new coordinator finishes what the old one decided and times out what stays open.
        for (TransactionMetadata m : transactions.values()) {
            if (m.state().isPrepare()) {
                decisions.markersDue(partition, m);
            } else if (m.state() == TransactionState.ONGOING) {
                scheduleTimeout(m);
            }
        }
    }

    TransactionMetadata get(String transactionalId) {
        return transactions.get(transactionalId);
    }

    List<TransactionMetadata> all() {
        return new ArrayList<>(transactions.values());
    }

    private static CoordinatorResult<TransactionRecord, Errors> answer(Errors error) {
        return CoordinatorResult.response(error);
    }

    private static TransactionRecord record(TransactionMetadata m) {
        return new TransactionRecord(m.transactionalId(), m);
    }

    /** The producer's checks of AddPartitionsToTxn, AddOffsetsToTxn and EndTxn; null when the producer is current. */
    private static Errors checkProducer(TransactionMetadata m, long producerId, short producerEpoch) {
        if (m == null || m.producerId() != producerId) {
            return Errors.INVALID_PRODUCER_ID_MAPPING;
        }
        if (m.producerEpoch() != producerEpoch) {
            return Errors.PRODUCER_FENCED;
        }
        return null;
    }

    /**
     * InitProducerId with a transactional id. {@code newProducerId} is a fresh id the caller reserved, used for a new
     * transactional id or when the epoch is exhausted; {@code expectedProducerId}/{@code expectedEpoch} are the
     * producer's own (KIP-360 re-initialisation), -1 when it has none.
     */
    CoordinatorResult<TransactionRecord, InitResult> initProducerId(String transactionalId, int timeoutMs,
                                                                    long newProducerId, long expectedProducerId,
                                                                    short expectedEpoch) {
        long now = time.milliseconds();
        TransactionMetadata m = transactions.get(transactionalId);
        if (m == null) {
            TransactionMetadata fresh = new TransactionMetadata(transactionalId, newProducerId, (short) 0, timeoutMs,
                    TransactionState.EMPTY, Set.of(), -1, now);
            return CoordinatorResult.of(List.of(record(fresh)), new InitResult(Errors.NONE, newProducerId, (short) 0));
        }
        if (m.state().isPrepare()) {
            return CoordinatorResult.response(InitResult.error(Errors.CONCURRENT_TRANSACTIONS));
        }
        if (expectedProducerId >= 0 && (expectedProducerId != m.producerId() || expectedEpoch != m.producerEpoch())) {
            return CoordinatorResult.response(InitResult.error(Errors.PRODUCER_FENCED));
        }
        if (m.state() == TransactionState.ONGOING) {
            // The previous producer of this id left a transaction open: fence it with a new epoch and abort it; the
            // new producer retries (CONCURRENT_TRANSACTIONS) and gets the epoch after that once the abort completes.
            TransactionMetadata fenced = fenceAndAbort(m, now);
            return new CoordinatorResult<>(List.of(record(fenced)), InitResult.error(Errors.CONCURRENT_TRANSACTIONS),
                    () -> decisions.markersDue(partition, fenced));
        }
        long producerId = m.producerId();
        short epoch = (short) (m.producerEpoch() + 1);
        if (m.producerEpoch() >= Short.MAX_VALUE - 1) {
            producerId = newProducerId;
            epoch = 0;
        }
        TransactionMetadata bumped = new TransactionMetadata(transactionalId, producerId, epoch, timeoutMs,
                TransactionState.EMPTY, Set.of(), -1, now);
        return CoordinatorResult.of(List.of(record(bumped)), new InitResult(Errors.NONE, producerId, epoch));
    }

    private TransactionMetadata fenceAndAbort(TransactionMetadata m, long now) {
        timer.cancel(timeoutKey(m.transactionalId()));
        short epoch = m.producerEpoch() >= Short.MAX_VALUE - 1 ? m.producerEpoch() : (short) (m.producerEpoch() + 1);
        return m.with(epoch, TransactionState.PREPARE_ABORT, m.partitions(), m.startMs(), now);
    }

    /** AddPartitionsToTxn (and AddOffsetsToTxn, with the group's offsets partition): opens or widens the transaction. */
    CoordinatorResult<TransactionRecord, Errors> addPartitions(String transactionalId, long producerId,
                                                               short producerEpoch, Set<TopicPartition> partitions) {
        TransactionMetadata m = transactions.get(transactionalId);
        Errors producerError = checkProducer(m, producerId, producerEpoch);
        if (producerError != null) {
            return answer(producerError);
        }
        if (m.state().isPrepare()) {
            return answer(Errors.CONCURRENT_TRANSACTIONS);
        }
        if (m.state() == TransactionState.ONGOING && m.partitions().containsAll(partitions)) {
            return answer(Errors.NONE);
        }
        long now = time.milliseconds();
        Set<TopicPartition> union = new HashSet<>(m.state() == TransactionState.ONGOING ? m.partitions() : Set.of());
        union.addAll(partitions);
        long start = m.state() == TransactionState.ONGOING ? m.startMs() : now;
        TransactionMetadata ongoing = m.with(m.producerEpoch(), TransactionState.ONGOING, union, start, now);
        if (m.state() != TransactionState.ONGOING) {
            scheduleTimeout(ongoing);
        }
        return CoordinatorResult.of(List.of(record(ongoing)), Errors.NONE);
    }

    /**
     * The verify-only AddPartitionsToTxn (KIP-890 part 1): whether each partition is in the producer's open
     * transaction, which a partition leader asks before a transactional batch may open a transaction there.
     */
    java.util.Map<TopicPartition, Errors> verify(String transactionalId, long producerId, short producerEpoch,
                                                 Set<TopicPartition> partitions) {
        TransactionMetadata m = transactions.get(transactionalId);
        Errors producerError = checkProducer(m, producerId, producerEpoch);
        java.util.Map<TopicPartition, Errors> out = new java.util.LinkedHashMap<>();
        for (TopicPartition tp : partitions) {
            out.put(tp, producerError != null ? producerError
                    : m.state() == TransactionState.ONGOING && m.partitions().contains(tp) ? Errors.NONE
                    : Errors.INVALID_TXN_STATE);
        }
        return out;
    }

    /** What EndTxn answers: with transaction version 2, the producer id and epoch the producer goes on with. */
    public record EndResult(Errors error, long producerId, short producerEpoch) {
        static EndResult error(Errors error) {
            return new EndResult(error, -1, (short) -1);
        }
    }

    /** EndTxn of transaction version 1 (EndTxn v0-4): the decision keeps the epoch. */
    CoordinatorResult<TransactionRecord, Errors> endTransaction(String transactionalId, long producerId,
                                                                short producerEpoch, boolean commit) {
        CoordinatorResult<TransactionRecord, EndResult> result = endTransaction(transactionalId, producerId,
                producerEpoch, commit, false, -1);
        return new CoordinatorResult<>(result.records(), result.response().error(), result.afterCommit());
    }

    /**
     * EndTxn: the decision is written (PREPARE_*), answered, and its markers written after the commit. With
     * transaction version 2 ({@code tv2}: EndTxn v5 and later, KIP-890 part 2) the decision bumps the epoch, its
     * markers carry the new epoch (fencing every late batch of the transaction) and the answer gives the producer
     * the epoch to go on with; when the epoch is exhausted the id moves to {@code newProducerId} (epoch 0) as the
     * transaction completes. A retry of an EndTxn that was decided (the producer still at the epoch before the bump)
     * gets that answer again; an abort with nothing open is allowed and bumps the epoch too.
     */
    CoordinatorResult<TransactionRecord, EndResult> endTransaction(String transactionalId, long producerId,
                                                                   short producerEpoch, boolean commit, boolean tv2,
                                                                   long newProducerId) {
        TransactionMetadata m = transactions.get(transactionalId);
        if (!tv2) {
            Errors producerError = checkProducer(m, producerId, producerEpoch);
            if (producerError != null) {
                return CoordinatorResult.response(EndResult.error(producerError));
            }
        } else if (m == null) {
            return CoordinatorResult.response(EndResult.error(Errors.INVALID_PRODUCER_ID_MAPPING));
        }
        TransactionState prepare = commit ? TransactionState.PREPARE_COMMIT : TransactionState.PREPARE_ABORT;
        TransactionState complete = commit ? TransactionState.COMPLETE_COMMIT : TransactionState.COMPLETE_ABORT;
        if (!tv2) {
            Errors error = switch (m.state()) {
                case ONGOING -> null;
                // A retry while the markers are written: the producer asks again until the transaction completes.
                case PREPARE_COMMIT, PREPARE_ABORT -> m.state() == prepare ? Errors.CONCURRENT_TRANSACTIONS
                        : Errors.INVALID_TXN_STATE;
                case COMPLETE_COMMIT, COMPLETE_ABORT -> m.state() == complete ? Errors.NONE : Errors.INVALID_TXN_STATE;
                default -> Errors.INVALID_TXN_STATE;
            };
            if (error != null) {
                return CoordinatorResult.response(new EndResult(error, m.producerId(), m.producerEpoch()));
            }
            return decide(m, prepare, m.producerEpoch(), -1, m.clientTransactionVersion(), false);
        }
        // Transaction version 2: a retry is recognised by the epoch the decision bumped (or by the producer id it
        // moved from, when the epoch was exhausted).
        boolean retryOnBump = m.producerId() == producerId && m.producerEpoch() == producerEpoch + 1;
        boolean retryOnOverflow = m.prevProducerId() == producerId && producerEpoch == Short.MAX_VALUE - 1
                && m.producerEpoch() == 0;
        boolean retry = retryOnBump || retryOnOverflow;
        if (m.producerId() != producerId && !retryOnOverflow) {
            return CoordinatorResult.response(EndResult.error(Errors.INVALID_PRODUCER_ID_MAPPING));
        }
        boolean current = m.producerEpoch() == producerEpoch;
        if (m.state().isPrepare() && (current || retryOnBump)) {
            // The previous decision's markers are still being written: its retry, or the next transaction's EndTxn
            // (the producer went on at the bumped epoch at once), waits until it completes.
            return CoordinatorResult.response(EndResult.error(Errors.CONCURRENT_TRANSACTIONS));
        }
        boolean validEpoch = switch (m.state()) {
            case ONGOING, EMPTY -> current;
            case PREPARE_COMMIT, PREPARE_ABORT -> retryOnBump;
            case COMPLETE_COMMIT, COMPLETE_ABORT -> retry || current;
            default -> false;
        };
        if (!validEpoch) {
            return CoordinatorResult.response(EndResult.error(Errors.PRODUCER_FENCED));
        }
        EndResult same = new EndResult(Errors.NONE, m.producerId(), m.producerEpoch());
        return switch (m.state()) {
            case ONGOING -> decideBumped(m, prepare, newProducerId, false);
            case PREPARE_COMMIT, PREPARE_ABORT -> CoordinatorResult.response(EndResult.error(
                    m.state() == prepare ? Errors.CONCURRENT_TRANSACTIONS : Errors.INVALID_TXN_STATE));
            case COMPLETE_COMMIT -> commit
                    ? CoordinatorResult.response(retry ? same : EndResult.error(Errors.INVALID_TXN_STATE))
                    : retry ? CoordinatorResult.response(EndResult.error(Errors.INVALID_TXN_STATE))
                    : decideBumped(m, TransactionState.PREPARE_ABORT, newProducerId, true);
            case COMPLETE_ABORT -> !commit
                    ? retry ? CoordinatorResult.response(same)
                    : decideBumped(m, TransactionState.PREPARE_ABORT, newProducerId, true)
                    : CoordinatorResult.response(EndResult.error(Errors.INVALID_TXN_STATE));
            case EMPTY -> !commit ? decideBumped(m, TransactionState.PREPARE_ABORT, newProducerId, true)
                    : CoordinatorResult.response(EndResult.error(Errors.INVALID_TXN_STATE));
            default -> CoordinatorResult.response(EndResult.error(Errors.INVALID_TXN_STATE));
        };
    }

    /** The epoch of {@code m} is exhausted: the next bump moves the id to a new producer id (Kafka: Short.MAX - 1). */
    static boolean epochExhausted(short epoch) {
        return epoch >= Short.MAX_VALUE - 1;
    }

    private CoordinatorResult<TransactionRecord, EndResult> decideBumped(TransactionMetadata m, TransactionState prepare,
                                                                         long newProducerId, boolean nothingAdded) {
        long next = -1;
        if (epochExhausted(m.producerEpoch())) {
            if (newProducerId < 0) {
                return CoordinatorResult.response(EndResult.error(Errors.CONCURRENT_TRANSACTIONS));
            }
            next = newProducerId;
        }
        return decide(m, prepare, (short) (m.producerEpoch() + 1), next, (short) 2, nothingAdded);
    }

    private CoordinatorResult<TransactionRecord, EndResult> decide(TransactionMetadata m, TransactionState prepare,
                                                                   short epoch, long nextProducerId, short version,
                                                                   boolean nothingAdded) {
        timer.cancel(timeoutKey(m.transactionalId()));
        long now = time.milliseconds();
        TransactionMetadata prepared = m.with(epoch, prepare, nothingAdded ? Set.of() : m.partitions(),
                nothingAdded ? now : m.startMs(), now).withIds(m.producerId(), m.prevProducerId(), nextProducerId, version);
        // The producer goes on with what the transaction completes to.
        EndResult answer = nextProducerId >= 0 ? new EndResult(Errors.NONE, nextProducerId, (short) 0)
                : new EndResult(Errors.NONE, m.producerId(), epoch);
        return new CoordinatorResult<>(List.of(record(prepared)), answer, () -> decisions.markersDue(partition, prepared));
    }

    /** Every marker of a decided transaction is written: it completes (unless it changed meanwhile). */
    CoordinatorResult<TransactionRecord, Void> complete(String transactionalId, long producerId, short producerEpoch,
                                                        TransactionState prepared) {
        TransactionMetadata m = transactions.get(transactionalId);
        if (m == null || m.producerId() != producerId || m.producerEpoch() != producerEpoch || m.state() != prepared) {
            return CoordinatorResult.response(null);
        }
        TransactionState done = prepared == TransactionState.PREPARE_COMMIT ? TransactionState.COMPLETE_COMMIT
                : TransactionState.COMPLETE_ABORT;
        TransactionMetadata completed = m.with(m.producerEpoch(), done, Set.of(), -1, time.milliseconds());
        if (m.nextProducerId() >= 0) {
            // Transaction version 2 with the epoch exhausted: the id goes on with its new producer id.
            completed = completed.with((short) 0, done, Set.of(), -1, time.milliseconds())
                    .withIds(m.nextProducerId(), m.producerId(), -1, m.clientTransactionVersion());
        }
        return CoordinatorResult.of(List.of(record(completed)), null);
    }

    private static String timeoutKey(String transactionalId) {
        return "timeout:" + transactionalId;
    }

    private void scheduleTimeout(TransactionMetadata m) {
        long delay = Math.max(0, m.startMs() + m.timeoutMs() - time.milliseconds());
        String id = m.transactionalId();
        long producerId = m.producerId();
        short epoch = m.producerEpoch();
        timer.schedule(timeoutKey(id), delay, () -> abortTimedOut(id, producerId, epoch));
    }

    /** transaction.timeout.ms passed: the transaction is aborted with a bumped epoch, which fences its producer. */
    CoordinatorResult<TransactionRecord, Void> abortTimedOut(String transactionalId, long producerId, short epoch) {
        TransactionMetadata m = transactions.get(transactionalId);
        if (m == null || m.state() != TransactionState.ONGOING || m.producerId() != producerId
                || m.producerEpoch() != epoch) {
            return CoordinatorResult.response(null);
        }
        TransactionMetadata fenced = fenceAndAbort(m, time.milliseconds());
        return new CoordinatorResult<>(List.of(record(fenced)), null, () -> decisions.markersDue(partition, fenced));
    }
}
