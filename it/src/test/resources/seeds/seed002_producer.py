#coding:utf8
from kafka import KafkaProducer
from kafka.partitioner.default import DefaultPartitioner
producer = KafkaProducer(bootstrap_servers=['localhost:9092','localhost:9093','localhost:9094'])
# gregor-it fix: the tutorial has the Python 2 statement `print producer.partitions_for('test-topic1')`.
print(producer.partitions_for('test-topic1'))
for _ in range(3):
    producer.send('test-topic1', key=None, value=b'msg')
