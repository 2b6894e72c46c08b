package io.gregor.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.clients.admin.ListTopicsOptions;
import org.apache.kafka.clients.admin.QuorumInfo;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartitionInfo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code gregor cluster status}: every node (alive or fenced, rack, partitions it leads and holds), the metadata
 * quorum (leader, epoch, each voter's log end and lag), and the partitions that are under-replicated (ISR smaller
 * than the replicas) or offline (no leader). Exit code 0 even when some are: it reports, it does not judge.
 */
@Command(
        name = "status",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = "Nodes (alive/fenced, rack, partitions led), the metadata quorum (leader, voters, lag) and "
                + "under-replicated and offline partitions.")
final class ClusterStatusCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ClientOptions client;

    @Mixin
    OutputOptions output;

    /** A partition that lacks replicas or a leader. */
    private record Unhealthy(String topic, int partition, Integer leader, List<Integer> replicas, List<Integer> isr) {
    }

    @Override
    public Integer call() throws Exception {
        try (Admin admin = client.admin()) {
            DescribeClusterResult cluster = admin.describeCluster(new DescribeClusterOptions().includeFencedBrokers(true));
            String clusterId = cluster.clusterId().get();
            Node controller = cluster.controller().get();
            List<Node> nodes = new ArrayList<>(cluster.nodes().get());
            nodes.sort((a, b) -> Integer.compare(a.id(), b.id()));
            QuorumInfo quorum = admin.describeMetadataQuorum().quorumInfo().get();
            var names = admin.listTopics(new ListTopicsOptions().listInternal(true)).names().get();
            Map<String, TopicDescription> topics = new TreeMap<>(admin.describeTopics(names).allTopicNames().get());
            Map<Integer, Integer> leads = new TreeMap<>();
            Map<Integer, Integer> holds = new TreeMap<>();
            List<Unhealthy> underReplicated = new ArrayList<>();
            List<Unhealthy> offline = new ArrayList<>();
            for (TopicDescription topic : topics.values()) {
                for (TopicPartitionInfo p : topic.partitions()) {
                    Integer leader = p.leader() == null ? null : p.leader().id();
                    if (leader != null) {
                        leads.merge(leader, 1, Integer::sum);
                    }
                    p.replicas().forEach(r -> holds.merge(r.id(), 1, Integer::sum));
                    Unhealthy u = new Unhealthy(topic.name(), p.partition(), leader, p.replicas().stream().map(Node::id)
                            .toList(), p.isr().stream().map(Node::id).toList());
                    if (leader == null) {
                        offline.add(u);
                    } else if (p.isr().size() < p.replicas().size()) {
                        underReplicated.add(u);
                    }
                }
            }
            PrintWriter out = spec.commandLine().getOut();
            if (output.json()) {
                out.println(Json.write(json(clusterId, controller, nodes, leads, holds, quorum, underReplicated, offline)));
            } else {
                print(out, clusterId, controller, nodes, leads, holds, quorum, underReplicated, offline);
            }
            out.flush();
        }
        return GregorCli.EXIT_OK;
    }

    private static Map<String, Object> json(String clusterId, Node controller, List<Node> nodes, Map<Integer, Integer> leads,
                                            Map<Integer, Integer> holds, QuorumInfo quorum, List<Unhealthy> under,
                                            List<Unhealthy> offline) {
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("cluster_id", clusterId);
        j.put("controller", controller == null ? null : controller.id());
        List<Object> nodeList = new ArrayList<>();
        for (Node n : nodes) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("id", n.id());
            m.put("host", n.host());
            m.put("port", n.port());
            m.put("rack", n.rack());
            m.put("state", n.isFenced() ? "fenced" : "alive");
            m.put("leaders", leads.getOrDefault(n.id(), 0));
            m.put("replicas", holds.getOrDefault(n.id(), 0));
            nodeList.add(m);
        }
        j.put("nodes", nodeList);
        Map<String, Object> q = new LinkedHashMap<>();
        q.put("leader", quorum.leaderId());
        q.put("epoch", quorum.leaderEpoch());
        q.put("high_watermark", quorum.highWatermark());
        q.put("voters", members(quorum, quorum.voters()));
        q.put("observers", members(quorum, quorum.observers()));
        j.put("quorum", q);
        j.put("under_replicated", under.stream().map(ClusterStatusCommand::json).toList());
        j.put("offline", offline.stream().map(ClusterStatusCommand::json).toList());
        return j;
    }

    private static List<Object> members(QuorumInfo quorum, List<QuorumInfo.ReplicaState> states) {
        List<Object> members = new ArrayList<>();
        for (QuorumInfo.ReplicaState v : states) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("id", v.replicaId());
            m.put("log_end_offset", v.logEndOffset());
            m.put("lag", v.logEndOffset() < 0 ? null : Math.max(0, quorum.highWatermark() - v.logEndOffset()));
            m.put("last_fetch_timestamp", v.lastFetchTimestamp().isPresent() ? v.lastFetchTimestamp().getAsLong() : null);
            members.add(m);
        }
        return members;
    }

    private static Map<String, Object> json(Unhealthy u) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("topic", u.topic());
        m.put("partition", u.partition());
        m.put("leader", u.leader());
        m.put("replicas", u.replicas());
        m.put("isr", u.isr());
        return m;
    }

    private static void print(PrintWriter out, String clusterId, Node controller, List<Node> nodes,
                              Map<Integer, Integer> leads, Map<Integer, Integer> holds, QuorumInfo quorum,
                              List<Unhealthy> under, List<Unhealthy> offline) {
        out.println("Cluster " + clusterId + ", active controller: node " + (controller == null ? "none" : controller.id()));
        out.println();
        Table table = new Table("NODE", "ADDRESS", "RACK", "STATE", "LEADERS", "REPLICAS");
        for (Node n : nodes) {
            table.row(n.id(), n.host() + ":" + n.port(), n.rack(), n.isFenced() ? "fenced" : "alive",
                    leads.getOrDefault(n.id(), 0), holds.getOrDefault(n.id(), 0));
        }
        table.print(out);
        out.println();
        out.println("Metadata quorum: leader node " + quorum.leaderId() + ", epoch " + quorum.leaderEpoch()
                + ", committed index " + quorum.highWatermark());
        Table voters = new Table("MEMBER", "ROLE", "LOG-END", "LAG", "LAST-CONTACT");
        long now = System.currentTimeMillis();
        for (QuorumInfo.ReplicaState v : quorum.voters()) {
            memberRow(voters, quorum, v, "voter", now);
        }
        for (QuorumInfo.ReplicaState v : quorum.observers()) {
            memberRow(voters, quorum, v, "observer", now);
        }
        voters.print(out);
        out.println();
        out.println("Under-replicated partitions: " + under.size() + ", offline partitions: " + offline.size());
        if (!under.isEmpty() || !offline.isEmpty()) {
            Table bad = new Table("TOPIC", "PARTITION", "LEADER", "REPLICAS", "ISR", "STATE");
            offline.forEach(u -> bad.row(u.topic(), u.partition(), null, u.replicas(), u.isr(), "offline"));
            under.forEach(u -> bad.row(u.topic(), u.partition(), u.leader(), u.replicas(), u.isr(), "under-replicated"));
            bad.print(out);
        }
    }

    private static void memberRow(Table table, QuorumInfo quorum, QuorumInfo.ReplicaState v, String role, long now) {
        String contact = v.replicaId() == quorum.leaderId() ? "leader" : v.lastFetchTimestamp().isPresent()
                && v.lastFetchTimestamp().getAsLong() > 0 ? (now - v.lastFetchTimestamp().getAsLong()) + " ms ago" : null;
        table.row(v.replicaId(), role, v.logEndOffset() < 0 ? null : v.logEndOffset(),
                v.logEndOffset() < 0 ? null : Math.max(0, quorum.highWatermark() - v.logEndOffset()), contact);
    }
}
