package io.gregor.protocol.legacy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.stream.ChunkedInput;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.BaseRecords;
import org.apache.kafka.common.record.RecordsSend;
import org.apache.kafka.common.utils.BufferSupplier;

/**
 * The records of one partition of a Fetch v0-3 response, converted to message format v0/v1 while they are written:
 * the first chunk is converted when the fetch is read (so that errors and emptiness are known before the response
 * is built), every later chunk of at most {@link #CHUNK_BYTES} stored bytes only when the connection can take more.
 * The client receives the first messages while the next ones are converted, and the broker holds one chunk per
 * in-flight fetch, never the whole answer.
 *
 * <p>The size is fixed before the conversion ends (the response's lengths come first on the wire): the source's
 * stored bytes at the ratio of converted to stored bytes of the first chunk, at most the fetch's budget (a source may
 * reach past the budget, so that a full answer does not fall short of it), and at least the first converted chunk,
 * so the first message is always whole. Messages that do not fit
 * are cut, as a v0-v3 reader expects a partial message at the end; converted messages that fall short are followed
 * by an overflow message (offset -1, a length past the end of the response) that every v0-v3 reader skips as
 * partial. A chunk that ends the conversion early (the limit, an undecided transaction, a ZStandard batch) ends it
 * for good: what came later is not given, the reader fetches again from there.
 *
 * <p>Written once, by a Netty {@code ChunkedWriteHandler}; not thread-safe.
 */
public final class DownConvertedRecords implements BaseRecords, ChunkedInput<ByteBuf> {
    /** Stored bytes converted per chunk (a larger batch is converted whole). */
    public static final int CHUNK_BYTES = 128 * 1024;
    private static final int MESSAGE_HEADER = 12;

    /** The stored v2 batches to convert: a slice of a segment. */
    public interface Source {
        /** Bytes in the slice. */
        int size();

        /** Fills {@code target} from byte {@code position} of the slice; the slice has at least that many bytes. */
        void read(ByteBuffer target, int position) throws IOException;
    }

    private final Source source;
    private final byte magic;
    private final long fetchOffset;
    private final Errors error;
    private final boolean blocked;
    private int size;
    private int messages;
    private int cursor;
    private int converted;
    private int written;
    private boolean converting = true;
    private boolean filling;
    /** Converted bytes not yet handed out; owned (released when read through or closed). */
    private ByteBuf pending;
    private ByteBuffer chunkBuffer;
    private final BufferSupplier decompression = BufferSupplier.create();

    private DownConvertedRecords(Source source, byte magic, long fetchOffset, int budget) throws IOException {
        this.source = source;
        this.magic = magic;
        this.fetchOffset = fetchOffset;
        Errors firstError = Errors.NONE;
        boolean stoppedEmpty = false;
        // The first chunk that gives a message (chunks of control batches, aborted records or offsets below the
        // fetch offset give none) sets the size; stopping before one means there is nothing to give yet.
        int firstSize = 0;
        while (messages == 0 && converting) {
            LegacyRecords.Converted first = convertNext(budget);
            if (first == null) {
                break;
            }
            if (first.error() != Errors.NONE) {
                firstError = first.error();
                break;
            }
            messages += first.messages();
            firstSize = first.records().sizeInBytes();
            pending = Unpooled.wrappedBuffer(first.records().buffer());
            stoppedEmpty = first.stopped() && first.messages() == 0;
        }
        this.error = firstError;
        this.blocked = stoppedEmpty;
        // The size: the whole source at the ratio of converted to stored bytes seen so far, within the budget, and
        // never less than the first chunk.
        long estimate = cursor == 0 ? firstSize : (long) Math.ceil((double) source.size() * firstSize / cursor);
        this.size = messages == 0 ? 0 : (int) Math.max(firstSize, Math.min(budget, estimate));
        if (messages == 0) {
            close();
        }
    }

