#!/usr/bin/env bash
# cluster-bench.sh KIND BASEPORT DIR - one round against a fresh 3-node cluster of KIND (gregor | kafka-4.2.0), started
# by the shared bench's cluster.sh from the same server.properties: a 6-partition topic with replication factor 3 and
# min.insync.replicas=2, Kafka's ProducerPerformance (300,000 records of 1 KiB, acks=all, unthrottled), then
# ConsumerPerformance over the same records; the cluster is stopped afterwards.
# Run from the Gregor checkout; BENCH points at the shared bench directory (default ../shared/bench).
set -u
KIND=$1; BASE=$2; DIR=$3
B=${BENCH:-$(cd "$(dirname "$0")/../.." && pwd)/shared/bench}
[ -x "$B/cluster.sh" ] || { echo "no cluster.sh in $B (set BENCH)" >&2; exit 2; }
cd "$(dirname "$0")/.."
"$B/cluster.sh" start "$KIND" 3 "$BASE" "$DIR" > "$DIR.start.log" 2>&1 || { echo "start failed" >&2; tail -20 "$DIR.start.log" >&2; exit 1; }
BS=$("$B/cluster.sh" bootstrap "$DIR")
T=perf-$RANDOM
"$B/kafka-anchor.sh" tool 4.2.0 org.apache.kafka.tools.TopicCommand --bootstrap-server "$BS" --create --topic "$T" \
    --partitions 6 --replication-factor 3 --config min.insync.replicas=2 > /dev/null 2>&1
sleep 2
echo "== $KIND produce"
"$B/kafka-anchor.sh" tool 4.2.0 org.apache.kafka.tools.ProducerPerformance --topic "$T" --num-records 300000 \
    --record-size 1024 --throughput -1 --producer-props bootstrap.servers="$BS" acks=all linger.ms=5 batch.size=65536 \
    2>/dev/null | tail -1
echo "== $KIND consume"
"$B/kafka-anchor.sh" tool 4.2.0 org.apache.kafka.tools.ConsumerPerformance --bootstrap-server "$BS" --topic "$T" \
    --messages 300000 --timeout 60000 2>/dev/null | tail -2
"$B/cluster.sh" stop "$DIR" > /dev/null 2>&1
