package io.gregor.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The server.properties of a Kafka 4.x KRaft combined-mode node (process.roles=broker,controller) as the cluster tests
 * write it: replication factor 3, min.insync.replicas 2, and a broker session of 3 s instead of Kafka's 9 s so that
 * the tests wait less for the fencing of a killed node.
 */
final class KraftNodeConfig {
    private KraftNodeConfig() {
    }

    /** {@code id@host:port,...} for the controller endpoints given in node-id order from 1. */
    static String voters(List<String> controllerEndpoints) {
        List<String> voters = new ArrayList<>();
        for (int i = 0; i < controllerEndpoints.size(); i++) {
            voters.add((i + 1) + "@" + controllerEndpoints.get(i));
        }
        return String.join(",", voters);
    }

    /** A node with one PLAINTEXT client listener on 127.0.0.1:{@code port} and its CONTROLLER listener. */
    static Path writePlain(Path file, int id, String voters, int port, int controllerPort, Path logDir, String... extra)
            throws IOException {
        return write(file, id, voters, "PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort,
                "PLAINTEXT://127.0.0.1:" + port, "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT", "PLAINTEXT", logDir, extra);
    }

    /** A node with the listeners given; {@code extra} are further {@code key=value} lines. */
    static Path write(Path file, int id, String voters, String listeners, String advertised, String protocolMap,
                      String interBrokerListener, Path logDir, String... extra) throws IOException {
        List<String> lines = new ArrayList<>(List.of(
                "process.roles=broker,controller",
                "node.id=" + id,
                "controller.quorum.voters=" + voters,
                "listeners=" + listeners,
                "advertised.listeners=" + advertised,
                "controller.listener.names=CONTROLLER",
                "inter.broker.listener.name=" + interBrokerListener,
                "listener.security.protocol.map=" + protocolMap,
                "log.dirs=" + logDir,
                "default.replication.factor=3",
                "min.insync.replicas=2",
                "offsets.topic.replication.factor=3",
                "broker.session.timeout.ms=3000",
                "broker.heartbeat.interval.ms=500"));
        lines.addAll(List.of(extra));
        lines.add("");
        Files.writeString(file, String.join("\n", lines), StandardCharsets.UTF_8);
        return file;
    }
}
