import json
import time
import datetime
from kafka import KafkaProducer
from config import config
producer = KafkaProducer(bootstrap_servers=config.SERVER,
value_serializer=lambda m: json.dumps(m).encode())
for i in range(100):
    # gregor-it fix: the loop body's indentation, lost on the tutorial page, is restored.
    data = {'num': i, 'ts': datetime.datetime.now().strftime('%Y-%m-%d %H:%M:%S')}
    producer.send(config.TOPIC, data)
    time.sleep(1)
