"""Stand-in for pymongo (not installable here) so that seed 001's consume.py runs unchanged against it.

insert_one appends the document as one JSON line to the file named by the FAKE_MONGO_FILE environment variable;
GroupScenariosIT reads that file to see what the consumer stored.
"""
import json
import os


class Collection:
    def __init__(self, name):
        self.name = name

    def insert_one(self, document):
        with open(os.environ['FAKE_MONGO_FILE'], 'a') as f:
            f.write(json.dumps(document) + '\n')

    def __str__(self):
        return 'Collection(%s)' % self.name


class Database:
    def __init__(self, name):
        self.name = name

    def __getattr__(self, name):
        if name.startswith('_'):
            raise AttributeError(name)
        return Collection(self.name + '.' + name)


class MongoClient:
    def __init__(self, host=None, *args, **kwargs):
        self.host = host

    def __getattr__(self, name):
        if name.startswith('_'):
            raise AttributeError(name)
        return Database(name)
