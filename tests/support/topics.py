"""Topics on a real broker for the integration suites: unique names, creating a topic and waiting
for its leaders, reading every record back."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic


@dataclass
class Consumed:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes | None]]
    timestamp_type: int  # confluent_kafka's: 1 create time, 2 log append time
    timestamp: int


def unique_topic(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def create_topic(bootstrap: str, name: str, partitions: int = 1, replication: int = 1,
                 config: dict[str, str] | None = None) -> str:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    futures = admin.create_topics([NewTopic(name, num_partitions=partitions,
                                            replication_factor=replication, config=config or {})],
                                  operation_timeout=30)
    futures[name].result(timeout=60)
    # Wait until every partition has a leader, so the first send does not race topic creation.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        md = admin.list_topics(name, timeout=10).topics.get(name)
        if md is not None and md.error is None and len(md.partitions) == partitions and all(
                p.leader >= 0 for p in md.partitions.values()):
            return name
        time.sleep(0.1)
    raise TimeoutError(f"topic {name} has no leaders after 30 s")


def consume(bootstrap: str, topic: str, partitions: int, expected: int,
            timeout_s: float = 60.0) -> list[Consumed]:
    """Read every partition of topic from the beginning until `expected` records came back."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"verify-{uuid.uuid4().hex}",
                         "enable.auto.commit": False, "enable.partition.eof": False})
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(partitions)])
    out: list[Consumed] = []

    def take(timeout: float) -> None:
        for msg in consumer.consume(num_messages=10000, timeout=timeout):
            if msg.error():
                raise RuntimeError(f"consume error: {msg.error()}")
            ts_type, ts = msg.timestamp()
            out.append(Consumed(msg.topic(), msg.partition(), msg.offset(), msg.key(),
                                msg.value(), list(msg.headers() or []), ts_type, ts))

    deadline = time.monotonic() + timeout_s
    try:
        while len(out) < expected and time.monotonic() < deadline:
            take(0.5)
        take(1.0)  # anything beyond `expected` is a duplicate or phantom; let it show up
    finally:
        consumer.close()
    return out
