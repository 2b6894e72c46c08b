package io.gregor.coordinator.transaction;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.MessageUtil;
import org.apache.kafka.coordinator.transaction.generated.TransactionLogKey;
import org.apache.kafka.coordinator.transaction.generated.TransactionLogValue;

/**
 * One record of {@code __transaction_state} in Kafka's own schemas (the generated classes of Kafka's transaction
 * coordinator), so Kafka's tools read the topic: the key is its version (int16, 0) and the transactional id; the value
 * its version (int16: 0 for transaction version 1, 1 once transaction version 2 or a producer id change is
 * involved) and the whole state of the transactional id. A null value is a
 * tombstone (the id expired).
 *
 * @param metadata the state, or null for a tombstone
 */
public record TransactionRecord(String transactionalId, TransactionMetadata metadata) {
    static final short VALUE_VERSION = 0;
    /** Version 1 (flexible) carries the previous and next producer ids and the client's transaction version. */
    static final short VALUE_VERSION_TV2 = 1;

    public boolean isTombstone() {
        return metadata == null;
    }

    public byte[] keyBytes() {
        return MessageUtil.toCoordinatorTypePrefixedBytes(new TransactionLogKey().setTransactionalId(transactionalId));
    }

    public byte[] valueBytes() {
        if (metadata == null) {
            return null;
        }
        Map<String, List<Integer>> byTopic = new LinkedHashMap<>();
        for (TopicPartition tp : metadata.partitions()) {
            byTopic.computeIfAbsent(tp.topic(), t -> new ArrayList<>()).add(tp.partition());
        }
        List<TransactionLogValue.PartitionsSchema> partitions = new ArrayList<>();
        byTopic.forEach((topic, ids) -> partitions.add(new TransactionLogValue.PartitionsSchema().setTopic(topic)
                .setPartitionIds(ids)));
        TransactionLogValue value = new TransactionLogValue().setProducerId(metadata.producerId())
                .setProducerEpoch(metadata.producerEpoch()).setTransactionTimeoutMs(metadata.timeoutMs())
                .setTransactionStatus(metadata.state().id()).setTransactionPartitions(partitions)
                .setTransactionLastUpdateTimestampMs(metadata.updateMs())
                .setTransactionStartTimestampMs(metadata.startMs());
        boolean v1 = metadata.clientTransactionVersion() >= 2 || metadata.prevProducerId() >= 0
                || metadata.nextProducerId() >= 0;
        if (v1) {
            value.setPreviousProducerId(metadata.prevProducerId()).setNextProducerId(metadata.nextProducerId())
                    .setClientTransactionVersion(metadata.clientTransactionVersion());
        }
        return MessageUtil.toVersionPrefixedBytes(v1 ? VALUE_VERSION_TV2 : VALUE_VERSION, value);
    }

    /**
     * Reads a stored record.
     *
     * @throws IllegalArgumentException when the bytes are not a transaction log record
     */
    public static TransactionRecord read(ByteBuffer key, ByteBuffer value) {
        if (key == null || key.remaining() < 2) {
            throw new IllegalArgumentException("a __transaction_state key needs at least its two-byte version");
        }
        try {
            short keyVersion = key.getShort();
            if (keyVersion != 0) {
                throw new IllegalArgumentException("unknown __transaction_state key version " + keyVersion);
            }
            TransactionLogKey k = new TransactionLogKey();
            k.read(new ByteBufferAccessor(key), (short) 0);
            if (value == null) {
                return new TransactionRecord(k.transactionalId(), null);
            }
            short version = value.getShort();
            if (version < TransactionLogValue.LOWEST_SUPPORTED_VERSION || version > TransactionLogValue.HIGHEST_SUPPORTED_VERSION) {
                throw new IllegalArgumentException("unknown __transaction_state value version " + version);
            }
            TransactionLogValue v = new TransactionLogValue();
            v.read(new ByteBufferAccessor(value), version);
            Set<TopicPartition> partitions = new HashSet<>();
            for (TransactionLogValue.PartitionsSchema p : v.transactionPartitions() == null
                    ? List.<TransactionLogValue.PartitionsSchema>of() : v.transactionPartitions()) {
                for (int id : p.partitionIds()) {
                    partitions.add(new TopicPartition(p.topic(), id));
                }
            }
            return new TransactionRecord(k.transactionalId(), new TransactionMetadata(k.transactionalId(),
                    v.producerId(), v.producerEpoch(), v.transactionTimeoutMs(), TransactionState.of(v.transactionStatus()),
                    partitions, v.transactionStartTimestampMs(), v.transactionLastUpdateTimestampMs(),
                    version >= 1 ? v.previousProducerId() : -1, version >= 1 ? v.nextProducerId() : -1,
                    version >= 1 ? v.clientTransactionVersion() : 0));
        } catch (IllegalArgumentException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("unreadable __transaction_state record: " + e.getMessage(), e);
        }
    }
}
