"""fastprod: a Kafka producer for Python with a compiled record path on librdkafka.

>>> import fastprod
>>> with fastprod.Producer(bootstrap_servers="127.0.0.1:9092") as producer:
...     metadata = producer.send("events", b"hello", key=b"user-1").get(timeout=10)
"""

from fastprod._version import __version__
from fastprod._core import BatchResult, DeliveryFuture, librdkafka_version
from fastprod.errors import (
    ConfigError,
    FastProdError,
    InvalidTopicError,
    KafkaError,
    KafkaTimeoutError,
    ProducerClosedError,
    ProducerForkedError,
    QueueFullError,
    SerializationError,
)
from fastprod.producer import Producer
from fastprod.records import (ProducerRecord, RecordMetadata, ThrottleEvent, TimestampType,
                              TopicPartition)

__all__ = [
    "BatchResult",
    "ConfigError",
    "DeliveryFuture",
    "FastProdError",
    "InvalidTopicError",
    "KafkaError",
    "KafkaTimeoutError",
    "Producer",
    "ProducerClosedError",
    "ProducerForkedError",
    "ProducerRecord",
    "QueueFullError",
    "RecordMetadata",
    "SerializationError",
    "ThrottleEvent",
    "TimestampType",
    "TopicPartition",
    "__version__",
    "librdkafka_version",
]
