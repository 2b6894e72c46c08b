package io.gregor.storage;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Owns one log directory ({@code log.dirs} entry).
 *
 * <pre>
 *  logDir/
 *    .lock                          held with an OS file lock while open
 *    .gregor_clean_shutdown         present only between a clean close and the next open
 *    &lt;topic&gt;-&lt;partition&gt;/          one {@link Log} per partition
 *    &lt;topic&gt;-&lt;partition&gt;.&lt;hex&gt;-delete/   a deleted partition awaiting removal
 * </pre>
 *
 * Thread-safety: thread-safe; {@code getOrCreate} and {@code delete} are synchronized.
 */
public final class LogManager implements AutoCloseable {

    static final String CLEAN_SHUTDOWN_FILE = ".gregor_clean_shutdown";
    static final String LOCK_FILE = ".lock";
    static final String DELETE_SUFFIX = "-delete";
    private static final Pattern PARTITION_DIR = Pattern.compile(".+-\\d+");
    private static final Logger LOG = LoggerFactory.getLogger(LogManager.class);

    private final Path logDir;
    private final Time time;
    private final FailureProbe probe;
    private final boolean hadCleanShutdown;
    private final FileChannel lockChannel;
    private final FileLock lock;
    private final ConcurrentHashMap<String, Log> logs = new ConcurrentHashMap<>();
    private final ScheduledExecutorService deleter;
    private final List<Runnable> pendingDeletes = new ArrayList<>();
    private volatile long producerIdExpirationMs = 86_400_000L;
    private boolean closed;

