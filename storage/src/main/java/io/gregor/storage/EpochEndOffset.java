package io.gregor.storage;

/** Answer to OffsetForLeaderEpoch: the epoch found and its end offset; -1/-1 when unknown. */
public record EpochEndOffset(int epoch, long endOffset) {

    /** The answer when the requested epoch is unknown. */
    public static final EpochEndOffset UNDEFINED = new EpochEndOffset(-1, -1L);
}
