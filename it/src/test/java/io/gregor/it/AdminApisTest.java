package io.gregor.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gregor.testkit.Await;
import io.gregor.testkit.GregorCluster;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.clients.admin.LogDirDescription;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.admin.ReplicaInfo;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicCollection;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.InvalidConfigurationException;
import org.apache.kafka.common.errors.InvalidPartitionsException;
import org.apache.kafka.common.errors.InvalidReplicaAssignmentException;
import org.apache.kafka.common.errors.OffsetOutOfRangeException;
import org.apache.kafka.common.message.AlterConfigsRequestData;
import org.apache.kafka.common.message.AlterConfigsResponseData;
import org.apache.kafka.common.message.CreatePartitionsRequestData;
import org.apache.kafka.common.message.DeleteRecordsRequestData;
import org.apache.kafka.common.message.DeleteTopicsRequestData;
import org.apache.kafka.common.message.DescribeClusterRequestData;
import org.apache.kafka.common.message.DescribeConfigsRequestData;
import org.apache.kafka.common.message.DescribeConfigsResponseData;
import org.apache.kafka.common.message.DescribeLogDirsRequestData;
import org.apache.kafka.common.message.IncrementalAlterConfigsRequestData;
import org.apache.kafka.common.message.OffsetForLeaderEpochRequestData;
import org.apache.kafka.common.message.OffsetForLeaderEpochResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The admin APIs against one real broker, through the real Java Admin client and, where it has no call, raw requests. */
class AdminApisTest {
    private static GregorCluster gregor;
    private static Admin admin;

    @BeforeAll
    static void start() {
        gregor = GregorCluster.single().start();
        admin = gregor.admin();
    }

    @AfterAll
    static void stop() {
        if (gregor != null) {
            gregor.close();
        }
    }

    @Test
    void testDeleteTopicByName() throws Exception {
        // A topic deleted by name disappears from the topic list, and a topic of the same name can be created again.
        create("del-by-name", 2, Map.of());
        admin.deleteTopics(List.of("del-by-name")).all().get();
        assertThat(admin.listTopics().names().get()).doesNotContain("del-by-name");
        create("del-by-name", 1, Map.of());
        assertThat(admin.listTopics().names().get()).contains("del-by-name");
    }

    @Test
    void testDeleteTopicById() throws Exception {
        // A topic deleted by its id disappears; its re-creation gets a new id.
        Uuid id = create("del-by-id", 1, Map.of());
        admin.deleteTopics(TopicCollection.ofTopicIds(List.of(id))).all().get();
        assertThat(admin.listTopics().names().get()).doesNotContain("del-by-id");
        assertThat(create("del-by-id", 1, Map.of())).isNotEqualTo(id);
    }

    @Test
    void testCreatePartitions() throws Exception {
        // Growing a topic from 1 to 3 partitions works; shrinking it or assigning to an unknown broker is refused.
        create("grow", 1, Map.of());
        admin.createPartitions(Map.of("grow", NewPartitions.increaseTo(3))).all().get();
        assertThat(admin.describeTopics(List.of("grow")).allTopicNames().get().get("grow").partitions()).hasSize(3);
        assertThatThrownBy(() -> admin.createPartitions(Map.of("grow", NewPartitions.increaseTo(2))).all().get())
                .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(InvalidPartitionsException.class);
        assertThatThrownBy(() -> admin.createPartitions(Map.of("grow", NewPartitions.increaseTo(4, List.of(List.of(7)))))
                .all().get()).hasCauseInstanceOf(InvalidReplicaAssignmentException.class);
    }

    @Test
    void testDescribeTopicConfigs() throws Exception {
        // A topic override is reported as DYNAMIC_TOPIC_CONFIG; other keys show the broker default.
        create("described", 1, Map.of("cleanup.policy", "compact"));
        Config config = topicConfig("described");
        assertThat(config.get("cleanup.policy").value()).isEqualTo("compact");
        assertThat(config.get("cleanup.policy").source()).isEqualTo(ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG);
        assertThat(config.get("retention.ms").value()).isEqualTo("604800000");
        assertThat(config.get("retention.ms").source()).isEqualTo(ConfigEntry.ConfigSource.DEFAULT_CONFIG);
    }

