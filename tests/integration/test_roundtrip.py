"""Records sent by fastprod to a real broker, consumed back and compared field by field."""

import random
import time

import confluent_kafka
import pytest

import fastprod
from fastprod.records import TimestampType
from tests.support.topics import consume, create_topic, unique_topic

PARTITIONS = 4
N = 10_000


def _record(i: int, rng: random.Random) -> dict:
    """A varied record: null/empty/large values, null keys, headers, explicit partitions and times."""
    value = None if i % 997 == 0 else (b"" if i % 991 == 0 else rng.randbytes(rng.randrange(0, 3000)))
    key = None if i % 5 == 0 else f"key-{i % 1500}".encode()
    headers = [("i", str(i).encode()), ("kind", b"even" if i % 2 == 0 else b"odd")]
    if i % 7 == 0:
        headers.append(("nullable", None))
    return {
        "value": value,
        "key": key,
        # keyless records need an explicit partition to be placed deterministically in this test
        "partition": (i % PARTITIONS) if key is None or i % 3 == 0 else None,
        "timestamp_ms": 1_700_000_000_000 + i,
        "headers": headers,
    }


def test_ten_thousand_records_come_back_identical_and_in_order(bootstrap):
    topic = create_topic(bootstrap, unique_topic("roundtrip"), PARTITIONS)
    rng = random.Random(42)
    sent = [_record(i, rng) for i in range(N)]
    with fastprod.Producer(bootstrap) as producer:
        futures = [producer.send(topic, **r) for r in sent]
        producer.flush(120)
    metadata = [f.get(timeout=0) for f in futures]

    for r, md in zip(sent, metadata):
        assert md.topic == topic
        if r["partition"] is not None:
            assert md.partition == r["partition"]
        else:  # Java-compatible murmur2 key partitioning
            assert md.partition == confluent_kafka.murmur2(r["key"], PARTITIONS)
        assert md.timestamp == r["timestamp_ms"] and md.timestamp_type is TimestampType.CREATE_TIME
        assert md.serialized_key_size == (-1 if r["key"] is None else len(r["key"]))
        assert md.serialized_value_size == (-1 if r["value"] is None else len(r["value"]))

    consumed = consume(bootstrap, topic, PARTITIONS, N)
    assert len(consumed) == N, "lost or duplicated records"
    by_index = {int(dict(c.headers)["i"]): c for c in consumed}
    assert sorted(by_index) == list(range(N))
    for i, (r, md) in enumerate(zip(sent, metadata)):
        c = by_index[i]
        assert (c.partition, c.offset) == (md.partition, md.offset)
        assert c.key == r["key"]
        assert c.value == r["value"]  # None stays None, b"" stays b""
        assert c.headers == r["headers"]
        assert (c.timestamp_type, c.timestamp) == (confluent_kafka.TIMESTAMP_CREATE_TIME,
                                                   r["timestamp_ms"])
    for p in range(PARTITIONS):
        in_log = [int(dict(c.headers)["i"]) for c in sorted(consumed, key=lambda c: c.offset)
                  if c.partition == p]
        assert in_log == sorted(in_log), f"partition {p} is not in send() order"


def test_log_append_time_topic_reports_the_broker_time(bootstrap):
    topic = create_topic(bootstrap, unique_topic("lat"), 1,
                         config={"message.timestamp.type": "LogAppendTime"})
    with fastprod.Producer(bootstrap) as producer:
        before = int(time.time() * 1000)
        md = producer.send(topic, b"v", timestamp_ms=1_000).get(timeout=30)
        after = int(time.time() * 1000)
    assert md.timestamp_type is TimestampType.LOG_APPEND_TIME
    assert before - 1000 <= md.timestamp <= after + 1000  # broker clock, not the 1000 we sent
    [c] = consume(bootstrap, topic, 1, 1)
    assert (c.timestamp_type, c.timestamp) == (confluent_kafka.TIMESTAMP_LOG_APPEND_TIME, md.timestamp)


