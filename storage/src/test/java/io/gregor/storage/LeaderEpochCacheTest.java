package io.gregor.storage;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LeaderEpochCacheTest {

    @TempDir
    Path root;

    private Log log;

    @AfterEach
    void tearDown() {
        if (log != null) {
            log.close();
        }
    }

    private Log open() {
        log = Log.open(root.resolve("t-0"), LogConfig.defaults(), new MockTime(0), FailureProbe.NONE, true);
        return log;
    }

    private void append(int records, int epoch) {
        log.append(TestBatches.batch(records, 10, 1), epoch);
    }

    @Test
    void shouldRoundTripCheckpointInKafkaFormat() throws IOException {
        // Epochs assigned by appends are written as "0, count, epoch offset" lines and read back after a restart.
        open();
        append(5, 1);
        append(5, 3);
        append(2, 3);
        log.flush();
        assertThat(Files.readAllLines(log.dir().resolve("leader-epoch-checkpoint"))).containsExactly("0", "2", "1 0", "3 5");
        log.close();
        open();
        assertThat(log.latestEpoch()).isEqualTo(3);
        assertThat(log.endOffsetForEpoch(3)).isEqualTo(new EpochEndOffset(3, 12));
        assertThat(log.endOffsetForEpoch(1)).isEqualTo(new EpochEndOffset(1, 5));
    }

    @Test
    void anEpochThatStartsAtTheLogEndIsWrittenByTheNextFlush() throws IOException {
        // A new leader of an empty log costs no fsync: the entry waits in memory for the records that need it.
        open();
        Path file = log.dir().resolve("leader-epoch-checkpoint");
        log.assignEpoch(4, 0);
        assertThat(log.latestEpoch()).isEqualTo(4);
        assertThat(Files.exists(file)).as("nothing written yet").isFalse();
        append(3, 4);
        log.flush();
        assertThat(Files.readAllLines(file)).containsExactly("0", "1", "4 0");
        // An epoch that starts below the log end (a follower's truncation point) is written at once.
        log.assignEpoch(6, 1);
        assertThat(Files.readAllLines(file)).containsExactly("0", "2", "4 0", "6 1");
    }

    @Test
    void shouldAnswerOffsetForLeaderEpochLikeKafka() {
        // Unknown, earlier, between and latest epochs follow Kafka's OffsetForLeaderEpoch rules.
        open();
        log.assignEpoch(2, 0);
        append(10, 2);
        log.assignEpoch(5, 10);
        append(10, 5);
        assertThat(log.endOffsetForEpoch(1)).isEqualTo(new EpochEndOffset(1, 0));
        assertThat(log.endOffsetForEpoch(2)).isEqualTo(new EpochEndOffset(2, 10));
        assertThat(log.endOffsetForEpoch(4)).isEqualTo(new EpochEndOffset(2, 10));
        assertThat(log.endOffsetForEpoch(5)).isEqualTo(new EpochEndOffset(5, 20));
        assertThat(log.endOffsetForEpoch(6)).isEqualTo(EpochEndOffset.UNDEFINED);
        assertThat(log.endOffsetForEpoch(-1)).isEqualTo(EpochEndOffset.UNDEFINED);
    }

    @Test
    void shouldRemoveConflictingEntriesOnAssign() {
        // Assigning a lower start offset for a new epoch removes entries that start at or after it.
        open();
        log.assignEpoch(1, 0);
        log.assignEpoch(2, 10);
        log.assignEpoch(3, 20);
        log.assignEpoch(4, 15);
        assertThat(log.endOffsetForEpoch(2)).isEqualTo(new EpochEndOffset(2, 15));
        assertThat(log.endOffsetForEpoch(3)).isEqualTo(new EpochEndOffset(2, 15));
        assertThat(log.latestEpoch()).isEqualTo(4);
    }

    @Test
    void shouldIgnoreUnreadableCheckpoint() throws IOException {
        // A garbage checkpoint is ignored with a warning rather than failing the open.
        Files.createDirectories(root.resolve("t-0"));
        Files.write(root.resolve("t-0").resolve("leader-epoch-checkpoint"), List.of("7", "x"));
        open();
        assertThat(log.latestEpoch()).isEqualTo(-1);
    }
}
