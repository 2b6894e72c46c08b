package io.gregor.protocol.legacy;

import io.gregor.legacy.kafka.common.protocol.Writable;
import io.gregor.legacy.kafka.common.record.BaseRecords;
import io.gregor.legacy.kafka.common.record.MemoryRecords;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.utils.ByteUtils;

/**
 * Writes a legacy message (kafka-clients 3.9.1 classes) as a list of parts: the fields go into growing buffers,
 * and every record set is a part of its own, the record set's own buffer or, for records converted while they are
 * written, the {@link DownConvertedRecords} itself, so that converted fetch records are never copied into the
 * response. Not thread-safe: one writer per message.
 */
final class PartsWriter implements Writable {
    private final List<Object> parts = new ArrayList<>();
    private ByteBuffer current = ByteBuffer.allocate(256);

    List<Object> finish() {
        closeCurrent();
        return parts;
    }

    private void closeCurrent() {
        if (current.position() > 0) {
            parts.add(current.flip());
        }
        current = ByteBuffer.allocate(256);
    }

    private ByteBuffer room(int bytes) {
        if (current.remaining() < bytes) {
            ByteBuffer bigger = ByteBuffer.allocate(Math.max(current.capacity() * 2, current.position() + bytes));
            bigger.put(current.flip());
            current = bigger;
        }
        return current;
    }

    @Override
    public void writeRecords(BaseRecords records) {
        if (records instanceof MemoryRecords memory) {
            closeCurrent();
            parts.add(memory.buffer().duplicate());
        } else if (records instanceof LazyPart lazy) {
            closeCurrent();
            parts.add(lazy.records());
        } else if (records != null) {
            throw new IllegalArgumentException("cannot write records of type " + records.getClass().getName());
        }
    }

    /** Stands for {@link DownConvertedRecords} in a 3.9.1 response: their size, written by {@link PartsWriter}. */
    record LazyPart(DownConvertedRecords records) implements BaseRecords {
        @Override
        public int sizeInBytes() {
            return records.sizeInBytes();
        }

        @Override
        public io.gregor.legacy.kafka.common.record.RecordsSend<? extends BaseRecords> toSend() {
            throw new UnsupportedOperationException("written by PartsWriter");
        }
    }

    @Override
    public void writeByte(byte val) {
        room(1).put(val);
    }

    @Override
    public void writeShort(short val) {
        room(2).putShort(val);
    }

    @Override
    public void writeInt(int val) {
        room(4).putInt(val);
    }

    @Override
    public void writeLong(long val) {
        room(8).putLong(val);
    }

    @Override
    public void writeDouble(double val) {
        room(8).putDouble(val);
    }

    @Override
    public void writeByteArray(byte[] arr) {
        room(arr.length).put(arr);
    }

    @Override
    public void writeUnsignedVarint(int i) {
        ByteUtils.writeUnsignedVarint(i, room(5));
    }

    @Override
    public void writeByteBuffer(ByteBuffer buf) {
        room(buf.remaining()).put(buf.duplicate());
    }

    @Override
    public void writeVarint(int i) {
        ByteUtils.writeVarint(i, room(5));
    }

    @Override
    public void writeVarlong(long i) {
        ByteUtils.writeVarlong(i, room(10));
    }
}
