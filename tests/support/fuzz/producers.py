"""The producers the fuzzer calls: one per pairing of key and value serializer kinds, on
librdkafka's mock cluster, each knowing the partitions of its WARM_TOPICS before the first call."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import msgspec

import fastprod
from fastprod.errors import KafkaTimeoutError
from tests.support.fuzz.user_code import (CallableSerializer, IntoSerializer, NESTED_KEY,
                                          ObeyingSerializer, ObjectSerializer)
from tests.support.mock_cluster import MOCK_CONFIG

# The producers: every kind of serializer on the key side and on the value side. "as-is" is none.

CONFIGS = {
    "plain": ("as-is", "as-is"),
    "str-json": ("str", "json"),
    "bytes-msgpack": ("bytes", "msgpack"),
    "json-str": ("json", "str"),
    "msgpack-bytes": ("msgpack", "bytes"),
    # a send from inside the value serializer must not touch the key serialized before it
    "json-object": ("json", "object"),
    "into-object": ("into", "object"),
    "object-callable": ("object", "callable"),
    "callable-into": ("callable", "into"),
}
SERIALIZERS = {"callable": CallableSerializer, "object": ObjectSerializer, "into": IntoSerializer}
ENCODERS = {"json": msgspec.json.Encoder(), "msgpack": msgspec.msgpack.Encoder()}

# Topics whose partitions every producer knows before the first example, so that no send waits
# for metadata. "..." and 249 characters are valid, at the edge of Kafka's rules.
WARM_TOPICS = ["t1", "fuzz.topic_2-x", "...", "a" * 249]


@dataclass(repr=False)
class Target:
    """A producer under test and what the oracle needs to know about it."""
    name: str
    producer: fastprod.Producer
    key_kind: str
    value_kind: str
    partitions: dict[str, int]
    serializers: list[ObeyingSerializer]

    @property
    def headers_listed(self) -> bool:
        # a kafka-python serializer gets list(headers), to append to
        return "object" in (self.key_kind, self.value_kind)

    def nested_count(self) -> int:
        return sum(len(s.nested) for s in self.serializers)

    def __repr__(self) -> str:
        return f"<Target {self.name}>"


def make_target(name: str) -> Target:
    serializers: list[ObeyingSerializer] = []

    def serializer(kind: str) -> Any:
        if kind not in SERIALIZERS:
            return None if kind == "as-is" else kind
        serializers.append(SERIALIZERS[kind]())
        return serializers[-1]

    key_kind, value_kind = CONFIGS[name]
    # max_block_ms bounds the wait before UnknownPartitionError (a fresher table might have the
    # partition); buffer_memory keeps valid records clear of waiting for space.
    producer = fastprod.Producer(config=MOCK_CONFIG, key_serializer=serializer(key_kind),
                                 value_serializer=serializer(value_kind), max_block_ms=50,
                                 buffer_memory=64 << 20)
    for s in serializers:
        s.producer = producer
        s.nested_topic = WARM_TOPICS[0]
        s.nested_key = NESTED_KEY.encode() if key_kind in ("bytes", "into") else NESTED_KEY
    for topic in WARM_TOPICS:
        producer.send(topic, None)  # asks for the topic's metadata without waiting for it
    partitions = {}
    deadline = time.monotonic() + 30
    for topic in WARM_TOPICS:
        while topic not in partitions:
            try:
                partitions[topic] = len(producer.partitions_for(topic))
            except KafkaTimeoutError:
                assert time.monotonic() < deadline, f"no metadata for {topic!r} on the mock cluster"
    producer.flush(30)
    return Target(name, producer, key_kind, value_kind, partitions, serializers)
