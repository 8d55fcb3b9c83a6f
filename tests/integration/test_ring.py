"""The ring under pressure: a writer that keeps the ring full while the drain thread frees it,
with variable-size records wrapping constantly; everything comes back identical and in order."""

import random

import fastprod
from tests.support.topics import consume, create_topic, unique_topic

N = 400_000


def test_full_ring_wraps_without_losing_or_corrupting_records(bootstrap):
    partitions = 3
    topic = create_topic(bootstrap, unique_topic("ring"), partitions)
    rng = random.Random(11)
    # index in the first 8 bytes, then filler of varying length so slots wrap at every offset
    values = [b"%08d" % i + bytes([i % 251]) * rng.randrange(0, 300) for i in range(N)]
    # buffer.memory far above the ring (a quarter of it): the ring, not the budget, fills up
    with fastprod.Producer(bootstrap, buffer_memory=8 * 1024 * 1024) as producer:
        result = producer.send_batch(topic, values, partitions=[i % partitions for i in range(N)])
        assert result.wait(120).delivered == N
    consumed = consume(bootstrap, topic, partitions, N, timeout_s=120)
    assert len(consumed) == N
    for p in range(partitions):
        in_log = [c.value for c in sorted(consumed, key=lambda c: c.offset) if c.partition == p]
        assert in_log == values[p::partitions], f"partition {p} differs"


def test_order_holds_across_librdkafka_queue_full_retries(bootstrap):
    partitions, n = 3, 60_000
    topic = create_topic(bootstrap, unique_topic("qfull"), partitions)
    values = [b"%08d" % i for i in range(n)]
    # librdkafka's own queue far below buffer.memory: records wait in the ring and are retried
    with fastprod.Producer(bootstrap, config={"queue.buffering.max.messages": 500}) as producer:
        futures = [producer.send(topic, v, key=b"k%d" % (i % 50)) for i, v in enumerate(values)]
        producer.flush(120)
        retries = producer.stats()["queue_full_retries"]
    assert retries > 0, "the test did not make librdkafka's queue overflow"
    assert all(f.succeeded() for f in futures)
    consumed = consume(bootstrap, topic, partitions, n, timeout_s=120)
    assert len(consumed) == n
    for p in range(partitions):
        in_log = [c.value for c in sorted(consumed, key=lambda c: c.offset) if c.partition == p]
        assert in_log == sorted(in_log), f"partition {p} is not in send() order"
