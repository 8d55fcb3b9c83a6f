"""Partitioning against a real broker: where records land, and topics that grow mid-stream."""

import collections
import time

import confluent_kafka
from confluent_kafka.admin import AdminClient, NewPartitions

import fastprod
from tests.support.topics import consume, create_topic, unique_topic


def test_keyed_and_keyless_records_land_where_expected(bootstrap):
    partitions = 6
    topic = create_topic(bootstrap, unique_topic("keyed"), partitions)
    keys = [b"user-%d" % i for i in range(3000)]
    with fastprod.Producer(bootstrap, batch_size=10_000) as producer:
        producer.partitions_for(topic)
        keyed = [producer.send(topic, b"k" * 100, key=k) for k in keys]
        keyless = [producer.send(topic, b"n" * 100) for _ in range(3000)]
        producer.flush(60)
    consumed = consume(bootstrap, topic, partitions, 6000)
    assert len(consumed) == 6000
    by_key = {c.key: c.partition for c in consumed if c.key is not None}
    assert by_key == {k: confluent_kafka.murmur2(k, partitions) for k in keys}
    assert [f.get().partition for f in keyed] == [by_key[k] for k in keys]
    # keyless: sticky per 10,000-byte batch, every partition used, shares within one batch
    keyless_counts = collections.Counter(f.get().partition for f in keyless)
    assert sorted(keyless_counts) == list(range(partitions))
    assert max(keyless_counts.values()) - min(keyless_counts.values()) <= 100


def test_partitions_added_mid_stream_are_used(bootstrap):
    topic = create_topic(bootstrap, unique_topic("grow"), 2)
    admin = AdminClient({"bootstrap.servers": bootstrap})
    sent = 0
    with fastprod.Producer(bootstrap, partitioner="round_robin", metadata_max_age_ms=1000) as producer:
        assert producer.partitions_for(topic) == {0, 1}
        before = [producer.send(topic, b"before-%d" % i) for i in range(100)]
        producer.flush(30)
        admin.create_partitions([NewPartitions(topic, 4)])[topic].result(timeout=30)
        after = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(producer.partitions_for(topic)) < 4:
            after.append(producer.send(topic, b"after-%d" % len(after)))
            time.sleep(0.01)
        after += [producer.send(topic, b"after-%d" % len(after)) for _ in range(100)]
        producer.flush(60)
        sent = len(before) + len(after)
    assert {f.get().partition for f in before} == {0, 1}
    assert {f.get().partition for f in after[-100:]} == {0, 1, 2, 3}
    consumed = consume(bootstrap, topic, 4, sent)
    assert len(consumed) == sent
    assert {c.partition for c in consumed} == {0, 1, 2, 3}
