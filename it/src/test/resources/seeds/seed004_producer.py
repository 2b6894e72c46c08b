from kafka import KafkaProducer
import json
import random
import time

# 创建 KafkaProducer 实例
producer = KafkaProducer(bootstrap_servers='localhost:9092',
                         value_serializer=lambda v: json.dumps(v).encode('utf-8'))

# 主题名称
topic_name = 'test-topic'

# 模拟发送消息
for i in range(10):
    message = {
        'id': i,
        'value': random.randint(1, 100),
        'timestamp': int(time.time())
    }
    
    # 发送消息
    producer.send(topic_name, value=message)
    print(f"Sent message {message}")
    
    # 等待一段时间再发送下一条消息
    time.sleep(1)

# 关闭生产者
producer.close()
