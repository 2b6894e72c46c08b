package io.gregor.raft;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Test state machine: keeps every entry ever applied (its whole state) and counts calls. */
final class RecordingStateMachine implements MetadataStateMachine {

    record Applied(long index, String entry) {}

    private final List<Applied> state = new ArrayList<>();
    private final List<Applied> appliedThisProcess = new ArrayList<>();
    private int restores;
    private long restoredUpTo = -1;
    private volatile Thread applyThread;

    @Override
    public synchronized void apply(long index, byte[] entry) {
        applyThread = Thread.currentThread();
        Applied applied = new Applied(index, new String(entry, StandardCharsets.UTF_8));
        if (!state.isEmpty() && state.getLast().index() >= index) {
            throw new AssertionError("index went backwards: " + applied + " after " + state.getLast());
        }
        state.add(applied);
        appliedThisProcess.add(applied);
    }

    @Override
    public synchronized byte[] snapshot() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(state.size());
            for (Applied applied : state) {
                out.writeLong(applied.index());
                byte[] entry = applied.entry().getBytes(StandardCharsets.UTF_8);
                out.writeInt(entry.length);
                out.write(entry);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    @Override
    public synchronized void restore(byte[] snapshot) {
        restores++;
        state.clear();
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(snapshot))) {
            int count = in.readInt();
            for (int i = 0; i < count; i++) {
                long index = in.readLong();
                byte[] entry = in.readNBytes(in.readInt());
                state.add(new Applied(index, new String(entry, StandardCharsets.UTF_8)));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        restoredUpTo = state.isEmpty() ? -1 : state.getLast().index();
    }

    synchronized List<Applied> state() {
        return List.copyOf(state);
    }

    synchronized List<String> entries() {
        return state.stream().map(Applied::entry).toList();
    }

    synchronized List<Applied> appliedThisProcess() {
        return List.copyOf(appliedThisProcess);
    }

    synchronized int restores() {
        return restores;
    }

    synchronized long restoredUpTo() {
        return restoredUpTo;
    }

    Thread applyThread() {
        return applyThread;
    }
}
