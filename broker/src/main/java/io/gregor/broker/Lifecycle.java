package io.gregor.broker;

import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The started components of a node, in start order; {@link #stop()} stops them in reverse order, each once, and a
 * component that fails to stop does not keep the others running.
 */
final class Lifecycle {
    private static final Logger log = LoggerFactory.getLogger(Lifecycle.class);

    private record Component(String name, AutoCloseable stop) {
    }

    private final List<Component> started = new ArrayList<>();

    /** Records that {@code component} is running; it is stopped with {@code stop} when the node stops. */
    synchronized <T> T started(String name, T component, AutoCloseable stop) {
        started.add(new Component(name, stop));
        return component;
    }

    synchronized <T extends AutoCloseable> T started(String name, T component) {
        return started(name, component, component);
    }

    /** Stops the component named {@code name} now, ahead of the reverse order, if it was started. */
    synchronized void stopFirst(String name) {
        for (int i = 0; i < started.size(); i++) {
            if (started.get(i).name().equals(name)) {
                stop(started.remove(i));
                return;
            }
        }
    }

    synchronized void stop() {
        for (int i = started.size() - 1; i >= 0; i--) {
            stop(started.get(i));
        }
        started.clear();
    }

    private static void stop(Component c) {
        long startNs = System.nanoTime();
        try {
            c.stop().close();
        } catch (Exception e) {
            log.warn("Error while stopping {}", c.name(), e);
        }
        log.debug("Stopped {} in {} ms", c.name(), (System.nanoTime() - startNs) / 1_000_000);
    }
}
