package io.gregor.broker.txn;

import io.gregor.coordinator.transaction.TransactionCoordinatorService;
import io.gregor.metadata.MetadataImage;
import io.gregor.metadata.MetadataManager;
import io.gregor.metadata.PartitionRegistration;
import io.gregor.metadata.TopicImage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves the transaction coordinator with the leadership of {@code __transaction_state}: once the topic exists the
 * coordinator learns its partition count, a partition this node comes to lead is loaded (its transactional ids
 * replayed, decided transactions finished), one it no longer leads is unloaded.
 */
public final class TransactionLeadership implements MetadataManager.Listener {
    private static final Logger log = LoggerFactory.getLogger(TransactionLeadership.class);

    private final int nodeId;
    private final TransactionCoordinatorService transactions;

    public TransactionLeadership(int nodeId, TransactionCoordinatorService transactions) {
        this.nodeId = nodeId;
        this.transactions = transactions;
    }

    /** Acts on the whole of {@code image} (at start, when no earlier image was seen by this listener). */
    public void catchUp(MetadataImage image) {
        apply(null, image.topic(TransactionStateTopic.TOPIC));
    }

    @Override
    public void onImage(MetadataImage previous, MetadataImage next) {
        TopicImage before = previous.topic(TransactionStateTopic.TOPIC);
        TopicImage now = next.topic(TransactionStateTopic.TOPIC);
        if (now == null || before != null && before.registrations().equals(now.registrations())) {
            return;
        }
        apply(before, now);
    }

    private void apply(TopicImage before, TopicImage now) {
        if (now == null) {
            return;
        }
        if (transactions.numPartitions() == 0) {
            transactions.startup(now.partitions());
        }
        for (int p = 0; p < Math.min(now.partitions(), transactions.numPartitions()); p++) {
            PartitionRegistration was = before == null ? null : before.registration(p);
            PartitionRegistration is = now.registration(p);
            if (is == null || is.equals(was)) {
                continue;
            }
            boolean ledBefore = was != null && was.leader() == nodeId;
            if (is.leader() == nodeId && (!ledBefore || was.leaderEpoch() != is.leaderEpoch())) {
                log.info("Loading the transactions of {}-{} (leader epoch {})", TransactionStateTopic.TOPIC, p,
                        is.leaderEpoch());
                transactions.load(p, is.leaderEpoch());
            } else if (ledBefore && is.leader() != nodeId) {
                log.info("Unloading the transactions of {}-{}: node {} no longer leads it", TransactionStateTopic.TOPIC,
                        p, nodeId);
                transactions.unload(p, is.leaderEpoch());
            }
        }
    }
}
