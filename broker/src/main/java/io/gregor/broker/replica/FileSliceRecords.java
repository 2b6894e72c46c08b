package io.gregor.broker.replica;

import io.gregor.protocol.ZeroCopyRecords;
import io.gregor.storage.FetchSlice;
import io.netty.buffer.ByteBuf;
import io.netty.channel.DefaultFileRegion;
import io.netty.channel.FileRegion;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;

/** Fetch response records that are still in a segment file; they leave through sendfile. */
public final class FileSliceRecords implements ZeroCopyRecords {
    private final FetchSlice slice;

    public FileSliceRecords(FetchSlice slice) {
        this.slice = slice;
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