def test_default_topic_reports_the_producer_time(bootstrap):
    topic = create_topic(bootstrap, unique_topic("ct"), 1)
    with fastprod.Producer(bootstrap) as producer:
        before = int(time.time() * 1000)
        implicit = producer.send(topic, b"a")
        after = int(time.time() * 1000)
        explicit = producer.send(topic, b"b", timestamp_ms=123_456_789)
        md_implicit, md_explicit = implicit.get(30), explicit.get(30)
    assert md_implicit.timestamp_type is TimestampType.CREATE_TIME
    assert before <= md_implicit.timestamp <= after  # taken when send() was called
    assert (md_explicit.timestamp, md_explicit.timestamp_type) == (123_456_789, TimestampType.CREATE_TIME)
    consumed = consume(bootstrap, topic, 1, 2)
    assert [c.timestamp for c in consumed] == [md_implicit.timestamp, 123_456_789]


def test_acks_zero_has_no_offsets(bootstrap):
    topic = create_topic(bootstrap, unique_topic("acks0"), 1)
    with fastprod.Producer(bootstrap, acks=0) as producer:
        md = producer.send(topic, b"v").get(timeout=30)
    assert md.offset == -1
    assert [c.value for c in consume(bootstrap, topic, 1, 1)] == [b"v"]


@pytest.mark.parametrize("acks", [1, "all"])
def test_callbacks_see_every_record_once(bootstrap, acks):
    topic = create_topic(bootstrap, unique_topic("cb"), 2)
    seen = []
    with fastprod.Producer(bootstrap, acks=acks) as producer:
        for i in range(5000):
            producer.send(topic, b"%d" % i, key=b"%d" % i).add_callback(
                lambda md, i=i: seen.append((i, md.partition, md.offset)))
    assert sorted(i for i, _, _ in seen) == list(range(5000))
    assert len({(p, o) for _, p, o in seen}) == 5000


def test_unknown_topic_with_auto_create_is_created(bootstrap):
    # The local broker auto-creates topics, as Kafka's default config does.
    topic = unique_topic("auto")
    with fastprod.Producer(bootstrap) as producer:
        md = producer.send(topic, b"v").get(timeout=60)
    assert md.topic == topic and md.offset == 0


def test_small_ring_wraps_around_and_keeps_every_record_in_order(bootstrap):
    """A 64 KiB buffer.memory makes the ring wrap constantly; records over a quarter of it take
    the external path. Everything must come back byte-identical, in send() order."""
    topic = create_topic(bootstrap, unique_topic("wrap"), 1)
    rng = random.Random(7)
    sizes = [rng.choice([0, 1, 7, 100, 999, 5000, 20_000, 40_000]) for _ in range(3000)]
    values = [rng.randbytes(n) for n in sizes]
    with fastprod.Producer(bootstrap, buffer_memory=64 * 1024) as producer:
        futures = [producer.send(topic, v, key=b"%d" % i) for i, v in enumerate(values)]
        producer.flush(120)
        assert producer.stats()["buffered_bytes"] == 0
    assert [f.get(0).offset for f in futures] == list(range(len(values)))
    consumed = consume(bootstrap, topic, 1, len(values))
    assert [c.key for c in consumed] == [b"%d" % i for i in range(len(values))]
    assert [c.value for c in consumed] == values


def test_send_and_forget_records_come_back_identical_and_in_order(bootstrap):
    topic = create_topic(bootstrap, unique_topic("forget"), PARTITIONS)
    lost = []
    with fastprod.Producer(bootstrap, on_delivery_error=lambda e, r: lost.append(e)) as producer:
        for i in range(N):
            producer.send_and_forget(topic, b"value-%d" % i, key=b"key-%d" % (i % 100))
        producer.flush(60)
        stats = producer.stats()
    assert lost == [] and (stats["sent"], stats["delivered"], stats["failed"]) == (N, N, 0)
    consumed = consume(bootstrap, topic, PARTITIONS, N)
    assert len(consumed) == N
    by_key: dict[bytes, list[int]] = {}
    for c in sorted(consumed, key=lambda c: (c.partition, c.offset)):
        i = int(c.value.split(b"-")[1])
        assert c.key == b"key-%d" % (i % 100)
        by_key.setdefault(c.key, []).append(i)
    # every record once, and each key's records in send() order (one partition per key)
    assert sorted(i for seq in by_key.values() for i in seq) == list(range(N))
    assert all(seq == sorted(seq) for seq in by_key.values())