    @Test
    void testDescribeBrokerConfigs() throws Exception {
        // The broker resource lists the broker properties, static ones read-only, with their sources.
        Config config = admin.describeConfigs(List.of(new ConfigResource(ConfigResource.Type.BROKER, "1")))
                .all().get().values().iterator().next();
        assertThat(config.get("log.dirs").value()).isEqualTo(gregor.dataDir().toString());
        assertThat(config.get("log.dirs").source()).isEqualTo(ConfigEntry.ConfigSource.STATIC_BROKER_CONFIG);
        assertThat(config.get("log.dirs").isReadOnly()).isTrue();
        assertThat(config.get("log.retention.hours").value()).isEqualTo("168");
        assertThat(config.get("log.retention.hours").source()).isEqualTo(ConfigEntry.ConfigSource.DEFAULT_CONFIG);
    }

    @Test
    void testIncrementalAlterTopicConfigs() throws Exception {
        // SET then DELETE of retention.ms on a topic; APPEND adds to the list-typed cleanup.policy.
        create("altered", 1, Map.of());
        ConfigResource topic = new ConfigResource(ConfigResource.Type.TOPIC, "altered");
        alter(topic, new AlterConfigOp(new ConfigEntry("retention.ms", "1000"), AlterConfigOp.OpType.SET),
                new AlterConfigOp(new ConfigEntry("cleanup.policy", "compact"), AlterConfigOp.OpType.APPEND));
        Config config = topicConfig("altered");
        assertThat(config.get("retention.ms").value()).isEqualTo("1000");
        assertThat(config.get("retention.ms").source()).isEqualTo(ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG);
        assertThat(config.get("cleanup.policy").value()).isEqualTo("delete,compact");

        alter(topic, new AlterConfigOp(new ConfigEntry("retention.ms", null), AlterConfigOp.OpType.DELETE));
        assertThat(topicConfig("altered").get("retention.ms").source()).isEqualTo(ConfigEntry.ConfigSource.DEFAULT_CONFIG);
    }

    @Test
    void testUnknownOrStaticConfigIsRejected() throws Exception {
        // An unknown topic config, an unknown broker config and a static broker config all give InvalidConfiguration.
        create("strict", 1, Map.of());
        assertThatThrownBy(() -> alter(new ConfigResource(ConfigResource.Type.TOPIC, "strict"),
                new AlterConfigOp(new ConfigEntry("no.such.config", "1"), AlterConfigOp.OpType.SET)))
                .hasCauseInstanceOf(InvalidConfigurationException.class).hasMessageContaining("no.such.config");
        assertThatThrownBy(() -> alter(new ConfigResource(ConfigResource.Type.BROKER, ""),
                new AlterConfigOp(new ConfigEntry("no.such.config", "1"), AlterConfigOp.OpType.SET)))
                .hasCauseInstanceOf(InvalidConfigurationException.class).hasMessageContaining("no.such.config");
        assertThatThrownBy(() -> alter(new ConfigResource(ConfigResource.Type.BROKER, ""),
                new AlterConfigOp(new ConfigEntry("num.partitions", "3"), AlterConfigOp.OpType.SET)))
                .hasCauseInstanceOf(InvalidConfigurationException.class).hasMessageContaining("dynamically");
    }

    @Test
    void testBrokerLevelDefaultReachesTopics() throws Exception {
        // A cluster-wide log.retention.ms shows in a topic's retention.ms as DYNAMIC_DEFAULT_BROKER_CONFIG until deleted.
        create("inherits", 1, Map.of());
        ConfigResource cluster = new ConfigResource(ConfigResource.Type.BROKER, "");
        alter(cluster, new AlterConfigOp(new ConfigEntry("log.retention.ms", "3600000"), AlterConfigOp.OpType.SET));
        try {
            ConfigEntry retention = topicConfig("inherits").get("retention.ms");
            assertThat(retention.value()).isEqualTo("3600000");
            assertThat(retention.source()).isEqualTo(ConfigEntry.ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG);
            assertThat(gregor.broker().partitions().partition("inherits", 0).log().config().retentionMs()).isEqualTo(3_600_000L);
        } finally {
            alter(cluster, new AlterConfigOp(new ConfigEntry("log.retention.ms", null), AlterConfigOp.OpType.DELETE));
        }
        assertThat(topicConfig("inherits").get("retention.ms").value()).isEqualTo("604800000");
    }

