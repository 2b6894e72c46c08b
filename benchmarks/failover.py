#!/usr/bin/env python3
# failover.py BOOTSTRAP CLUSTER_DIR (a cluster started by the shared bench cluster.sh): kill -9 (or $SIG) the leader of a 1-partition RF3 topic while a producer writes with
# acks=all every 10 ms; prints the time from the kill to the first acknowledgement after it.
import sys, time, os, signal, subprocess
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic
bs, cdir = sys.argv[1], sys.argv[2]
admin = AdminClient({"bootstrap.servers": bs})
topic = "failover-%d" % int(time.time())
admin.create_topics([NewTopic(topic, 1, 3, config={"min.insync.replicas": "2"})])[topic].result()
time.sleep(2)
md = admin.list_topics(topic, timeout=10)
leader = md.topics[topic].partitions[0].leader
acks = []
def cb(err, msg):
    if err is None:
        acks.append(time.time())
p = Producer({"bootstrap.servers": bs, "acks": "all", "linger.ms": 0, "message.timeout.ms": 60000,
              "topic.metadata.refresh.interval.ms": 1000})
t0 = time.time(); killed_at = None
while time.time() - t0 < 40:
    p.produce(topic, b"x", callback=cb)
    p.poll(0.01)
    if killed_at is None and time.time() - t0 > 5:
        pid = int(open(os.path.join(cdir, "n%d" % leader, "pid")).read().strip())
        os.killpg(os.getpgid(pid), getattr(signal, os.environ.get("SIG", "SIGKILL")))
        killed_at = time.time()
    if killed_at and any(a > killed_at + 0.001 for a in acks[-5:]) and time.time() - killed_at > 1:
        break
p.flush(30)
after = [a for a in acks if a > killed_at]
print("leader", leader, "killed; first ack after %.2f s" % ((after[0] - killed_at) if after else -1))
