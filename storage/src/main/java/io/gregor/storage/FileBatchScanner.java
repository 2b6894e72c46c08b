package io.gregor.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * Walks the batch headers of a segment file with positional reads, buffering a window of the file
 * so that runs of small batches cost one read. Never moves the channel's own position, so many
 * scanners can share a channel with the appender. Not thread-safe itself; one per call.
 */
final class FileBatchScanner {

    private static final int WINDOW_BYTES = 16 * 1024;
    /**
     * Batches this large or larger are walked by reading their headers alone (and a little more, for a control
     * record's type): filling the whole window for each one would copy every byte of a fetch through the heap.
     */
    private static final int LARGE_BATCH_BYTES = 2 * 1024;
    private static final int HEADER_READ_BYTES = 128;

    /** One batch as seen in the file. */
    record Entry(int position, int size, long baseOffset, long lastOffset, long maxTimestamp) {
        int end() {
            return position + size;
        }
    }

    private final FileChannel channel;
    private final int end;
    private final ByteBuffer window = ByteBuffer.allocate(WINDOW_BYTES);
    private long windowStart = -1;
    private int position;
    /** Where the header of the batch {@link #next()} returned last starts in the window. */
    private int lastHeader = -1;
    private int lastSize;

    /** Scans from {@code start} up to (excluding) {@code end}, which must be a committed size. */
    FileBatchScanner(FileChannel channel, int start, int end) {
        this.channel = channel;
        this.position = start;
        this.end = end;
        window.limit(0);
    }

    /** The position of the next batch. */
    int position() {
        return position;
    }

    /**
     * The next batch header, or null at the end of the range or when the remaining bytes do not
     * hold a plausible batch (a torn tail). Does not check the CRC.
     */
    Entry next() throws IOException {
        if (end - position < RecordBatchHeader.HEADER_SIZE) {
            return null;
        }
        int offsetInWindow = fill(position);
        int size = RecordBatchHeader.sizeInBytes(window, offsetInWindow);
        if (size < RecordBatchHeader.HEADER_SIZE || size > end - position) {
            return null;
        }
        long baseOffset = RecordBatchHeader.baseOffset(window, offsetInWindow);
        Entry entry = new Entry(position, size, baseOffset,
                baseOffset + RecordBatchHeader.lastOffsetDelta(window, offsetInWindow),
                RecordBatchHeader.maxTimestamp(window, offsetInWindow));
        position += size;
        lastHeader = offsetInWindow;
        lastSize = size;
        return entry;
    }

    /** The producer fields of {@code entry}, the batch {@link #next()} returned last. */
    ProducerBatch producerBatch(Entry entry) throws IOException {
        ProducerBatch batch = ProducerBatch.read(window, lastHeader, entry.baseOffset(), entry.lastOffset());
        if (batch.isControl() && (batch.controlType() < 0 || batch.coordinatorEpoch() < 0)) {
            // The window ends before (the end of) the control record: read the (small) batch whole.
            batch = ProducerBatch.read(readBatch(channel, entry), 0, entry.baseOffset(), entry.lastOffset());
        }
        return batch;
    }

    /** Makes the header at {@code at} available in the window and returns its index there. */
    private int fill(int at) throws IOException {
        if (windowStart >= 0 && at >= windowStart && at + RecordBatchHeader.HEADER_SIZE <= windowStart + window.limit()) {
            return (int) (at - windowStart);
        }
        window.clear();
        window.limit(Math.min(lastSize >= LARGE_BATCH_BYTES ? HEADER_READ_BYTES : WINDOW_BYTES, end - at));
        long readAt = at;
        while (window.hasRemaining()) {
            int n = channel.read(window, readAt);
            if (n < 0) {
                throw new IOException("Unexpected end of file at " + readAt + " (expected " + end + " bytes)");
            }
            readAt += n;
        }
        window.flip();
        windowStart = at;
        return 0;
    }

    /** Reads the whole batch into a fresh buffer (for CRC validation during recovery). */
    static ByteBuffer readBatch(FileChannel channel, Entry entry) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(entry.size());
        long readAt = entry.position();
        while (buffer.hasRemaining()) {
            int n = channel.read(buffer, readAt);
            if (n < 0) {
                throw new IOException("Unexpected end of file at " + readAt);
            }
            readAt += n;
        }
        return buffer.flip();
    }
}
