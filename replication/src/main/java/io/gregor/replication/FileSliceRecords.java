package io.gregor.replication;

import io.gregor.protocol.ZeroCopyRecords;
import io.gregor.storage.FetchSlice;
import io.netty.buffer.ByteBuf;
import io.netty.channel.DefaultFileRegion;
import io.netty.channel.FileRegion;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * Records read from a partition that are still in a segment file: whole batches, starting at a batch boundary.
 * Fetch answers send them through sendfile; readers that need the bytes (down-conversion, coordinator loading) copy
 * them with {@link #read} or {@link #readAll}.
 */
public final class FileSliceRecords implements ZeroCopyRecords {
    private final FetchSlice slice;

    FileSliceRecords(FetchSlice slice) {
        this.slice = slice;
    }

    public boolean isEmpty() {
        return slice.isEmpty();
    }

    /** The offset of the last record of the slice's last batch (the next read starts after it). */
    public long lastOffset() {
        return slice.lastOffset();
    }

    /** Fills {@code target} from byte {@code position} of the slice. */
    public void read(ByteBuffer target, int position) throws IOException {
        long at = slice.position() + position;
        while (target.hasRemaining()) {
            int n = slice.channel().read(target, at);
            if (n < 0) {
                throw new IOException("segment ended inside a fetch slice at byte " + (at - slice.position()));
            }
            at += n;
        }
    }

    /** The whole slice, copied into a heap buffer. */
    public ByteBuffer readAll() {
        ByteBuffer bytes = ByteBuffer.allocate(slice.size());
        try {
            read(bytes, 0);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read a slice of " + slice.size() + " bytes: " + e.getMessage(), e);
        }
        return bytes.flip();
    }

    @Override
    public int sizeInBytes() {
        return slice.size();
    }

    @Override
    public FileRegion newRegion() {
        return new SliceRegion(slice.channel(), slice.position(), slice.size());
    }

    @Override
    public void copyTo(ByteBuf target) {
        try {
            int written = target.writeBytes(slice.channel(), slice.position(), slice.size());
            if (written != slice.size()) {
                throw new IOException("short read of segment: " + written + " of " + slice.size() + " bytes");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * A region of a shared segment channel. It is a {@link DefaultFileRegion} so that the epoll transport hands it to
     * {@code sendfile(2)} (any other {@code FileRegion} is copied through a buffer by {@code FileChannel.transferTo}
     * to a non-file channel); unlike its parent it never closes the channel on release: the segment owns it (and
     * keeps it open for file.delete.delay.ms after deletion). A segment that shrank under the region is reported by
     * the transport as an I/O error on that connection.
     */
    static final class SliceRegion extends DefaultFileRegion {
        SliceRegion(FileChannel channel, long position, long count) {
            super(channel, position, count);
        }

        @Override
        protected void deallocate() {
            // The segment's channel stays open.
        }
    }
}
