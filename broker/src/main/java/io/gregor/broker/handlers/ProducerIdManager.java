package io.gregor.broker.handlers;

import io.gregor.metadata.ControllerResult;
import io.gregor.metadata.MetadataManager;
import io.gregor.metadata.MetadataRecord;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Hands out producer ids. Ids are reserved in blocks through the metadata log, so no id is given twice even across
 * restarts; within a block they are handed out from memory.
 */
public final class ProducerIdManager {
    static final long BLOCK_SIZE = 1000;

    private final MetadataManager metadata;
    private long next = -1;
    private long blockEnd = -1;

    public ProducerIdManager(MetadataManager metadata) {
        this.metadata = metadata;
    }

    public synchronized CompletableFuture<Long> nextProducerId() {
        if (next >= 0 && next < blockEnd) {
            return CompletableFuture.completedFuture(next++);
        }
        return metadata.<long[]>write(image -> {
            long start = image.nextProducerIdBlock();
            return ControllerResult.of(List.of(new MetadataRecord.ProducerIdsAllocated(start + BLOCK_SIZE)),
                    new long[] {start, start + BLOCK_SIZE});
        }).thenApply(block -> {
            synchronized (this) {
                if (next < 0 || next >= blockEnd) {
                    next = block[0];
                    blockEnd = block[1];
                }
                return next++;
            }
        });
    }
}
