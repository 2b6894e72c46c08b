from kafka import KafkaConsumer

consumer = KafkaConsumer('test', bootstrap_servers=['localhost:9092'])

'''查看所有topic'''
all_topic = consumer.topics()
print(all_topic)
