package io.gregor.raft;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.RaftConfigKeys;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.netty.NettyConfigKeys;
import org.apache.ratis.rpc.SupportedRpcType;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.util.SizeInBytes;
import org.apache.ratis.util.TimeDuration;

/**
 * The Ratis properties of the metadata log, in one place. Every value that differs from the Ratis
 * default says why.
 */
final class RatisProperties {

    /**
     * Closed segments are purged once a snapshot covers them, but Ratis reads every entry of the
     * remaining segments at start; small segments keep that read short (about 1,700 entries of
     * 150 bytes, some 50 ms on a cold JVM, against Ratis' 32 MB default). Entries larger than a segment still fit: the
     * segment is rolled before them.
     */
    static final SizeInBytes SEGMENT_SIZE_MAX = SizeInBytes.valueOf("256KB");

    /** Zero-filled on segment creation; Ratis' 4 MB default costs a few ms at start for nothing. */
    static final SizeInBytes PREALLOCATED_SIZE = SizeInBytes.valueOf("64KB");

    /**
     * A single-peer group elects itself without any vote, so the only wait before leadership is
     * the first election timeout. Ratis' default (the 150-300 ms RPC timeout) would dominate the
     * start-up time. A quorum of several voters uses the election timeout of its settings instead.
     */
    static final TimeDuration FIRST_ELECTION_TIMEOUT_MIN = TimeDuration.valueOf(1, TimeUnit.MILLISECONDS);

    static final TimeDuration FIRST_ELECTION_TIMEOUT_MAX = TimeDuration.valueOf(5, TimeUnit.MILLISECONDS);

    /** Snapshot files kept; older ones (and their .md5) are deleted after each snapshot. */
    static final int SNAPSHOTS_RETAINED = 2;

    /** Pending appends accepted before Ratis pushes back with ResourceUnavailableException. */
    static final int PENDING_APPENDS_MAX = 16_384;

    private RatisProperties() {}

    static RaftProperties of(RaftSettings settings, Path storageDir) {
        RaftProperties properties = new RaftProperties();
        RaftConfigKeys.Rpc.setType(properties, SupportedRpcType.NETTY);
        RaftServerConfigKeys.setStorageDir(properties, List.of(storageDir.toFile()));

        NettyConfigKeys.Server.setHost(properties, settings.host());
        NettyConfigKeys.Server.setPort(properties, settings.port());
        // Metadata traffic is tiny; NIO avoids extracting a second native epoll library (Ratis'
        // shaded one) next to the broker's io.netty one at every start.
        NettyConfigKeys.Server.setUseEpoll(properties, false);
        NettyConfigKeys.Client.setUseEpoll(properties, false);

        if (settings.multiVoter()) {
            // A follower that hears nothing from the leader for between one and two election timeouts (randomised,
            // so that two followers rarely stand at once) starts a pre-vote; a leader that has heard from no majority
            // for twice the timeout steps down, so that a leader cut off from the others stops accepting writes.
            long ms = settings.electionTimeout().toMillis();
            RaftServerConfigKeys.Rpc.setTimeoutMin(properties, TimeDuration.valueOf(ms, TimeUnit.MILLISECONDS));
            RaftServerConfigKeys.Rpc.setTimeoutMax(properties, TimeDuration.valueOf(2 * ms, TimeUnit.MILLISECONDS));
            RaftServerConfigKeys.Rpc.setRequestTimeout(properties, TimeDuration.valueOf(3 * ms, TimeUnit.MILLISECONDS));
            RaftServerConfigKeys.LeaderElection.setPreVote(properties, true);
            RaftServerConfigKeys.LeaderElection.setLeaderStepDownWaitTime(properties,
                    TimeDuration.valueOf(2 * ms, TimeUnit.MILLISECONDS));
        } else {
            RaftServerConfigKeys.Rpc.setFirstElectionTimeoutMin(properties, FIRST_ELECTION_TIMEOUT_MIN);
            RaftServerConfigKeys.Rpc.setFirstElectionTimeoutMax(properties, FIRST_ELECTION_TIMEOUT_MAX);
        }

        // Durability: an entry commits only after the leader's log is fsynced (Ratis computes
        // the commit index from the flush index); state explicitly what we rely on.
        RaftServerConfigKeys.Log.setUnsafeFlushEnabled(properties, false);
        RaftServerConfigKeys.Log.setAsyncFlushEnabled(properties, false);
        RaftServerConfigKeys.Log.setSegmentSizeMax(properties, SEGMENT_SIZE_MAX);
        RaftServerConfigKeys.Log.setPreallocatedSize(properties, PREALLOCATED_SIZE);
        RaftServerConfigKeys.Log.setPurgeUptoSnapshotIndex(properties, true);
        RaftServerConfigKeys.Log.setPurgeGap(properties, 1);

        RaftServerConfigKeys.Snapshot.setAutoTriggerEnabled(properties, true);
        RaftServerConfigKeys.Snapshot.setAutoTriggerThreshold(properties, settings.snapshotEveryEntries());
        RaftServerConfigKeys.Snapshot.setRetentionFileNum(properties, SNAPSHOTS_RETAINED);
        // Not Ratis' snapshot-at-stop: Ratis 3.3 retries a failing snapshot at stop forever (a
        // busy loop that blocks close). RaftMetadataLog.close() asks for one before stopping.
        RaftServerConfigKeys.Snapshot.setTriggerWhenStopEnabled(properties, false);

        RaftServerConfigKeys.Write.setElementLimit(properties, PENDING_APPENDS_MAX);
        return properties;
    }
}
