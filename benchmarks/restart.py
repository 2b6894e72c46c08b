#!/usr/bin/env python3
# restart.py BOOTSTRAP CLUSTER_DIR NODE [TOPICS] [PARTITIONS]: on a cluster started by the shared bench cluster.sh,
# creates TOPICS topics (default 10) of PARTITIONS partitions (default 1000) with replication factor 3 (so that every
# node of 3 holds TOPICS*PARTITIONS replicas), waits until every replica is in sync, stops node NODE with SIGTERM,
# starts it again and prints the time until its port accepts connections and until every partition has its full ISR
# again. Drives Gregor and Kafka alike (confluent-kafka Admin).
import sys, time, subprocess, os
from confluent_kafka.admin import AdminClient, NewTopic

bootstrap, cdir, node = sys.argv[1], sys.argv[2], sys.argv[3]
topics = int(sys.argv[4]) if len(sys.argv) > 4 else 10
partitions = int(sys.argv[5]) if len(sys.argv) > 5 else 1000
cluster = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "bench", "cluster.sh")
cluster = os.environ.get("CLUSTER_SH", cluster)
admin = AdminClient({"bootstrap.servers": bootstrap})
names = ["restart-%d-%d" % (int(time.time()), t) for t in range(topics)]
for name in names:
    admin.create_topics([NewTopic(name, partitions, 3)])[name].result()
    print("created %s" % name, flush=True)


def all_in_sync():
    md = admin.list_topics(timeout=30)
    for name in names:
        t = md.topics.get(name)
        if t is None or len(t.partitions) != partitions:
            return False
        if any(len(p.isrs) < 3 or p.leader < 0 for p in t.partitions.values()):
            return False
    return True


def dirs_everywhere():
    # Every node has created the log directory of every replica (the brokers create logs after CreateTopics answers).
    for n in sorted(os.listdir(cdir)):
        data = os.path.join(cdir, n, "data")
        if not n.startswith("n") or not os.path.isdir(data):
            continue
        have = sum(1 for d in os.listdir(data) if d.startswith("restart-") and d.rsplit("-", 1)[0] in names)
        if have < topics * partitions:
            return False
    return True


start = time.time()
while not all_in_sync() or not dirs_everywhere():
    if time.time() - start > 900:
        sys.exit("replicas not in sync within 900 s")
    time.sleep(1)
print("every replica in sync and every log directory created after %.1f s" % (time.time() - start), flush=True)
t0 = time.time()
subprocess.run(["bash", cluster, "term", cdir, node], check=True, stdout=subprocess.DEVNULL)
stopped = time.time()
subprocess.run(["bash", cluster, "restart", cdir, node], check=True, stdout=subprocess.DEVNULL)
up = time.time()
while not all_in_sync():
    if time.time() - up > 900:
        sys.exit("ISR not full again within 900 s")
    time.sleep(0.5)
done = time.time()
print("node %s: stopped in %.1f s; port accepting %.1f s after the start; every ISR full %.1f s after the start"
      % (node, stopped - t0, up - stopped, done - stopped), flush=True)
