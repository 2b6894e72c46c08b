package io.gregor.broker;

import io.gregor.coordinator.group.ServerAssignor;
import io.gregor.coordinator.group.TopicCatalog;
import io.gregor.metadata.MetadataManager;
import io.gregor.metadata.TopicImage;
import java.util.Collection;

/** The consumer-protocol coordinator's view of the topics: the current metadata image. */
final class ImageTopicCatalog implements TopicCatalog {
    private final MetadataManager metadata;

    ImageTopicCatalog(MetadataManager metadata) {
        this.metadata = metadata;
    }

    @Override
    public ServerAssignor.Topic topic(String name) {
        TopicImage t = metadata.image().topic(name);
        return t == null ? null : new ServerAssignor.Topic(t.name(), t.id(), t.partitions());
    }

    @Override
    public ServerAssignor.Topic topic(org.apache.kafka.common.Uuid id) {
        TopicImage t = metadata.image().topic(id);
        return t == null ? null : new ServerAssignor.Topic(t.name(), t.id(), t.partitions());
    }

    @Override
    public Collection<String> names() {
        return metadata.image().topics().stream().map(TopicImage::name).toList();
    }

    @Override
    public long version() {
        return metadata.image().offset();
    }
}
