from kafka import KafkaProducer
import json
import random
import time

def send_messages():
    # 创建 KafkaProducer 实例
    producer = KafkaProducer(bootstrap_servers='localhost:9092',
                             value_serializer=lambda v: json.dumps(v).encode('utf-8'))
    
    try:
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
            future = producer.send(topic_name, value=message)
            
            # 等待确认
            result = future.get(timeout=10)
            print(f"Sent message {message} with offset {result.offset}")
            
            # 等待一段时间再发送下一条消息
            time.sleep(1)
    
    except Exception as e:
        print(f"Error sending message: {e}")
    finally:
        # 关闭生产者
        producer.close()

if __name__ == '__main__':
    send_messages()
