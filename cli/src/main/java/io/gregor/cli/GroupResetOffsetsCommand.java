package io.gregor.cli;

import java.io.PrintWriter;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.UnknownMemberIdException;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code gregor group reset-offsets GROUP (--topic T[:P,...] | --all-topics) --to-...  [--execute]}: works out new
 * committed offsets, prints them, and commits them only with {@code --execute}. As with Kafka's tool, the group must
 * have no active members (Empty, or unknown to the coordinator), and offsets asked for by number are clamped to the
 * partition's [earliest, log-end] range.
 */
@Command(
        name = "reset-offsets",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = {
            "Reset the committed offsets of a consumer group that has no active members.",
            "Prints the plan (a dry run) unless --execute is given. Offsets given by number are clamped to what the "
                    + "partition holds."
        })
final class GroupResetOffsetsCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ClientOptions client;

    @Mixin
    OutputOptions output;

    @Parameters(index = "0", paramLabel = "GROUP", description = "Group id.")
    String group;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Scope scope;

    static final class Scope {
        @Option(
                names = "--topic",
                paramLabel = "TOPIC[:P,...]",
                required = true,
                description = "A topic (all its partitions) or some of its partitions, e.g. orders:0,2 (repeatable).")
        List<String> topics;

        @Option(names = "--all-topics", required = true, description = "Every partition the group has an offset for.")
        boolean allTopics;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Target target;

    static final class Target {
        @Option(names = "--to-earliest", required = true, description = "The earliest offset still in the log.")
        boolean earliest;

        @Option(names = "--to-latest", required = true, description = "The log-end offset (skip everything).")
        boolean latest;

        @Option(names = "--to-offset", required = true, paramLabel = "N", description = "Offset N.")
        Long offset;

        @Option(
                names = "--to-datetime",
                required = true,
                paramLabel = "TIME",
                converter = TimestampConverter.Utc.class,
                description = "The first record at or after TIME: 2024-05-01T12:00:00.000 (UTC unless a zone such as Z "
                        + "or +02:00 follows, as in Kafka's tool) or epoch ms; the log-end offset if none is that late.")
        Long datetimeMs;

        @Option(
                names = "--shift-by",
                required = true,
                paramLabel = "N",
                description = "The committed offset plus N (N may be negative).")
        Long shiftBy;
    }

    @Option(names = "--execute", description = "Commit the new offsets (default: only print them).")
    boolean execute;

    @Override
    public Integer call() throws Exception {
        Map<String, List<Integer>> named = scope.allTopics ? Map.of() : parseTopics();
        Map<TopicPartition, Long> plan;
        List<String> notes = new ArrayList<>();
        try (Admin admin = client.admin()) {
            ConsumerGroupDescription d = GroupCommand.describeOrNull(admin, group);
            if (d != null && d.groupState() != GroupState.EMPTY) {
                throw notInactive(d.groupState().toString());
            }
            Map<TopicPartition, Long> committed = GroupCommand.committedOffsets(admin, group);
            Collection<TopicPartition> partitions = scope.allTopics ? committed.keySet() : namedPartitions(admin, named);
            plan = plan(admin, partitions, committed, notes);
            if (execute && !plan.isEmpty()) {
                commit(admin, plan);
            }
        }
        print(plan, notes);
        return GregorCli.EXIT_OK;
    }

    private CliException notInactive(String state) {
        return new CliException("Assignments can only be reset if the group '" + group
                + "' is inactive, but the current state is " + state + ".");
    }

    private void commit(Admin admin, Map<TopicPartition, Long> plan) throws Exception {
        Map<TopicPartition, OffsetAndMetadata> offsets = new LinkedHashMap<>();
        plan.forEach((tp, offset) -> offsets.put(tp, new OffsetAndMetadata(offset)));
        try {
            admin.alterConsumerGroupOffsets(group, offsets).all().get();
        } catch (ExecutionException e) {
            // A consumer joined between the state check and the commit; the coordinator refuses a commit from outside.
            if (e.getCause() instanceof UnknownMemberIdException) {
                ConsumerGroupDescription now = GroupCommand.describeOrNull(admin, group);
                throw notInactive(now == null ? "Dead" : now.groupState().toString());
            }
            throw e;
        }
    }

    /** The --topic arguments by topic, in the order given; an empty list means every partition of the topic. */
    Map<String, List<Integer>> parseTopics() {
        Map<String, List<Integer>> wanted = new LinkedHashMap<>();
        for (String arg : scope.topics) {
            int colon = arg.lastIndexOf(':');
            String topic = colon < 0 ? arg : arg.substring(0, colon);
            List<Integer> list = wanted.computeIfAbsent(topic, t -> new ArrayList<>());
            if (colon >= 0) {
                for (String p : arg.substring(colon + 1).split(",", -1)) {
                    try {
                        list.add(Integer.parseInt(p.trim()));
                    } catch (NumberFormatException e) {
                        throw new ParameterException(spec.commandLine(),
                                "Invalid partition '" + p + "' in --topic " + arg + " (expected TOPIC or TOPIC:P,P,...)");
                    }
                }
            }
        }
        return wanted;
    }

    /** The partitions named with --topic; unknown topics and partitions are errors. */
    private static Collection<TopicPartition> namedPartitions(Admin admin, Map<String, List<Integer>> wanted)
            throws Exception {
        var futures = admin.describeTopics(wanted.keySet()).topicNameValues();
        Set<TopicPartition> result = new LinkedHashSet<>();
        for (var entry : wanted.entrySet()) {
            String topic = entry.getKey();
            TopicDescription description;
            try {
                description = futures.get(topic).get();
            } catch (ExecutionException e) {
                throw TopicCommand.unknownTopicOr(topic, e);
            }
            int count = description.partitions().size();
            if (entry.getValue().isEmpty()) {
                description.partitions().forEach(p -> result.add(new TopicPartition(topic, p.partition())));
            }
            for (int p : entry.getValue()) {
                if (p < 0 || p >= count) {
                    throw new CliException("Partition " + p + " of topic '" + topic + "' does not exist (it has "
                            + count + " partition" + (count == 1 ? "" : "s") + ").");
                }
                result.add(new TopicPartition(topic, p));
            }
        }
        return result;
    }

    /** The new offset of every partition, sorted by topic and partition. */
    private Map<TopicPartition, Long> plan(Admin admin, Collection<TopicPartition> partitions,
            Map<TopicPartition, Long> committed, List<String> notes) throws Exception {
        Map<TopicPartition, Long> plan = new TreeMap<>(GroupCommand.BY_TOPIC_AND_PARTITION);
        if (partitions.isEmpty()) {
            return plan;
        }
        if (target.earliest || target.latest) {
            OffsetSpec bound = target.earliest ? OffsetSpec.earliest() : OffsetSpec.latest();
            Map<TopicPartition, Long> offsets = GroupCommand.logOffsets(admin, partitions, bound);
            for (TopicPartition tp : partitions) {
                plan.put(tp, known(offsets, tp, target.earliest ? "earliest" : "log-end"));
            }
        } else if (target.datetimeMs != null) {
            Map<TopicPartition, Long> found =
                    GroupCommand.logOffsets(admin, partitions, OffsetSpec.forTimestamp(target.datetimeMs));
            Map<TopicPartition, Long> ends = GroupCommand.logOffsets(admin, partitions, OffsetSpec.latest());
            for (TopicPartition tp : partitions) {
                Long offset = found.get(tp);
                if (offset == null || offset < 0) {
                    offset = known(ends, tp, "log-end");
                    notes.add("No record in " + tp + " at or after " + Instant.ofEpochMilli(target.datetimeMs)
                            + "; using its log-end offset " + offset + ".");
                }
                plan.put(tp, offset);
            }
        } else {
            Map<TopicPartition, Long> requested = new LinkedHashMap<>();
            for (TopicPartition tp : partitions) {
                if (target.offset != null) {
                    requested.put(tp, target.offset);
                } else if (committed.containsKey(tp)) {
                    requested.put(tp, committed.get(tp) + target.shiftBy);
                } else {
                    throw new CliException("Cannot shift the offset of " + tp + ": group '" + group
                            + "' has no committed offset for it.");
                }
            }
            plan.putAll(clamp(admin, requested, notes));
        }
        return plan;
    }

    private static long known(Map<TopicPartition, Long> offsets, TopicPartition tp, String which) {
        Long offset = offsets.get(tp);
        if (offset == null || offset < 0) {
            throw new CliException("Cannot read the " + which + " offset of " + tp + " (no leader?).");
        }
        return offset;
    }

    /** Kafka's rule: above the log-end offset becomes the log-end offset, below the earliest becomes the earliest. */
    private static Map<TopicPartition, Long> clamp(Admin admin, Map<TopicPartition, Long> requested, List<String> notes)
            throws InterruptedException {
        Map<TopicPartition, Long> earliest = GroupCommand.logOffsets(admin, requested.keySet(), OffsetSpec.earliest());
        Map<TopicPartition, Long> latest = GroupCommand.logOffsets(admin, requested.keySet(), OffsetSpec.latest());
        Map<TopicPartition, Long> result = new LinkedHashMap<>();
        requested.forEach((tp, offset) -> {
            Long end = latest.get(tp);
            Long start = earliest.get(tp);
            long chosen = offset;
            if (end != null && offset > end) {
                chosen = end;
                notes.add("Offset " + offset + " is past the end of " + tp + "; using its log-end offset " + end + ".");
            } else if (start != null && offset < start) {
                chosen = start;
                notes.add("Offset " + offset + " is before the start of " + tp + "; using its earliest offset " + start
                        + ".");
            }
            result.put(tp, chosen);
        });
        return result;
    }

    private void print(Map<TopicPartition, Long> plan, List<String> notes) {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        notes.forEach(err::println);
        if (output.json()) {
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("group", group);
            json.put("executed", execute && !plan.isEmpty());
            List<Object> partitions = new ArrayList<>();
            plan.forEach((tp, offset) -> {
                Map<String, Object> p = new LinkedHashMap<>();
                p.put("topic", tp.topic());
                p.put("partition", tp.partition());
                p.put("new_offset", offset);
                partitions.add(p);
            });
            json.put("partitions", partitions);
            out.println(Json.write(json));
        } else if (!plan.isEmpty()) {
            Table table = new Table("GROUP", "TOPIC", "PARTITION", "NEW-OFFSET");
            plan.forEach((tp, offset) -> table.row(group, tp.topic(), tp.partition(), offset));
            table.print(out);
        }
        out.flush();
        String count = plan.size() + " partition" + (plan.size() == 1 ? "" : "s");
        if (plan.isEmpty()) {
            err.println("Nothing to reset: group " + group + " has no committed offsets.");
        } else if (execute) {
            err.println("Committed new offsets for " + count + " of group " + group + ".");
        } else {
            err.println("Dry run: offsets of " + count + " not changed; add --execute to commit them.");
        }
        err.flush();
    }
}
