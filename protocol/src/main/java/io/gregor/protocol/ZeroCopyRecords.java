package io.gregor.protocol;

import io.netty.channel.FileRegion;
import org.apache.kafka.common.record.BaseRecords;
import org.apache.kafka.common.record.RecordsSend;

/**
 * Records that stay in a file and go out with sendfile: set as the records of a fetch response partition, they are
 * written by {@link ResponseWriter} as a {@link FileRegion} instead of being copied into the response buffer.
 */
public interface ZeroCopyRecords extends BaseRecords {

    /** A new region over the same bytes; each call gives the caller one reference to release. */
    FileRegion newRegion();

    /** Copies the bytes into {@code target} (used when zero-copy is not possible, e.g. under TLS). */
    void copyTo(io.netty.buffer.ByteBuf target);

    @Override
    default RecordsSend<? extends BaseRecords> toSend() {
        throw new UnsupportedOperationException("zero-copy records are written by ResponseWriter");
    }
}
