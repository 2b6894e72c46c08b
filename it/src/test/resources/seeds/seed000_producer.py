from kafka import KafkaProducer

producer = KafkaProducer(bootstrap_servers=['127.0.0.1:9092'])
# 此处ip可以是多个['0.0.0.1:9092','0.0.0.2:9092','0.0.0.3:9092' ]
for i in range(3):
    msg = 'msg %d' % i
    print(msg)
    '''存入时第一个参数是topic名,第二个参数是内容,需要转成utf8编码。当存入的topic不存在时,会自动创建一个'''
    producer.send('test',msg.encode('utf8'))
producer.close()
