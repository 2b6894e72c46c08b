package io.gregor.raft;

import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.ReentrantLock;
import org.apache.ratis.io.MD5Hash;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftGroupMemberId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.raftlog.RaftLog;
import org.apache.ratis.server.storage.FileInfo;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.statemachine.impl.SimpleStateMachineStorage;
import org.apache.ratis.statemachine.impl.SingleFileSnapshotInfo;
import org.apache.ratis.util.LifeCycle;
import org.apache.ratis.util.MD5FileUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Adapts a {@link MetadataStateMachine} to Ratis.
 *
 * <p>Thread-safety: Ratis calls {@link #applyTransaction}, {@link #takeSnapshot} and
 * {@link #reinitialize} on its single state-machine updater thread. Each call into the delegate
 * additionally holds {@link #lock}, so the delegate never sees two calls at once even if a
 * future Ratis version moved one of them to another thread.
 *
 * <p>Entries are applied synchronously inside {@code applyTransaction}: Ratis completes the
 * client reply of an entry only after the returned future completes, which is what gives
 * {@link RaftMetadataLog#append} its "applied before completion" guarantee.
 */
final class RatisStateMachine extends BaseStateMachine {

    private static final Logger LOG = LoggerFactory.getLogger(RatisStateMachine.class);

    private final MetadataStateMachine delegate;
    private final SimpleStateMachineStorage storage = new SimpleStateMachineStorage();
    private final ReentrantLock lock = new ReentrantLock();
    private final CompletableFuture<Void> firstLeaderReady = new CompletableFuture<>();
    private final LeadershipEvents events;
    private volatile RaftPeerId leaderId;

    /** Leadership as Ratis reports it, on Ratis' threads: implementations hand it off at once. */
    interface LeadershipEvents {
        void leaderChanged(RaftPeerId leader);

        void leaderReady();

        /** A configuration of the quorum (its voters and listeners) was committed and applied. */
        default void configurationChanged(org.apache.ratis.proto.RaftProtos.RaftConfigurationProto conf) {
        }
    }

    RatisStateMachine(MetadataStateMachine delegate, LeadershipEvents events) {
        this.delegate = Objects.requireNonNull(delegate, "delegate");
        this.events = Objects.requireNonNull(events, "events");
    }

    /** Completes the first time this node becomes leader and has applied every committed entry. */
    CompletableFuture<Void> firstLeaderReady() {
        return firstLeaderReady;
    }

    long lastAppliedIndex() {
        return getLastAppliedTermIndex().getIndex();
    }

    @Override
    public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage raftStorage) throws IOException {
        super.initialize(server, groupId, raftStorage);
        storage.init(raftStorage);
        getLifeCycle().startAndTransition(this::loadLatestSnapshot);
    }

    /**
     * Called before a snapshot sent by the leader is put in place (a member far behind, or new): Ratis checks that the
     * state machine then says it is paused, and calls {@link #reinitialize} once the snapshot is there.
     */
    @Override
    public void pause() {
        getLifeCycle().transition(LifeCycle.State.PAUSING);
        getLifeCycle().transition(LifeCycle.State.PAUSED);
    }

    /** Called after a snapshot was installed from a leader (multi-node only): the state becomes the snapshot's. */
    @Override
    public void reinitialize() throws IOException {
        loadLatestSnapshot();
        if (getLifeCycleState() == LifeCycle.State.PAUSED) {
            getLifeCycle().transition(LifeCycle.State.STARTING);
            getLifeCycle().transition(LifeCycle.State.RUNNING);
        }
    }

    private void loadLatestSnapshot() throws IOException {
        SingleFileSnapshotInfo info = storage.loadLatestSnapshot();
        if (info == null) {
            return;
        }
        Path path = info.getFile().getPath();
        if (info.hasMd5()) {
            MD5FileUtil.verifySavedMD5(path.toFile(), info.getFile().getFileDigest());
        }
        SnapshotFile.Contents contents = SnapshotFile.read(path);
        if (contents.term() != info.getTerm() || contents.index() != info.getIndex()) {
            throw new IOException("Metadata snapshot " + path + " holds term " + contents.term() + " index "
                    + contents.index() + ", which does not match its file name");
        }
        long startNs = System.nanoTime();
        lock.lock();
        try {
            delegate.restore(contents.payload());
            setLastAppliedTermIndex(TermIndex.valueOf(contents.term(), contents.index()));
        } finally {
            lock.unlock();
        }
        LOG.info("Restored metadata snapshot at index {} ({} bytes) in {} ms", contents.index(),
                contents.payload().length, (System.nanoTime() - startNs) / 1_000_000);
    }

    @Override
    public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
        LogEntryProto entry = trx.getLogEntry();
        byte[] data = entry.getStateMachineLogEntry().getLogData().toByteArray();
        lock.lock();
        try {
            delegate.apply(entry.getIndex(), data);
            updateLastAppliedTermIndex(entry.getTerm(), entry.getIndex());
        } catch (RuntimeException | Error e) {
            LOG.error("Metadata state machine failed to apply entry at index {}", entry.getIndex(), e);
            return CompletableFuture.failedFuture(e);
        } finally {
            lock.unlock();
        }
        return CompletableFuture.completedFuture(Message.EMPTY);
    }

    @Override
    public long takeSnapshot() throws IOException {
        TermIndex last;
        byte[] payload;
        lock.lock();
        try {
            last = getLastAppliedTermIndex();
            if (last.getIndex() < 0) {
                return RaftLog.INVALID_LOG_INDEX;
            }
            SingleFileSnapshotInfo latest = storage.getLatestSnapshot();
            if (latest != null && latest.getIndex() >= last.getIndex()) {
                return latest.getIndex();
            }
            payload = delegate.snapshot();
        } catch (RuntimeException e) {
            // An exception other than IOException would stop Ratis' apply thread and the server;
            // as an IOException Ratis logs it and retries at the next commit.
            throw new IOException("Metadata state machine failed to produce a snapshot at index "
                    + getLastAppliedTermIndex().getIndex(), e);
        } finally {
            lock.unlock();
        }
        long startNs = System.nanoTime();
        File file = storage.getSnapshotFile(last.getTerm(), last.getIndex());
        SnapshotFile.write(file.toPath(), last.getTerm(), last.getIndex(), payload);
        MD5Hash md5 = MD5FileUtil.computeAndSaveMd5ForFile(file);
        storage.updateLatestSnapshot(new SingleFileSnapshotInfo(new FileInfo(file.toPath(), md5), last));
        LOG.info("Took metadata snapshot at index {} ({} bytes) in {} ms", last.getIndex(), payload.length,
                (System.nanoTime() - startNs) / 1_000_000);
        return last.getIndex();
    }

    @Override
    public SimpleStateMachineStorage getStateMachineStorage() {
        return storage;
    }

    @Override
    public void notifyLeaderChanged(RaftGroupMemberId memberId, RaftPeerId newLeaderId) {
        RaftPeerId previous = leaderId;
        leaderId = newLeaderId;
        if (!Objects.equals(previous, newLeaderId)) {
            LOG.info("Metadata leader is now {} (was {})", newLeaderId, previous);
            events.leaderChanged(newLeaderId);
        }
    }

    @Override
    public void notifyConfigurationChanged(long term, long index,
                                           org.apache.ratis.proto.RaftProtos.RaftConfigurationProto newConf) {
        events.configurationChanged(newConf);
    }

    @Override
    public void notifyLeaderReady() {
        firstLeaderReady.complete(null);
        events.leaderReady();
    }
}