    /**
     * Converts the start of {@code source} for a reader of message format {@code magic}.
     *
     * @param source stored batches from the fetch offset on; may hold more than {@code budget} (only what fits is
     *     converted)
     * @param budget the size is at most this, unless the first message alone is larger
     */
    public static DownConvertedRecords start(Source source, byte magic, long fetchOffset, int budget) {
        if (magic != 0 && magic != 1) {
            throw new IllegalArgumentException("magic " + magic);
        }
        try {
            return new DownConvertedRecords(source, magic, fetchOffset, budget);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** NONE, or the error the partition is answered with (UNSUPPORTED_COMPRESSION_TYPE for ZStandard first). */
    public Errors error() {
        return error;
    }

    /** Whether there is at least one message to give. */
    public boolean hasMessages() {
        return messages > 0;
    }

    /**
     * With no message to give: whether the conversion stopped at something that must be given first (a transaction
     * not yet decided), so later batches must not be looked at either.
     */
    public boolean blocked() {
        return blocked;
    }

    @Override
    public int sizeInBytes() {
        return size;
    }

    @Override
    public RecordsSend<? extends BaseRecords> toSend() {
        throw new UnsupportedOperationException("down-converted records are written as a chunked input");
    }

    @Override
    public boolean isEndOfInput() {
        return written >= size;
    }

    @Override
    public void close() {
        release();
        chunkBuffer = null;
        converting = false;
    }

    private void release() {
        if (pending != null) {
            pending.release();
            pending = null;
        }
    }

    @Override
    @Deprecated
    public ByteBuf readChunk(ChannelHandlerContext ctx) throws IOException {
        return readChunk(ctx.alloc());
    }

    @Override
    public ByteBuf readChunk(ByteBufAllocator allocator) throws IOException {
        if (written >= size) {
            return null;
        }
        while (pending == null || !pending.isReadable()) {
            release();
            if (converting && converted < size) {
                pending = convertInto(allocator);
            } else {
                converting = false;
                pending = Unpooled.wrappedBuffer(filler(size - written, !filling));
                filling = true;
            }
        }
        int n = Math.min(pending.readableBytes(), size - written);
        written += n;
        if (n == pending.readableBytes()) {
            ByteBuf whole = pending;
            pending = null;
            return whole;
        }
        return pending.readRetainedSlice(n);
    }

    @Override
    public long length() {
        return size;
    }

    @Override
    public long progress() {
        return written;
    }

    /**
     * Converts the next chunk of whole stored batches, with output stopping before {@code room} bytes, into a new
     * heap buffer; null when the source has no whole batch left. A chunk that stops early ends the conversion.
     */
    private LegacyRecords.Converted convertNext(int room) throws IOException {
        ByteBuffer batches = readBatches();
        return batches == null ? null : convert(batches, room, true, null);
    }

    /**
     * Converts the next chunk straight into a buffer of {@code allocator} (pooled and direct under Netty, so that the
     * transport writes it without another copy); an empty buffer when nothing is left to convert.
     */
    private ByteBuf convertInto(ByteBufAllocator allocator) throws IOException {
        ByteBuffer batches = readBatches();
        if (batches == null) {
            return Unpooled.EMPTY_BUFFER;
        }
        int room = size - converted;
        ByteBuf output = allocator.buffer(LegacyRecords.expectedSize(batches, room));
        try {
            ByteBuffer target = output.nioBuffer(output.writerIndex(), output.writableBytes());
            LegacyRecords.Converted result = convert(batches, room, false, target);
            if (result.error() != Errors.NONE) {
                output.release();
                return Unpooled.EMPTY_BUFFER;
            }
            ByteBuffer written = result.records().buffer();
            if (written.isDirect() == target.isDirect() && written.capacity() == target.capacity()) {
                return output.writerIndex(output.writerIndex() + written.remaining());
            }
            output.release(); // the output outgrew the buffer: the conversion moved to a larger one of its own
            return Unpooled.wrappedBuffer(written);
        } catch (RuntimeException e) {
            output.release();
            throw e;
        }
    }

    private LegacyRecords.Converted convert(ByteBuffer batches, int room, boolean atLeastOne, ByteBuffer output) {
        LegacyRecords.Converted result = LegacyRecords.toLegacyFormat(batches, magic, fetchOffset, Math.max(room, 0),
                atLeastOne, output, decompression);
        converted += result.records().sizeInBytes();
        if (result.stopped() || cursor >= source.size()) {
            converting = false;
        }
        return result;
    }

    /** Reads the whole batches of the next chunk of the source; null at its end (a partial batch there is skipped). */
    private ByteBuffer readBatches() throws IOException {
        int left = source.size() - cursor;
        if (left < MESSAGE_HEADER) {
            cursor = source.size();
            return null;
        }
        if (chunkBuffer == null) {
            chunkBuffer = ByteBuffer.allocate(Math.min(CHUNK_BYTES, left));
        }
        ByteBuffer buffer = chunkBuffer.clear().limit(Math.min(chunkBuffer.capacity(), left));
        source.read(buffer, cursor);
        int read = buffer.position();
        int end = 0;
        while (end + MESSAGE_HEADER <= read) {
            int length = buffer.getInt(end + 8);
            if (length < 0 || end + MESSAGE_HEADER + length > read) {
                break;
            }
            end += MESSAGE_HEADER + length;
        }
        if (end == 0) {
            // One batch larger than a chunk: read it whole.
            int total = MESSAGE_HEADER + buffer.getInt(8);
            if (total < MESSAGE_HEADER || total > left) {
                cursor = source.size();
                return null;
            }
            buffer = ByteBuffer.allocate(total);
            source.read(buffer, cursor);
            end = total;
        }
        cursor += end;
        return buffer.duplicate().position(0).limit(end);
    }

    /**
     * Filler for the bytes the converted messages did not take: one message header whose length reaches past the
     * response, then zeros, so that a reader sees a partial message and stops. Fewer than 12 bytes are a partial
     * header, read the same way.
     */
    private static ByteBuffer filler(int remaining, boolean withHeader) {
        ByteBuffer filler = ByteBuffer.allocate(Math.min(remaining, CHUNK_BYTES));
        if (withHeader && remaining >= MESSAGE_HEADER) {
            filler.putLong(0, -1L);
            filler.putInt(8, remaining);
        }
        return filler;
    }
}