    @Test
    void testLegacyAlterConfigsReplacesAllOverrides() throws Exception {
        // The legacy AlterConfigs (no Admin call in 4.x) replaces a topic's overrides: unlisted keys revert.
        create("legacy", 1, Map.of("retention.ms", "1000"));
        AlterConfigsRequestData request = new AlterConfigsRequestData();
        AlterConfigsRequestData.AlterConfigsResource resource = new AlterConfigsRequestData.AlterConfigsResource()
                .setResourceType(ConfigResource.Type.TOPIC.id()).setResourceName("legacy");
        resource.configs().add(new AlterConfigsRequestData.AlterableConfig().setName("segment.bytes").setValue("1048576"));
        request.resources().add(resource);
        AlterConfigsResponseData response = (AlterConfigsResponseData) send(ApiKeys.ALTER_CONFIGS, (short) 2, request);
        assertThat(response.responses().get(0).errorCode()).isEqualTo(Errors.NONE.code());
        Config config = topicConfig("legacy");
        assertThat(config.get("segment.bytes").value()).isEqualTo("1048576");
        assertThat(config.get("retention.ms").source()).isEqualTo(ConfigEntry.ConfigSource.DEFAULT_CONFIG);
    }

    @Test
    void testDeleteRecords() throws Exception {
        // After 10 records, deleting before offset 5 moves the low watermark to 5, where a consumer then starts.
        create("trimmed", 1, Map.of());
        produce("trimmed", 10);
        TopicPartition tp = new TopicPartition("trimmed", 0);
        long low = admin.deleteRecords(Map.of(tp, RecordsToDelete.beforeOffset(5))).lowWatermarks().get(tp).get().lowWatermark();
        assertThat(low).isEqualTo(5);
        assertThat(firstOffsetFromBeginning(tp)).isEqualTo(5);
        assertThatThrownBy(() -> admin.deleteRecords(Map.of(tp, RecordsToDelete.beforeOffset(11))).all().get())
                .hasCauseInstanceOf(OffsetOutOfRangeException.class);
    }

    @Test
    void testDescribeCluster() throws Exception {
        // The cluster is this one node, reachable at the bound port, and it is the controller.
        DescribeClusterResult cluster = admin.describeCluster();
        List<Node> nodes = new ArrayList<>(cluster.nodes().get());
        assertThat(nodes).hasSize(1);
        assertThat(nodes.get(0).id()).isEqualTo(1);
        assertThat(nodes.get(0).port()).isEqualTo(gregor.broker().boundPort());
        assertThat(cluster.controller().get().id()).isEqualTo(1);
        assertThat(cluster.clusterId().get()).isNotBlank();
    }

    @Test
    void testDescribeLogDirs() throws Exception {
        // The one log directory lists a partition that holds records with a non-zero size, and the disk's capacity.
        create("sized", 1, Map.of());
        produce("sized", 3);
        LogDirDescription logDir = admin.describeLogDirs(List.of(1)).allDescriptions().get().get(1)
                .get(gregor.dataDir().toString());
        assertThat(logDir).isNotNull();
        ReplicaInfo replica = logDir.replicaInfos().get(new TopicPartition("sized", 0));
        assertThat(replica.size()).isPositive();
        assertThat(replica.offsetLag()).isZero();
        assertThat(logDir.totalBytes()).isPresent();
        assertThat(logDir.usableBytes().getAsLong()).isPositive();
    }

