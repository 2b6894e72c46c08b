# importing the required modules
from json import loads
from kafka import KafkaConsumer
from pymongo import MongoClient

# generating the Kafka Consumer
my_consumer = KafkaConsumer(
    'testnum',
     bootstrap_servers = ['localhost : 9092'],
     auto_offset_reset = 'earliest',
     enable_auto_commit = True,
     group_id = 'my-group',
     value_deserializer = lambda x : loads(x.decode('utf-8'))
     )

my_client = MongoClient('localhost : 27017')
my_collection = my_client.testnum.testnum

for message in my_consumer:
    message = message.value
    # gregor-it fix: the tutorial writes `collection.insert_one(message)`, a NameError (no variable `collection`).
    my_collection.insert_one(message)
    # gregor-it fix: the tutorial writes `print(message + " added to " + my_collection)`, a TypeError (dict + str).
    print(str(message) + " added to " + str(my_collection))
