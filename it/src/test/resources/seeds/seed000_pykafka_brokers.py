from pykafka import KafkaClient

client = KafkaClient(hosts="127.0.0.1:9092")
print(client.brokers)

for i in client.brokers:
    host = client.brokers[i].host
    port = client.brokers[i].port
    id = client.brokers[i].id
    print(host,port,id)
