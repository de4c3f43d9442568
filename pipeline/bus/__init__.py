"""The bus: the only package that imports the Kafka client (kafka-python).

``clients`` is its front door (producer, consumer, admin, reader); ``broker`` manages the local
KRaft broker. Knows nothing of SQL or spaCy.
"""
