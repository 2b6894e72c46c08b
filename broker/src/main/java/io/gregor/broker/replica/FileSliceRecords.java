package io.gregor.broker.replica;

import io.gregor.protocol.ZeroCopyRecords;
import io.gregor.storage.FetchSlice;
import io.netty.buffer.ByteBuf;
import io.netty.channel.FileRegion;
import io.netty.util.AbstractReferenceCounted;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;

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
     * A region of a shared segment channel. Unlike {@code DefaultFileRegion} it never closes the channel on release:
     * the segment owns it (and keeps it open for file.delete.delay.ms after deletion).
     */
    static final class SliceRegion extends AbstractReferenceCounted implements FileRegion {
        private final FileChannel channel;
        private final long position;
        private final long count;
        private long transferred;

        SliceRegion(FileChannel channel, long position, long count) {
            this.channel = channel;
            this.position = position;
            this.count = count;
        }

        @Override
        public long position() {
            return position;
        }

        @Override
        @Deprecated
        public long transfered() {
            return transferred;
        }

        @Override
        public long transferred() {
            return transferred;
        }

        @Override
        public long count() {
            return count;
        }

        @Override
        public long transferTo(WritableByteChannel target, long alreadyTransferred) throws IOException {
            long remaining = count - alreadyTransferred;
            if (remaining <= 0) {
                return 0;
            }
            long written = channel.transferTo(position + alreadyTransferred, remaining, target);
            if (written > 0) {
                transferred += written;
            } else if (written == 0 && channel.size() < position + count) {
                throw new IOException("segment shrank below the fetched region (" + channel.size() + " < "
                        + (position + count) + ")");
            }
            return written;
        }

        @Override
        public FileRegion retain() {
            super.retain();
            return this;
        }

        @Override
        public FileRegion retain(int increment) {
            super.retain(increment);
            return this;
        }

        @Override
        public FileRegion touch() {
            return this;
        }

        @Override
        public FileRegion touch(Object hint) {
            return this;
        }

        @Override
        protected void deallocate() {
            // The channel belongs to the segment.
        }
    }
}
