package io.gregor.broker.group;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/** Where the coordinator's records go: the future completes once they are durable. */
public interface GroupLog {
    CompletableFuture<Void> append(List<GroupRecord> records);
}