    /**
     * Locks {@code logDir} (creating it), notes and removes the clean-shutdown marker, and removes
     * leftover deleted partition directories. Logs are opened lazily by {@link #getOrCreate}.
     *
     * @throws KafkaStorageException when the directory is unusable or locked by another process
     */
    public LogManager(Path logDir, Time time, FailureProbe probe) {
        this.logDir = logDir;
        this.time = time;
        this.probe = probe;
        try {
            Files.createDirectories(logDir);
            lockChannel = FileChannel.open(logDir.resolve(LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            lock = tryLock(lockChannel);
            Path marker = logDir.resolve(CLEAN_SHUTDOWN_FILE);
            hadCleanShutdown = Files.exists(marker);
            if (hadCleanShutdown) {
                Files.delete(marker);
                CheckpointFile.fsyncDirectory(logDir);
            } else {
                LOG.info("{}: no clean shutdown marker; logs will recover their tails", logDir);
            }
            removeLeftoverDeletedDirs();
        } catch (IOException e) {
            throw new KafkaStorageException("Cannot use log directory " + logDir + ": " + e.getMessage(), e);
        }
        deleter = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "gregor-log-deleter");
            thread.setDaemon(true);
            return thread;
        });
    }

    private FileLock tryLock(FileChannel channel) throws IOException {
        FileLock acquired;
        try {
            acquired = channel.tryLock();
        } catch (OverlappingFileLockException e) {
            acquired = null;
        }
        if (acquired == null) {
            channel.close();
            throw new KafkaStorageException("Log directory " + logDir + " is locked by another process");
        }
        return acquired;
    }

    private void removeLeftoverDeletedDirs() throws IOException {
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(logDir)) {
            for (Path entry : entries) {
                if (Files.isDirectory(entry) && entry.getFileName().toString().endsWith(DELETE_SUFFIX)) {
                    LOG.info("{}: removing deleted partition directory {}", logDir, entry.getFileName());
                    LogFiles.deleteRecursively(entry);
                }
            }
        }
    }

    public boolean hadCleanShutdown() {
        return hadCleanShutdown;
    }

    public Path logDir() {
        return logDir;
    }

    /** Opens the partition's log, creating its directory if absent. */
    public synchronized Log getOrCreate(String topic, int partition, LogConfig config) {
        ensureOpen();
        String name = dirName(topic, partition);
        Log log = logs.get(name);
        if (log == null) {
            log = Log.open(logDir.resolve(name), config, time, probe, hadCleanShutdown);
            logs.put(name, log);
        }
        return log;
    }

    /** The open log, or null. */
    public Log get(String topic, int partition) {
        return logs.get(dirName(topic, partition));
    }

    public Collection<Log> logs() {
        return List.copyOf(logs.values());
    }

    /** Names of the partition directories on disk ({@code <topic>-<partition>}), open or not. */
    public Set<String> existingPartitionDirs() {
        Set<String> names = new TreeSet<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(logDir)) {
            for (Path entry : entries) {
                String name = entry.getFileName().toString();
                if (Files.isDirectory(entry) && PARTITION_DIR.matcher(name).matches() && !name.endsWith(DELETE_SUFFIX)) {
                    names.add(name);
                }
            }
        } catch (IOException e) {
            throw new KafkaStorageException("Cannot list " + logDir + ": " + e.getMessage(), e);
        }
        return names;
    }

    /**
     * Removes the partition: renames its directory to {@code <topic>-<partition>.<hex>-delete},
     * then after {@code file.delete.delay.ms} closes its files and removes the directory. Open
     * fetch slices stay readable meanwhile.
     */
    public synchronized void delete(String topic, int partition) {
        ensureOpen();
        String name = dirName(topic, partition);
        Log log = logs.remove(name);
        Path source = logDir.resolve(name);
        if (log == null && !Files.isDirectory(source)) {
            return;
        }
        if (log != null) {
            log.markDeleted();
        }
        Path target = logDir.resolve(name + "." + Long.toHexString(ThreadLocalRandom.current().nextLong()) + DELETE_SUFFIX);
        try {
            Files.move(source, target);
            CheckpointFile.fsyncDirectory(logDir);
        } catch (IOException e) {
            throw new KafkaStorageException("Cannot delete " + source + ": " + e.getMessage(), e);
        }
        long delayMs = log == null ? 0 : log.config().fileDeleteDelayMs();
        Runnable removal = () -> {
            if (log != null) {
                log.releaseHandles();
            }
            LogFiles.deleteRecursively(target);
        };
        pendingDeletes.add(removal);
        deleter.schedule(() -> runDelete(removal), delayMs, TimeUnit.MILLISECONDS);
        LOG.info("{}: deleted partition {} (files removed in {} ms)", logDir, name, delayMs);
    }

    private void runDelete(Runnable removal) {
        synchronized (this) {
            if (!pendingDeletes.remove(removal)) {
                return;
            }
        }
        try {
            removal.run();
        } catch (RuntimeException e) {
            LOG.warn("{}: failed to remove a deleted partition: {}", logDir, e.toString());
        }
    }

    /** {@code producer.id.expiration.ms}: how long a partition keeps the state of a producer that stopped writing. */
    public void producerIdExpirationMs(long value) {
        if (value < 1) {
            throw new IllegalArgumentException("Invalid value " + value + " for producer.id.expiration.ms");
        }
        producerIdExpirationMs = value;
    }

    /**
     * Applies retention, time-based rolling and producer id expiration to every log; errors are logged per log.
     */
    public void runRetention() {
        for (Log log : logs.values()) {
            try {
                log.applyRetention();
                log.maybeRoll();
                log.expireProducers(producerIdExpirationMs);
            } catch (StorageException e) {
                LOG.warn("{}: retention failed: {}", log.dir(), e.toString());
            }
        }
    }

    /**
     * One round of the log cleaner: the compacted logs that need it, dirtiest first, each cleaned once. Returns how
     * many were cleaned; errors are logged per log (a log that cannot be cleaned does not stop the others).
     */
    public int runCleaner(LogCleaner cleaner) {
        // Each log's ratio once (the sort would ask for it many times).
        Map<Log, Double> ratios = new java.util.HashMap<>();
        for (Log log : logs.values()) {
            if (log.config().compaction().compact()) {
                ratios.put(log, LogCleaner.dirtyRatio(log));
            }
        }
        List<Log> candidates = new ArrayList<>(ratios.keySet());
        candidates.sort(java.util.Comparator.comparingDouble(ratios::get).reversed());
        int cleaned = 0;
        for (Log log : candidates) {
            try {
                if (cleaner.maybeClean(log) != null) {
                    cleaned++;
                }
            } catch (RuntimeException e) {
                LOG.warn("{}: cleaning failed: {}", log.dir(), e.toString());
            }
        }
        return cleaned;
    }

    /** Closes every log, then writes the clean-shutdown marker (fsynced with its directory). */
    @Override
    public void close() {
        List<Runnable> deletes;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            deletes = new ArrayList<>(pendingDeletes);
            pendingDeletes.clear();
        }
        deleter.shutdownNow();
        deletes.forEach(Runnable::run);
        boolean allClosed = true;
        for (Log log : logs.values()) {
            try {
                log.close();
            } catch (StorageException e) {
                allClosed = false;
                LOG.error("{}: close failed", log.dir(), e);
            }
        }
        logs.clear();
        try {
            if (allClosed) {
                writeCleanShutdownMarker();
            }
            lock.release();
            lockChannel.close();
        } catch (IOException e) {
            throw new KafkaStorageException("Failed to close " + logDir + ": " + e.getMessage(), e);
        }
    }

    private void writeCleanShutdownMarker() throws IOException {
        try (FileChannel marker = FileChannel.open(logDir.resolve(CLEAN_SHUTDOWN_FILE),
                StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            marker.force(true);
        }
        CheckpointFile.fsyncDirectory(logDir);
    }

    private void ensureOpen() {
        if (closed) {
            throw new KafkaStorageException("Log manager for " + logDir + " is closed");
        }
    }

    static String dirName(String topic, int partition) {
        return topic + "-" + partition;
    }
}
