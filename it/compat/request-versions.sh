#!/usr/bin/env bash
# Runs each legacy client against a fresh Gregor broker and prints the request versions the broker logged for it,
# one line per client: the evidence behind the table in docs/compatibility.md.
#
# Usage: it/compat/request-versions.sh [PORT]    (from the repository root, after ./mvnw -B install -DskipTests)
# Needs the Debian packages .ci/run installs, and the old Java clients copied by the it module's build
# (./mvnw -B verify -pl it -Dit.test=OldJavaClientsIT once).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
port=${1:-19392}
work=$(mktemp -d)
trap 'kill $(cat "$work/pid" 2>/dev/null) 2>/dev/null || true; rm -rf "$work"' EXIT
export PYTHONPATH=$PWD/it/src/test/python
py=/usr/bin/python3

start_broker() {
  rm -rf "$work/data"
  GREGOR_NO_BUILD=1 bin/gregor start --set log.dir="$work/data" --set listeners=PLAINTEXT://127.0.0.1:$port \
    --set group.initial.rebalance.delay.ms=0 > "$work/broker.log" 2>&1 &
  echo $! > "$work/pid"
  for _ in $(seq 1 120); do grep -q "Gregor started" "$work/broker.log" && return; sleep 0.5; done
  echo "broker did not start" >&2; cat "$work/broker.log" >&2; exit 1
}

stop_broker() {
  kill "$(cat "$work/pid")"; wait "$(cat "$work/pid")" 2>/dev/null || true
}

report() {
  local name=$1
  printf '%s:' "$name"
  grep -o "uses [A-Za-z]* v[0-9]*" "$work/broker.log" | sed 's/uses //' | sort -u | tr '\n' ',' | sed 's/,$//; s/,/, /g'
  echo
}

run_py() {
  local name=$1 program=$2
  start_broker
  timeout 120 $py -c "$program" > "$work/client.out" 2>&1 || { echo "$name failed:"; cat "$work/client.out"; }
  stop_broker
  report "$name"
}

B=127.0.0.1:$port
pykafka_program() {
  cat <<PY
from pykafka import KafkaClient
from pykafka.common import OffsetType
client = KafkaClient(hosts="$B", broker_version="$1")
topic = client.topics[b"t"]
with topic.get_sync_producer() as p:
    p.produce(b"x")
with topic.get_producer(linger_ms=10, sync=False) as p:
    p.produce(b"y")
c = topic.get_simple_consumer(consumer_group=b"g", auto_offset_reset=OffsetType.EARLIEST, consumer_timeout_ms=3000)
print([m.value for m in c]); c.commit_offsets(); c.stop()
b = topic.get_balanced_consumer(consumer_group=b"bg", managed=True, auto_offset_reset=OffsetType.EARLIEST, consumer_timeout_ms=3000)
print([m.value for m in b]); b.stop()
PY
}
kafka_python_program() {
  cat <<PY
from kafka import KafkaProducer, KafkaConsumer
p = KafkaProducer(bootstrap_servers="$B", api_version=($1), acks="all")
p.send("t", b"x"); p.flush(); p.close()
c = KafkaConsumer("t", bootstrap_servers="$B", api_version=($1), group_id="g", auto_offset_reset="earliest", consumer_timeout_ms=4000)
print([m.value for m in c]); c.commit(); c.close()
PY
}

run_py "pykafka 2.8.0 (default broker_version 0.9.0)" "$(pykafka_program 0.9.0)"
run_py "pykafka 2.8.0 broker_version=0.10.0" "$(pykafka_program 0.10.0)"
for v in "0, 9" "0, 10" "0, 10, 1" "0, 11"; do
  run_py "kafka-python 2.0.2 api_version=($v)" "$(kafka_python_program "$v")"
done

# Old Java clients: produce one record and consume it in a group, with the jars the it build copied.
cp_common=$(ls it/target/old-clients/common/*.jar | tr '\n' ':')
cat > "$work/Old.java" <<'JAVA'
import java.util.*;
public class Old {
    public static void main(String[] a) throws Exception {
        Properties p = new Properties();
        p.put("bootstrap.servers", a[0]); p.put("acks", "all");
        p.put("key.serializer", "org.apache.kafka.common.serialization.StringSerializer");
        p.put("value.serializer", "org.apache.kafka.common.serialization.StringSerializer");
        Class<?> kp = Class.forName("org.apache.kafka.clients.producer.KafkaProducer");
        Object producer = kp.getConstructor(Properties.class).newInstance(p);
        Class<?> rec = Class.forName("org.apache.kafka.clients.producer.ProducerRecord");
        Object r = rec.getConstructor(String.class, Object.class, Object.class).newInstance("t", "k", "v");
        ((java.util.concurrent.Future<?>) kp.getMethod("send", rec).invoke(producer, r)).get();
        kp.getMethod("close").invoke(producer);
        Properties c = new Properties();
        c.put("bootstrap.servers", a[0]); c.put("group.id", "g"); c.put("auto.offset.reset", "earliest");
        c.put("key.deserializer", "org.apache.kafka.common.serialization.StringDeserializer");
        c.put("value.deserializer", "org.apache.kafka.common.serialization.StringDeserializer");
        Class<?> kc = Class.forName("org.apache.kafka.clients.consumer.KafkaConsumer");
        Object consumer = kc.getConstructor(Properties.class).newInstance(c);
        java.lang.reflect.Method sub;
        try { sub = kc.getMethod("subscribe", Collection.class); } catch (NoSuchMethodException e) { sub = kc.getMethod("subscribe", List.class); }
        sub.invoke(consumer, List.of("t"));
        int n = 0;
        for (int i = 0; i < 50 && n == 0; i++) {
            for (Object x : (Iterable<?>) kc.getMethod("poll", long.class).invoke(consumer, 200L)) n++;
        }
        kc.getMethod("commitSync").invoke(consumer);
        kc.getMethod("close").invoke(consumer);
        System.out.println("consumed " + n);
    }
}
JAVA
javac -d "$work" "$work/Old.java"
for v in 0.9.0.1 0.10.0.1 0.10.2.2 2.0.1; do
  start_broker
  java -cp "$work:it/target/old-clients/$v/kafka-clients-$v.jar:$cp_common" Old "$B" > "$work/client.out" 2>&1 \
    || { echo "java $v failed:"; cat "$work/client.out"; }
  stop_broker
  report "Java kafka-clients $v"
done
