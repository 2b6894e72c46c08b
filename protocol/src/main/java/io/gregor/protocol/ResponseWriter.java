package io.gregor.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.stream.ChunkedInput;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.ResponseHeaderData;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.ObjectSerializationCache;
import org.apache.kafka.common.protocol.Writable;
import org.apache.kafka.common.record.BaseRecords;
import org.apache.kafka.common.record.MemoryRecords;

/**
 * Encodes a response (length prefix, header, body) into parts for the channel: {@link ByteBuf}s for everything the
 * codec writes and a {@link io.netty.channel.FileRegion} for each {@link ZeroCopyRecords}, in wire order.
 *
 * <p>Not thread-safe: one writer per response.
 */
public final class ResponseWriter implements Writable {
    private final ByteBufAllocator allocator;
    private final boolean zeroCopy;
    private final List<Object> parts = new ArrayList<>();
    private ByteBuf current;

    private ResponseWriter(ByteBufAllocator allocator, boolean zeroCopy, int initialCapacity) {
        this.allocator = allocator;
        this.zeroCopy = zeroCopy;
        this.current = allocator.buffer(initialCapacity);
    }

    /**
     * Encodes a response. The returned parts own their buffers and regions: write them to the channel (which releases
     * them) or release them.
     *
     * @param zeroCopy when false, zero-copy records are copied into the buffer (TLS)
     */
    public static List<Object> encode(ByteBufAllocator allocator, int correlationId, short headerVersion,
                                      ApiMessage body, short version, boolean zeroCopy) {
        ObjectSerializationCache cache = new ObjectSerializationCache();
        ResponseHeaderData header = new ResponseHeaderData().setCorrelationId(correlationId);
        int headerSize = header.size(cache, headerVersion);
        var accumulator = new org.apache.kafka.common.protocol.MessageSizeAccumulator();
        body.addSize(accumulator, cache, version);
        int total = headerSize + accumulator.totalSize();
        ResponseWriter writer = new ResponseWriter(allocator, zeroCopy, 4 + headerSize + accumulator.sizeExcludingZeroCopy());
        try {
            writer.writeInt(total);
            header.write(writer, cache, headerVersion);
            body.write(writer, cache, version);
            return writer.finish();
        } catch (RuntimeException e) {
            writer.releaseAll();
            throw e;
        }
    }

    /**
     * Encodes a response whose body is already written (a legacy version, see
     * {@link io.gregor.protocol.legacy.LegacyCodec#writeResponse}): {@link ByteBuffer}s and {@link ChunkedInput}s,
     * the latter to be written through a {@code ChunkedWriteHandler}.
     */
    public static List<Object> encode(ByteBufAllocator allocator, int correlationId, short headerVersion, List<Object> body) {
        ObjectSerializationCache cache = new ObjectSerializationCache();
        ResponseHeaderData header = new ResponseHeaderData().setCorrelationId(correlationId);
        int headerSize = header.size(cache, headerVersion);
        long bodySize = 0;
        for (Object part : body) {
            bodySize += part instanceof ByteBuffer bytes ? bytes.remaining() : ((ChunkedInput<?>) part).length();
        }
        ResponseWriter writer = new ResponseWriter(allocator, false, 4 + headerSize);
        try {
            writer.writeInt(Math.toIntExact(headerSize + bodySize));
            header.write(writer, cache, headerVersion);
            List<Object> parts = writer.finish();
            for (Object part : body) {
                // The body is ours alone: sent without a copy; chunked inputs are written by a ChunkedWriteHandler.
                parts.add(part instanceof ByteBuffer bytes ? io.netty.buffer.Unpooled.wrappedBuffer(bytes) : part);
            }
            return parts;
        } catch (RuntimeException e) {
            writer.releaseAll();
            throw e;
        }
    }

    private List<Object> finish() {
        if (current.isReadable()) {
            parts.add(current);
        } else {
            current.release();
        }
        current = null;
        return parts;
    }

    private void releaseAll() {
        for (Object part : parts) {
            io.netty.util.ReferenceCountUtil.release(part);
        }
        if (current != null) {
            current.release();
        }
    }

    @Override
    public void writeRecords(BaseRecords records) {
        if (records instanceof ZeroCopyRecords zc) {
            if (zeroCopy) {
                parts.add(current);
                parts.add(zc.newRegion());
                current = allocator.buffer(256);
            } else {
                zc.copyTo(current);
            }
        } else if (records instanceof MemoryRecords memory) {
            writeByteBuffer(memory.buffer());
        } else if (records != null) {
            throw new IllegalArgumentException("cannot write records of type " + records.getClass().getName());
        }
    }

    @Override
    public void writeByte(byte val) {
        current.writeByte(val);
    }

    @Override
    public void writeShort(short val) {
        current.writeShort(val);
    }

    @Override
    public void writeInt(int val) {
        current.writeInt(val);
    }

    @Override
    public void writeLong(long val) {
        current.writeLong(val);
    }

    @Override
    public void writeDouble(double val) {
        current.writeDouble(val);
    }

    @Override
    public void writeByteArray(byte[] arr) {
        current.writeBytes(arr);
    }

    @Override
    public void writeUnsignedVarint(int i) {
        int value = i;
        while ((value & 0xffffff80) != 0) {
            current.writeByte((value & 0x7f) | 0x80);
            value >>>= 7;
        }
        current.writeByte(value);
    }

    @Override
    public void writeByteBuffer(ByteBuffer buf) {
        current.writeBytes(buf.duplicate());
    }

    @Override
    public void writeVarint(int i) {
        writeUnsignedVarint((i << 1) ^ (i >> 31));
    }

    @Override
    public void writeVarlong(long i) {
        long value = (i << 1) ^ (i >> 63);
        while ((value & 0xffffffffffffff80L) != 0L) {
            current.writeByte(((int) value & 0x7f) | 0x80);
            value >>>= 7;
        }
        current.writeByte((int) value);
    }

    @Override
    public void writeUuid(Uuid uuid) {
        current.writeLong(uuid.getMostSignificantBits());
        current.writeLong(uuid.getLeastSignificantBits());
    }
}
