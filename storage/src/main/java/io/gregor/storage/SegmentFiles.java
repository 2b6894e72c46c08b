package io.gregor.storage;

import java.nio.file.Path;

/**
 * Segment file naming: {@code <20-digit zero-padded base offset>.<suffix>}, for example
 * {@code 00000000000000000000.log}, {@code .index} and {@code .timeindex}. A deleted segment's
 * files get an extra {@code .deleted} suffix until they are unlinked.
 */
final class SegmentFiles {

    static final String LOG_SUFFIX = ".log";
    static final String INDEX_SUFFIX = ".index";
    static final String TIME_INDEX_SUFFIX = ".timeindex";
    static final String DELETED_SUFFIX = ".deleted";
    /** A cleaned segment being written: {@code <base>.log.cleaned}; deleted at load (the cleaning did not finish). */
    static final String CLEANED_SUFFIX = ".log.cleaned";
    /**
     * A cleaned segment ready to replace segments {@code base..lastBase}: {@code <base>.log.<lastBase>.swap}. Its
     * existence is the commit point of a cleaning: at load it replaces those segments.
     */
    static final String SWAP_SUFFIX = ".swap";

    private SegmentFiles() {}

    static String name(long baseOffset) {
        return String.format("%020d", baseOffset);
    }

    static Path logFile(Path dir, long baseOffset) {
        return dir.resolve(name(baseOffset) + LOG_SUFFIX);
    }

    static Path indexFile(Path dir, long baseOffset) {
        return dir.resolve(name(baseOffset) + INDEX_SUFFIX);
    }

    static Path timeIndexFile(Path dir, long baseOffset) {
        return dir.resolve(name(baseOffset) + TIME_INDEX_SUFFIX);
    }

    static Path cleanedFile(Path dir, long baseOffset) {
        return dir.resolve(name(baseOffset) + CLEANED_SUFFIX);
    }

    static Path swapFile(Path dir, long baseOffset, long lastBaseOffset) {
        return dir.resolve(name(baseOffset) + LOG_SUFFIX + "." + name(lastBaseOffset) + SWAP_SUFFIX);
    }

    /** {base, lastBase} of a swap file name, or null when the name is not one. */
    static long[] swapRange(String fileName) {
        int expected = 20 + LOG_SUFFIX.length() + 1 + 20 + SWAP_SUFFIX.length();
        if (!fileName.endsWith(SWAP_SUFFIX) || fileName.length() != expected) {
            return null;
        }
        try {
            return new long[] {Long.parseLong(fileName.substring(0, 20)),
                    Long.parseLong(fileName.substring(20 + LOG_SUFFIX.length() + 1, 20 + LOG_SUFFIX.length() + 21))};
        } catch (NumberFormatException e) {
            return null;
        }
    }

    static Path deleted(Path file) {
        return file.resolveSibling(file.getFileName() + DELETED_SUFFIX);
    }

    /** The base offset of a {@code .log} file name, or -1 when the name is not a segment file. */
    static long baseOffsetOf(String fileName) {
        if (!fileName.endsWith(LOG_SUFFIX) || fileName.length() != 20 + LOG_SUFFIX.length()) {
            return -1;
        }
        try {
            return Long.parseLong(fileName.substring(0, 20));
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
