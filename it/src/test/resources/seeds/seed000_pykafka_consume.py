from pykafka import KafkaClient

client = KafkaClient(hosts="127.0.0.1:9092")
'''client.topics中包含了各个topic的消息,查看哪个topic的消息在这里选择'''
topic = client.topics['test']
'''consumer中存了很多消息,一条消息就是一个对象'''
consumer = topic.get_simple_consumer(consumer_group="test",reset_offset_on_start=True)
for message in consumer:
    print(message)
    if message:
        print('message.offset',message.offset)  # 给队列当中消息的索引,从0开始
        print('message.value',message.value)  # 消息内容,取出来是二进制
