package io.gregor.storage;

import java.nio.channels.FileChannel;

/**
 * A slice of one segment file for zero-copy reads: bytes {@code [position, position + size)} of
 * {@code channel}, whole batches only. The channel stays open for at least
 * {@code file.delete.delay.ms} after its segment is deleted, so a slice can be sent after the
 * segment has been removed by retention.
 *
 * @param firstOffset base offset of the first batch
 * @param lastOffset last offset of the last batch
 */
public record FetchSlice(FileChannel channel, long position, int size, long firstOffset, long lastOffset) {

    /** No data. */
    public static final FetchSlice EMPTY = new FetchSlice(null, 0L, 0, -1L, -1L);

    /** True when the slice holds no bytes. */
    public boolean isEmpty() {
        return size == 0;
    }
}
