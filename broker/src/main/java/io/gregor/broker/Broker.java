package io.gregor.broker;

import io.gregor.broker.config.BrokerConfig;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/** One Gregor node: storage, metadata, network. Work in progress: this placeholder only fixes the API. */
public final class Broker implements AutoCloseable {
    private final BrokerConfig config;
    private final CountDownLatch stopped = new CountDownLatch(1);

    public Broker(BrokerConfig config) {
        this.config = config;
    }

    /** Loads the data directory, starts the metadata log and binds the listeners. */
    public void start() throws java.io.IOException {
        throw new UnsupportedOperationException("not yet");
    }

    public BrokerConfig config() {
        return config;
    }

    /** The addresses actually bound, one per listener, in listener order (port 0 resolved). */
    public List<InetSocketAddress> boundAddresses() {
        return List.of();
    }

    /** The bound port of the first listener. */
    public int boundPort() {
        return boundAddresses().get(0).getPort();
    }

    public void awaitShutdown() throws InterruptedException {
        stopped.await();
    }

    @Override
    public void close() {
        stopped.countDown();
    }
}
