package io.gregor.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.GroupListing;
import org.apache.kafka.clients.admin.ListGroupsOptions;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code gregor group describe [GROUP...]}: by default one row per partition with a committed offset or assigned to a
 * member, with Kafka's columns (CURRENT-OFFSET is the committed offset, LOG-END-OFFSET the high watermark, LAG their
 * difference); {@code --members} lists the members instead and {@code --state} only the group's state.
 */
@Command(
        name = "describe",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = {
            "Describe consumer groups (all of them when no group is given): committed offsets, log-end offsets and lag "
                    + "per partition with the member that owns it; or the members (--members) or only the state (--state).",
            "A '-' means there is no such value: no committed offset, no owning member."
        })
final class GroupDescribeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ClientOptions client;

    @Mixin
    OutputOptions output;

    @Parameters(paramLabel = "GROUP", arity = "0..*", description = "Group ids.")
    List<String> names = new ArrayList<>();

    @ArgGroup(exclusive = true, multiplicity = "0..1")
    View view;

    @Option(names = "--isolation", paramLabel = "LEVEL", defaultValue = "read_uncommitted",
            description = "read_uncommitted (default, as Kafka's tool): LOG-END-OFFSET is the high watermark; "
                    + "read_committed: it is the last stable offset, the end a read_committed consumer can reach "
                    + "(an open transaction holds it back), so LAG is what such a group has left to read.")
    String isolation;

    static final class View {
        @Option(names = {"-m", "--members"}, description = "List the members and their assigned partitions.")
        boolean members;

        @Option(names = {"-s", "--state"}, description = "Only the state, assignor, member count and coordinator.")
        boolean state;
    }

    /** One row of the offsets view; null fields print as '-'. */
    record PartitionRow(TopicPartition partition, Long current, Long logEnd, MemberDescription owner) {
        Long lag() {
            return current == null || logEnd == null ? null : logEnd - current;
        }
    }

    private record Described(ConsumerGroupDescription group, List<PartitionRow> rows) {}

    @Override
    public Integer call() throws Exception {
        boolean offsets = view == null;
        List<Described> described = new ArrayList<>();
        try (Admin admin = client.admin()) {
            for (String name : names.isEmpty() ? consumerGroups(admin) : names) {
                ConsumerGroupDescription d = names.isEmpty()
                        ? GroupCommand.describeOrNull(admin, name) // gone since it was listed
                        : GroupCommand.describe(admin, name);
                if (d != null) {
                    described.add(new Described(d, offsets ? offsetRows(admin, d, isolationLevel()) : List.of()));
                }
            }
        }
        PrintWriter out = spec.commandLine().getOut();
        if (output.json()) {
            out.println(Json.write(described.stream().map(this::toJson).toList()));
        } else if (view != null && view.state) {
            Table table = new Table("GROUP", "TYPE", "STATE", "ASSIGNOR", "MEMBERS", "COORDINATOR");
            for (Described d : described) {
                ConsumerGroupDescription g = d.group();
                table.row(g.groupId(), g.type(), g.groupState(), assignor(g), g.members().size(),
                        GroupCommand.coordinatorText(g.coordinator()));
            }
            table.print(out);
        } else {
            for (int i = 0; i < described.size(); i++) {
                if (i > 0) {
                    out.println();
                }
                printGroup(out, described.get(i));
            }
        }
        out.flush();
        return GregorCli.EXIT_OK;
    }

    private static List<String> consumerGroups(Admin admin) throws Exception {
        return admin.listGroups(ListGroupsOptions.forConsumerGroups()).all().get().stream()
                .map(GroupListing::groupId).sorted().toList();
    }

    private org.apache.kafka.common.IsolationLevel isolationLevel() {
        return switch (isolation) {
            case "read_committed" -> org.apache.kafka.common.IsolationLevel.READ_COMMITTED;
            case "read_uncommitted" -> org.apache.kafka.common.IsolationLevel.READ_UNCOMMITTED;
            default -> throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "--isolation must be read_uncommitted or read_committed, not '" + isolation + "'");
        };
    }

    /** Kafka's rows: every assigned partition and every partition with a committed offset, once each. */
    static List<PartitionRow> offsetRows(Admin admin, ConsumerGroupDescription group) throws Exception {
        return offsetRows(admin, group, org.apache.kafka.common.IsolationLevel.READ_UNCOMMITTED);
    }

    /** As {@link #offsetRows(Admin, ConsumerGroupDescription)}, the log ends as readers of {@code isolation} see them. */
    static List<PartitionRow> offsetRows(Admin admin, ConsumerGroupDescription group,
                                         org.apache.kafka.common.IsolationLevel isolation) throws Exception {
        Map<TopicPartition, Long> committed = GroupCommand.committedOffsets(admin, group.groupId());
        Map<TopicPartition, MemberDescription> owners = new HashMap<>();
        for (MemberDescription m : group.members()) {
            m.assignment().topicPartitions().forEach(tp -> owners.put(tp, m));
        }
        Set<TopicPartition> partitions = new TreeSet<>(GroupCommand.BY_TOPIC_AND_PARTITION);
        partitions.addAll(committed.keySet());
        partitions.addAll(owners.keySet());
        Map<TopicPartition, Long> ends = GroupCommand.logOffsets(admin, partitions, OffsetSpec.latest(), isolation);
        List<PartitionRow> rows = new ArrayList<>();
        for (TopicPartition tp : partitions) {
            rows.add(new PartitionRow(tp, committed.get(tp), ends.get(tp), owners.get(tp)));
        }
        return rows;
    }

    private void printGroup(PrintWriter out, Described d) {
        ConsumerGroupDescription g = d.group();
        out.println("Group: " + g.groupId() + "  state: " + g.groupState() + "  assignor: "
                + (assignor(g) == null ? "-" : assignor(g)) + "  members: " + g.members().size() + "  coordinator: "
                + GroupCommand.coordinatorText(g.coordinator()));
        if (view != null && view.members) {
            boolean instanceIds = g.members().stream().anyMatch(m -> m.groupInstanceId().isPresent());
            Table table = instanceIds
                    ? new Table("CONSUMER-ID", "GROUP-INSTANCE-ID", "HOST", "CLIENT-ID", "PARTITIONS", "ASSIGNMENT")
                    : new Table("CONSUMER-ID", "HOST", "CLIENT-ID", "PARTITIONS", "ASSIGNMENT");
            for (MemberDescription m : g.members()) {
                Set<TopicPartition> assigned = m.assignment().topicPartitions();
                String assignment = assigned.isEmpty() ? null : GroupCommand.assignmentText(assigned);
                if (instanceIds) {
                    table.row(m.consumerId(), m.groupInstanceId().orElse(null), m.host(), m.clientId(), assigned.size(),
                            assignment);
                } else {
                    table.row(m.consumerId(), m.host(), m.clientId(), assigned.size(), assignment);
                }
            }
            table.print(out);
            return;
        }
        Table table = new Table("TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "HOST",
                "CLIENT-ID");
        for (PartitionRow r : d.rows()) {
            MemberDescription m = r.owner();
            table.row(r.partition().topic(), r.partition().partition(), r.current(), r.logEnd(), r.lag(),
                    m == null ? null : m.consumerId(), m == null ? null : m.host(), m == null ? null : m.clientId());
        }
        table.print(out);
    }

    private Map<String, Object> toJson(Described d) {
        ConsumerGroupDescription g = d.group();
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("group", g.groupId());
        j.put("type", g.type().toString());
        j.put("state", g.groupState().toString());
        j.put("assignor", assignor(g));
        j.put("member_count", g.members().size());
        j.put("coordinator", coordinatorJson(g.coordinator()));
        if (view != null && view.members) {
            List<Object> members = new ArrayList<>();
            for (MemberDescription m : g.members()) {
                Map<String, Object> mj = new LinkedHashMap<>();
                mj.put("consumer_id", m.consumerId());
                mj.put("group_instance_id", m.groupInstanceId().orElse(null));
                mj.put("host", m.host());
                mj.put("client_id", m.clientId());
                mj.put("partitions", GroupCommand.partitionsJson(m.assignment().topicPartitions()));
                members.add(mj);
            }
            j.put("members", members);
        } else if (view == null) {
            List<Object> partitions = new ArrayList<>();
            for (PartitionRow r : d.rows()) {
                MemberDescription m = r.owner();
                Map<String, Object> pj = new LinkedHashMap<>();
                pj.put("topic", r.partition().topic());
                pj.put("partition", r.partition().partition());
                pj.put("current_offset", r.current());
                pj.put("log_end_offset", r.logEnd());
                pj.put("lag", r.lag());
                pj.put("consumer_id", m == null ? null : m.consumerId());
                pj.put("host", m == null ? null : m.host());
                pj.put("client_id", m == null ? null : m.clientId());
                partitions.add(pj);
            }
            j.put("partitions", partitions);
        }
        return j;
    }

    private static String assignor(ConsumerGroupDescription g) {
        return g.partitionAssignor() == null || g.partitionAssignor().isEmpty() ? null : g.partitionAssignor();
    }

    private static Object coordinatorJson(Node node) {
        if (node == null || node.isEmpty()) {
            return null;
        }
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("id", node.id());
        c.put("host", node.host());
        c.put("port", node.port());
        return c;
    }
}
