"""What a delivered record reports back, and Kafka's rules for topic names."""

from __future__ import annotations

import enum
import re
from typing import Any, NamedTuple

import msgspec

from fastprod.errors import InvalidTopicError


class TimestampType(enum.IntEnum):
    """Which clock a record's timestamp comes from (Java's TimestampType ids)."""

    NO_TIMESTAMP_TYPE = -1
    CREATE_TIME = 0      #: set by the producer (send()'s timestamp_ms, or the time of send())
    LOG_APPEND_TIME = 1  #: set by the broker, for topics with message.timestamp.type=LogAppendTime


class TopicPartition(NamedTuple):
    """A topic and one of its partitions (kafka-python's TopicPartition)."""

    topic: str
    partition: int


class ThrottleEvent(NamedTuple):
    """A broker delayed this producer's requests for its quota (confluent-kafka's
    ThrottleEvent): ``throttle_time`` in seconds."""

    broker_name: str
    broker_id: int
    throttle_time: float


class RecordMetadata(NamedTuple):
    """Where and when the broker stored a record: Java's RecordMetadata, with kafka-python's
    ``serialized_header_size``, ``topic_partition`` and ``checksum`` (kafka-python's positional
    order differs: use the names)."""

    topic: str
    partition: int
    offset: int             #: -1 when acks=0
    timestamp: int          #: ms since the epoch; the broker's time for LOG_APPEND_TIME topics
    timestamp_type: TimestampType
    serialized_key_size: int     #: -1 for a null key
    serialized_value_size: int   #: -1 for a null value
    serialized_header_size: int  #: bytes of header names and values; -1 without headers

    @property
    def topic_partition(self) -> TopicPartition:
        """``TopicPartition(topic, partition)``."""
        return TopicPartition(self.topic, self.partition)

    @property
    def checksum(self) -> None:
        """Always None: record batches since Kafka 0.11 (v2) have no per-record checksum
        (kafka-python says None for them too)."""
        return None


class ProducerRecord(msgspec.Struct):
    """One record to send: ``producer.send(record)`` or ``producer.send_batch(records)``.

    Fields are send()'s arguments: ``topic``; ``value`` and ``key`` (through the producer's
    serializers; None stays null); ``partition`` (None: the partitioner decides); ``timestamp_ms``
    (None: now); ``headers`` as ``(name, value)`` pairs or a dict.
    """

    topic: str
    value: Any = None
    key: Any = None
    partition: int | None = None
    timestamp_ms: int | None = None
    headers: list[tuple[str, bytes | str | None]] | dict[str, bytes | str | None] | None = None


_MAX_TOPIC_LENGTH = 249
_TOPIC_CHARS = re.compile(r"[a-zA-Z0-9._-]+")


def check_topic_name(topic: str) -> None:
    """Raise InvalidTopicError unless Kafka accepts ``topic`` as a topic name."""
    if topic in ("", ".", ".."):
        raise InvalidTopicError(f"invalid topic name {topic!r}")
    if len(topic) > _MAX_TOPIC_LENGTH:
        raise InvalidTopicError(
            f"topic name is {len(topic)} characters long; Kafka allows {_MAX_TOPIC_LENGTH}")
    if not _TOPIC_CHARS.fullmatch(topic):
        raise InvalidTopicError(
            f"topic name {topic!r} has characters other than ASCII letters, digits, '.', '_', '-'")
