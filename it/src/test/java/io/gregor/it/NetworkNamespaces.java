package io.gregor.it;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Network namespaces for partition tests (needs root and iproute2): each node gets its own namespace with two
 * interfaces, one on a "node" bridge (the nodes' traffic: replication and the metadata quorum) and one on a "client"
 * bridge (the test's clients, which stay in the test's namespace and reach every node on the client network). Cutting
 * a node takes its link to the node bridge down: it can no longer reach the other nodes, while clients can still
 * reach it. Only addresses inside the namespaces created here are used.
 */
final class NetworkNamespaces implements AutoCloseable {
    private final String prefix;
    private final int subnet;
    private final int nodes;
    private final List<String> created = new ArrayList<>();
    private final List<String> bridges = new ArrayList<>();

    private NetworkNamespaces(String prefix, int subnet, int nodes) {
        this.prefix = prefix;
        this.subnet = subnet;
        this.nodes = nodes;
    }

    /** Whether this process may create network namespaces (root with iproute2); why not otherwise. */
    static String unavailableReason() {
        String probe = "gregor-probe-" + ProcessHandle.current().pid();
        try {
            Subprocess.Result added = Subprocess.run(List.of("ip", "netns", "add", probe), null, 10);
            if (added.exitCode() != 0) {
                return "`ip netns add` is not permitted here (" + added.stderr().strip() + "); run as root";
            }
            Subprocess.run(List.of("ip", "netns", "delete", probe), null, 10);
            return null;
        } catch (IOException e) {
            return "no `ip` command (iproute2): " + e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    /** Creates {@code nodes} namespaces joined by the two bridges. */
    static NetworkNamespaces create(int nodes) throws IOException, InterruptedException {
        String prefix = "gp" + Integer.toString(ThreadLocalRandom.current().nextInt(36 * 36 * 36), 36);
        int subnet = 100 + ThreadLocalRandom.current().nextInt(100);
        NetworkNamespaces net = new NetworkNamespaces(prefix, subnet, nodes);
        try {
            net.setUp();
        } catch (IOException | RuntimeException e) {
            net.close();
            throw e;
        }
        return net;
    }

    private void setUp() throws IOException, InterruptedException {
        for (String kind : List.of("n", "c")) {
            String bridge = prefix + kind;
            ip("link", "add", bridge, "type", "bridge");
            bridges.add(bridge);
            ip("link", "set", bridge, "up");
        }
        for (int i = 1; i <= nodes; i++) {
            String ns = namespace(i);
            ip("netns", "add", ns);
            created.add(ns);
            ip("-n", ns, "link", "set", "lo", "up");
            for (String kind : List.of("n", "c")) {
                String outside = prefix + kind + i;
                String inside = kind + "0";
                ip("link", "add", outside, "type", "veth", "peer", "name", inside, "netns", ns);
                ip("link", "set", outside, "master", prefix + kind, "up");
                ip("-n", ns, "addr", "add", address(kind, i) + "/24", "dev", inside);
                ip("-n", ns, "link", "set", inside, "up");
            }
        }
        // The test's namespace joins the client network only.
        ip("addr", "add", "10." + subnet + ".2.254/24", "dev", prefix + "c");
    }

    String namespace(int node) {
        return prefix + "-" + node;
    }

    /** Node {@code node}'s address on the node network (replication, quorum). */
    String nodeAddress(int node) {
        return address("n", node);
    }

    /** Node {@code node}'s address on the client network (what clients connect to). */
    String clientAddress(int node) {
        return address("c", node);
    }

    private String address(String kind, int node) {
        return "10." + subnet + "." + (kind.equals("n") ? 1 : 2) + "." + node;
    }

    /** Cuts node {@code node} off from the other nodes (its clients still reach it). */
    void cut(int node) throws IOException, InterruptedException {
        ip("link", "set", prefix + "n" + node, "down");
    }

    /** Joins node {@code node} to the other nodes again. */
    void heal(int node) throws IOException, InterruptedException {
        ip("link", "set", prefix + "n" + node, "up");
    }

    /** The command that runs {@code command} inside node {@code node}'s namespace. */
    List<String> inNamespace(int node, List<String> command) {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", namespace(node)));
        full.addAll(command);
        return full;
    }

    private static void ip(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add("ip");
        command.addAll(List.of(args));
        Subprocess.Result r = Subprocess.run(command, null, 20);
        if (r.exitCode() != 0) {
            throw new IOException(String.join(" ", command) + " failed: " + r.stderr().strip());
        }
    }

    @Override
    public void close() {
        for (String ns : created) {
            try {
                ip("netns", "delete", ns);
            } catch (IOException | InterruptedException e) {
                // best effort: the namespace may be gone already
            }
        }
        for (String bridge : bridges) {
            try {
                ip("link", "delete", bridge);
            } catch (IOException | InterruptedException e) {
                // best effort
            }
        }
        // The outside ends of the veth pairs went with their peers, inside the deleted namespaces.
    }
}
