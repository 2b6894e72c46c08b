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

    /** EndTxn: the decision is written (PREPARE_*), answered, and its markers written after the commit. */
    CoordinatorResult<TransactionRecord, Errors> endTransaction(String transactionalId, long producerId,
                                                                short producerEpoch, boolean commit) {
        TransactionMetadata m = transactions.get(transactionalId);
        Errors producerError = checkProducer(m, producerId, producerEpoch);
        if (producerError != null) {
            return answer(producerError);
        }
        TransactionState prepare = commit ? TransactionState.PREPARE_COMMIT : TransactionState.PREPARE_ABORT;
        TransactionState complete = commit ? TransactionState.COMPLETE_COMMIT : TransactionState.COMPLETE_ABORT;
        switch (m.state()) {
            case ONGOING -> {
                timer.cancel(timeoutKey(transactionalId));
                TransactionMetadata prepared = m.with(m.producerEpoch(), prepare, m.partitions(), m.startMs(),
                        time.milliseconds());
                return new CoordinatorResult<>(List.of(record(prepared)), Errors.NONE,
                        () -> decisions.markersDue(partition, prepared));
            }
            case PREPARE_COMMIT, PREPARE_ABORT -> {
                // A retry while the markers are written: the producer asks again until the transaction completes.
                return answer(m.state() == prepare ? Errors.CONCURRENT_TRANSACTIONS : Errors.INVALID_TXN_STATE);
            }
            case COMPLETE_COMMIT, COMPLETE_ABORT -> {
                return answer(m.state() == complete ? Errors.NONE : Errors.INVALID_TXN_STATE);
            }
            default -> {
                return answer(Errors.INVALID_TXN_STATE);
            }
        }
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
        return CoordinatorResult.of(List.of(record(m.with(m.producerEpoch(), done, Set.of(), -1, time.milliseconds()))),
                null);
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