    @Test
    void testOffsetForLeaderEpoch() throws Exception {
        // Epoch 0 ends at the log end offset; a newer current epoch is UNKNOWN_LEADER_EPOCH; an unknown topic is reported.
        create("epochs", 1, Map.of());
        produce("epochs", 4);
        for (short version = 2; version <= 4; version++) {
            OffsetForLeaderEpochResponseData response = (OffsetForLeaderEpochResponseData) send(
                    ApiKeys.OFFSET_FOR_LEADER_EPOCH, version, epochRequest("epochs", 0, 0));
            var partition = response.topics().iterator().next().partitions().get(0);
            assertThat(partition.errorCode()).isEqualTo(Errors.NONE.code());
            assertThat(partition.leaderEpoch()).isZero();
            assertThat(partition.endOffset()).isEqualTo(4);
        }
        var fenced = ((OffsetForLeaderEpochResponseData) send(ApiKeys.OFFSET_FOR_LEADER_EPOCH, (short) 4,
                epochRequest("epochs", 0, 5))).topics().iterator().next().partitions().get(0);
        assertThat(fenced.errorCode()).isEqualTo(Errors.UNKNOWN_LEADER_EPOCH.code());
        var unknown = ((OffsetForLeaderEpochResponseData) send(ApiKeys.OFFSET_FOR_LEADER_EPOCH, (short) 4,
                epochRequest("no-such-topic", 0, -1))).topics().iterator().next().partitions().get(0);
        assertThat(unknown.errorCode()).isEqualTo(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
    }

    @Test
    void testDescribeConfigsDocumentationAndSynonyms() throws Exception {
        // With synonyms and documentation asked for (v4), a topic key lists its broker default and its doc text.
        create("documented", 1, Map.of("retention.ms", "1000"));
        DescribeConfigsRequestData request = new DescribeConfigsRequestData().setIncludeSynonyms(true)
                .setIncludeDocumentation(true);
        request.resources().add(new DescribeConfigsRequestData.DescribeConfigsResource()
                .setResourceType(ConfigResource.Type.TOPIC.id()).setResourceName("documented")
                .setConfigurationKeys(List.of("retention.ms")));
        DescribeConfigsResponseData response = (DescribeConfigsResponseData) send(ApiKeys.DESCRIBE_CONFIGS, (short) 4, request);
        var configs = response.results().get(0).configs();
        assertThat(configs).hasSize(1);
        assertThat(configs.get(0).documentation()).isNotBlank();
        assertThat(configs.get(0).synonyms()).extracting(s -> s.name()).containsExactly("retention.ms", "log.retention.ms");
    }

    /** Every version of every new API, with a small valid request, gets a response the client's codec can read. */
    static Stream<Arguments> everyVersion() {
        List<Arguments> cases = new ArrayList<>();
        for (ApiKeys key : List.of(ApiKeys.DELETE_TOPICS, ApiKeys.CREATE_PARTITIONS, ApiKeys.DESCRIBE_CONFIGS,
                ApiKeys.ALTER_CONFIGS, ApiKeys.INCREMENTAL_ALTER_CONFIGS, ApiKeys.DELETE_RECORDS, ApiKeys.DESCRIBE_CLUSTER,
                ApiKeys.DESCRIBE_LOG_DIRS, ApiKeys.OFFSET_FOR_LEADER_EPOCH)) {
            for (short v = key.oldestVersion(); v <= key.latestVersion(); v++) {
                cases.add(Arguments.of(key, v));
            }
        }
        return cases.stream();
    }

    @ParameterizedTest
    @MethodSource("everyVersion")
    void testEveryVersionEncodes(ApiKeys key, short version) throws Exception {
        // A minimal valid request at each version the client knows is answered without error, not with a closed connection.
        String topic = "versions-" + key.name().toLowerCase().replace('_', '-') + "-" + version;
        create(topic, 1, Map.of());
        produce(topic, 1);
        ApiMessage response = send(key, version, minimalRequest(key, version, topic));
        List<Short> errors = RawKafkaClient.errorCodes(response);
        assertThat(errors).as("error codes of %s v%d", key, version).isNotEmpty().containsOnly((short) 0);
    }

    private static ApiMessage minimalRequest(ApiKeys key, short version, String topic) {
        return switch (key) {
            case DELETE_TOPICS -> version >= 6
                    ? new DeleteTopicsRequestData().setTopics(List.of(new DeleteTopicsRequestData.DeleteTopicState().setName(topic)))
                            .setTimeoutMs(5000)
                    : new DeleteTopicsRequestData().setTopicNames(List.of(topic)).setTimeoutMs(5000);
            case CREATE_PARTITIONS -> {
                var request = new CreatePartitionsRequestData().setTimeoutMs(5000);
                request.topics().add(new CreatePartitionsRequestData.CreatePartitionsTopic().setName(topic).setCount(2)
                        .setAssignments(null));
                yield request;
            }
            case DESCRIBE_CONFIGS -> {
                var request = new DescribeConfigsRequestData().setIncludeSynonyms(true)
                        .setIncludeDocumentation(version >= 3);
                request.resources().add(new DescribeConfigsRequestData.DescribeConfigsResource()
                        .setResourceType(ConfigResource.Type.TOPIC.id()).setResourceName(topic).setConfigurationKeys(null));
                request.resources().add(new DescribeConfigsRequestData.DescribeConfigsResource()
                        .setResourceType(ConfigResource.Type.BROKER.id()).setResourceName("").setConfigurationKeys(null));
                yield request;
            }
            case ALTER_CONFIGS -> {
                var request = new AlterConfigsRequestData().setValidateOnly(true);
                var resource = new AlterConfigsRequestData.AlterConfigsResource()
                        .setResourceType(ConfigResource.Type.TOPIC.id()).setResourceName(topic);
                resource.configs().add(new AlterConfigsRequestData.AlterableConfig().setName("retention.ms").setValue("5000"));
                request.resources().add(resource);
                yield request;
            }
            case INCREMENTAL_ALTER_CONFIGS -> {
                var request = new IncrementalAlterConfigsRequestData().setValidateOnly(true);
                var resource = new IncrementalAlterConfigsRequestData.AlterConfigsResource()
                        .setResourceType(ConfigResource.Type.TOPIC.id()).setResourceName(topic);
                resource.configs().add(new IncrementalAlterConfigsRequestData.AlterableConfig().setName("retention.ms")
                        .setConfigOperation(AlterConfigOp.OpType.SET.id()).setValue("5000"));
                request.resources().add(resource);
                yield request;
            }
            case DELETE_RECORDS -> {
                var request = new DeleteRecordsRequestData().setTimeoutMs(5000);
                var t = new DeleteRecordsRequestData.DeleteRecordsTopic().setName(topic);
                t.partitions().add(new DeleteRecordsRequestData.DeleteRecordsPartition().setPartitionIndex(0).setOffset(-1));
                request.topics().add(t);
                yield request;
            }
            case DESCRIBE_CLUSTER -> new DescribeClusterRequestData().setIncludeFencedBrokers(version >= 2);
            case DESCRIBE_LOG_DIRS -> new DescribeLogDirsRequestData().setTopics(null);
            case OFFSET_FOR_LEADER_EPOCH -> epochRequest(topic, 0, -1);
            default -> throw new IllegalArgumentException(key.name());
        };
    }

    private static OffsetForLeaderEpochRequestData epochRequest(String topic, int epoch, int currentEpoch) {
        var request = new OffsetForLeaderEpochRequestData().setReplicaId(-1);
        var t = new OffsetForLeaderEpochRequestData.OffsetForLeaderTopic().setTopic(topic);
        t.partitions().add(new OffsetForLeaderEpochRequestData.OffsetForLeaderPartition().setPartition(0)
                .setLeaderEpoch(epoch).setCurrentLeaderEpoch(currentEpoch));
        request.topics().add(t);
        return request;
    }

    /** Sends one request of API {@code key} at {@code version} on a connection of its own. */
    private static ApiMessage send(ApiKeys key, short version, ApiMessage body) throws IOException {
        assertThat(body.apiKey()).isEqualTo(key.id);
        return RawKafkaClient.sendOnce(new InetSocketAddress("127.0.0.1", gregor.broker().boundPort()), body, version);
    }

    private static Uuid create(String topic, int partitions, Map<String, String> configs) {
        return gregor.createTopic(topic, partitions, configs);
    }

    private static Config topicConfig(String topic) throws Exception {
        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
        return admin.describeConfigs(List.of(resource)).all().get().get(resource);
    }

    private static void alter(ConfigResource resource, AlterConfigOp... ops) throws Exception {
        admin.incrementalAlterConfigs(Map.of(resource, List.of(ops))).all().get();
    }

    private static void produce(String topic, int count) throws Exception {
        try (KafkaProducer<String, String> producer = gregor.producer()) {
            for (int i = 0; i < count; i++) {
                producer.send(new ProducerRecord<>(topic, 0, "k" + i, "v" + i)).get();
            }
        }
    }

    /** The offset of the first record a consumer reads after seeking to the beginning of {@code tp}. */
    private static long firstOffsetFromBeginning(TopicPartition tp) {
        List<ConsumerRecord<String, String>> read = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = gregor.consumer()) {
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            Await.until("a record of " + tp + " from the beginning", Duration.ofSeconds(15), () -> {
                consumer.poll(Duration.ofMillis(200)).forEach(read::add);
                return !read.isEmpty();
            });
        }
        return read.get(0).offset();
    }
}
