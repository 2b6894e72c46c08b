package io.gregor.broker.handlers;

import io.gregor.broker.controller.ControllerChannel;
import io.gregor.metadata.ControllerResult;
import io.gregor.metadata.MetadataManager;
import io.gregor.metadata.MetadataRecord;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.AllocateProducerIdsRequestData;
import org.apache.kafka.common.message.AllocateProducerIdsResponseData;
import org.apache.kafka.common.protocol.Errors;

/**
 * Hands out producer ids. Ids are reserved in blocks through the metadata log, so no id is given twice even across
 * restarts or nodes; within a block they are handed out from memory. The active controller reserves blocks; other
 * nodes ask it with AllocateProducerIds.
 */
public final class ProducerIdManager {
    static final long BLOCK_SIZE = 1000;

    private final MetadataManager metadata;
    private final ControllerChannel controller;
    private long next = -1;
    private long blockEnd = -1;

    public ProducerIdManager(MetadataManager metadata, ControllerChannel controller) {
        this.metadata = metadata;
        this.controller = controller;
    }

    public synchronized CompletableFuture<Long> nextProducerId() {
        if (next >= 0 && next < blockEnd) {
            return CompletableFuture.completedFuture(next++);
        }
        CompletableFuture<long[]> block = controller.isActive() ? allocateBlock() : askController();
        return block.thenApply(b -> {
            synchronized (this) {
                if (next < 0 || next >= blockEnd) {
                    next = b[0];
                    blockEnd = b[1];
                }
                return next++;
            }
        });
    }

    /** On the active controller: reserves the next block; completes with {start, end}. */
    public CompletableFuture<long[]> allocateBlock() {
        return metadata.write(image -> {
            long start = image.nextProducerIdBlock();
            return ControllerResult.of(List.of(new MetadataRecord.ProducerIdsAllocated(start + BLOCK_SIZE)),
                    new long[] {start, start + BLOCK_SIZE});
        });
    }

    private CompletableFuture<long[]> askController() {
        AllocateProducerIdsRequestData request = new AllocateProducerIdsRequestData().setBrokerId(-1).setBrokerEpoch(-1);
        return controller.send(request, (short) 0, Duration.ofSeconds(30), ControllerChannel::notController)
                .thenApply(r -> {
                    AllocateProducerIdsResponseData response = (AllocateProducerIdsResponseData) r;
                    if (response.errorCode() != Errors.NONE.code()) {
                        throw Errors.forCode(response.errorCode()).exception();
                    }
                    return new long[] {response.producerIdStart(), response.producerIdStart() + response.producerIdLen()};
                });
    }
}
