from config import config
from kafka import KafkaConsumer
consumer = KafkaConsumer(config.TOPIC,
bootstrap_servers=config.SERVER,
group_id='test',
auto_offset_reset='earliest',
# gregor-it change: the tutorial's at-least-once recipe applied to its simplest consumer: "配置enable_auto_commit=false。
# 禁止后台自动提交offset" and "手动调用consumer.commit_async()来提交offset".
enable_auto_commit=False)
for msg in consumer:
    # gregor-it fix: the loop body's indentation, lost on the tutorial page, is restored.
    print(msg.value)
    # gregor-it change: commit after processing (the recipe above).
    consumer.commit_async()
