package io.gregor.broker.handlers;

import java.util.function.Supplier;
import io.gregor.replication.ReplicaManager;
import io.gregor.broker.config.BrokerConfig;
import io.gregor.broker.network.RequestContext;
import io.gregor.replication.Partition;
import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.DescribeLogDirsRequestData;
import org.apache.kafka.common.message.DescribeLogDirsRequestData.DescribableLogDirTopic;
import org.apache.kafka.common.message.DescribeLogDirsResponseData;
import org.apache.kafka.common.message.DescribeLogDirsResponseData.DescribeLogDirsPartition;
import org.apache.kafka.common.message.DescribeLogDirsResponseData.DescribeLogDirsResult;
import org.apache.kafka.common.message.DescribeLogDirsResponseData.DescribeLogDirsTopic;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * DescribeLogDirs v1-4: the one log directory in use, with the size of each hosted partition (all partitions, or
 * those of the requested topics). No replica moves between directories, so the offset lag is 0 and there are no
 * future replicas. From v4 the directory's total and usable bytes come from its file store (-1 if unreadable).
 *
 * <p>Errors: none per directory beyond NONE; requested partitions this node does not host are left out, as Kafka
 * does.
 */
public final class DescribeLogDirsHandler extends BrokerHandler<DescribeLogDirsRequestData> {

    private final Supplier<BrokerConfig> config;
    private final ReplicaManager replicas;

    public DescribeLogDirsHandler(Supplier<BrokerConfig> config, ReplicaManager replicas) {
        super(ApiKeys.DESCRIBE_LOG_DIRS, 1, 4);
        this.config = config;
        this.replicas = replicas;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, DescribeLogDirsRequestData request) {
        short version = context.apiVersion();
        Path logDir = config.get().logDirs().get(0).toAbsolutePath().normalize();
        DescribeLogDirsResult result = new DescribeLogDirsResult().setErrorCode(Errors.NONE.code())
                .setLogDir(logDir.toString());
        Map<String, DescribeLogDirsTopic> topics = new LinkedHashMap<>();
        for (Partition partition : selected(request)) {
            topics.computeIfAbsent(partition.topic(), name -> new DescribeLogDirsTopic().setName(name))
                    .partitions().add(new DescribeLogDirsPartition().setPartitionIndex(partition.index())
                            .setPartitionSize(partition.sizeInBytes()).setOffsetLag(0).setIsFutureKey(false));
        }
        result.setTopics(new ArrayList<>(topics.values()));
        if (version >= 4) {
            try {
                FileStore store = Files.getFileStore(logDir);
                result.setTotalBytes(store.getTotalSpace()).setUsableBytes(store.getUsableSpace());
            } catch (IOException e) {
                result.setTotalBytes(-1).setUsableBytes(-1);
            }
        }
        DescribeLogDirsResponseData response = new DescribeLogDirsResponseData();
        response.results().add(result);
        return CompletableFuture.completedFuture(response);
    }

    private List<Partition> selected(DescribeLogDirsRequestData request) {
        List<Partition> partitions = new ArrayList<>();
        if (request.topics() == null) {
            partitions.addAll(replicas.partitions());
        } else {
            for (DescribableLogDirTopic topic : request.topics()) {
                for (int index : topic.partitions()) {
                    Partition partition = replicas.partition(topic.topic(), index);
                    if (partition != null) {
                        partitions.add(partition);
                    }
                }
            }
        }
        partitions.sort(Comparator.comparing(Partition::topic).thenComparingInt(Partition::index));
        return partitions;
    }
}
