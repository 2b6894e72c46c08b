#!/usr/bin/env python3
# create_topic.py BOOTSTRAP [PARTITIONS] [RF] [ROUNDS]: creates a topic of PARTITIONS partitions (default 1000) with
# replication factor RF (default 3), ROUNDS times (default 3), each a new topic; prints, per round, the time until
# CreateTopics is answered and until the Metadata of EVERY node in BOOTSTRAP lists every partition with a leader.
# Drives Gregor and Kafka alike (confluent-kafka Admin), so that both are measured the same way in the same run.
import sys, time
from confluent_kafka.admin import AdminClient, NewTopic

bootstrap = sys.argv[1]
partitions = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
rf = int(sys.argv[3]) if len(sys.argv) > 3 else 3
rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 3
nodes = bootstrap.split(",")
admin = AdminClient({"bootstrap.servers": bootstrap})
per_node = [AdminClient({"bootstrap.servers": n}) for n in nodes]
for a in [admin] + per_node:
    a.list_topics(timeout=30)


def ready_everywhere(name):
    for a in per_node:
        # The node answers for itself: librdkafka asks the node it is connected to (the only one it knows first).
        md = a.list_topics(name, timeout=10)
        t = md.topics.get(name)
        if t is None or t.error is not None or len(t.partitions) != partitions:
            return False
        if any(p.leader < 0 for p in t.partitions.values()):
            return False
    return True


acks, readies = [], []
for r in range(rounds):
    name = "create-%d-%d" % (int(time.time()), r)
    start = time.time()
    admin.create_topics([NewTopic(name, partitions, rf)])[name].result()
    ack = time.time()
    while not ready_everywhere(name):
        if time.time() - start > 120:
            sys.exit("round %d: not ready on every node within 120 s" % r)
        time.sleep(0.01)
    ready = time.time()
    acks.append((ack - start) * 1000)
    readies.append((ready - start) * 1000)
    print("round %d: CreateTopics answered after %.0f ms, every node's metadata complete after %.0f ms"
          % (r, acks[-1], readies[-1]), flush=True)
    time.sleep(5)  # let the nodes finish creating the logs before the next round
acks.sort()
readies.sort()
print("median: ack %.0f ms, ready on every node %.0f ms" % (acks[len(acks) // 2], readies[len(readies) // 2]))
