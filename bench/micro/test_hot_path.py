"""Micro benchmarks of the record path, no broker: `make bench-micro` (pytest-benchmark).

Each round queues ROUND records of 100 B into a producer on librdkafka's in-process mock cluster
whose topic metadata is already known, after flushing the previous round outside the timing.
The figure is the caller's time per record (serialize, partition, enqueue); the mock cluster's
threads deliver meanwhile, as a broker's client threads would. confluent-kafka's produce() runs
the same loop on its own mock cluster for scale.
"""

from __future__ import annotations

import os

import confluent_kafka
import pytest

import fastprod

ROUND = 20_000
MOCK = {"test.mock.num.brokers": 1, "log_level": 4}
VALUES = [os.urandom(100) for _ in range(ROUND)]
KEYS = [b"key-%d" % i for i in range(ROUND)]


@pytest.fixture
def producer(request):
    kwargs = getattr(request, "param", {})
    p = fastprod.Producer(config=MOCK, buffer_memory=256 * 1024 * 1024, **kwargs)
    p.partitions_for("micro")
    yield p
    p.close(30)


def per_record(benchmark, target, setup):
    benchmark.pedantic(target, setup=setup, rounds=15, warmup_rounds=1)
    benchmark.extra_info["ns_per_record_median"] = benchmark.stats.stats.median / ROUND * 1e9
    benchmark.extra_info["ns_per_record_min"] = benchmark.stats.stats.min / ROUND * 1e9


def test_send_keyless_dropped(benchmark, producer):
    send = producer.send

    def target():
        for v in VALUES:
            send("micro", v)
    per_record(benchmark, target, lambda: producer.flush(60))


def test_send_keyed_futures_kept(benchmark, producer):
    send = producer.send

    def target():
        return [send("micro", v, key=k) for v, k in zip(VALUES, KEYS)]
    per_record(benchmark, target, lambda: producer.flush(60))


@pytest.mark.parametrize("producer", [{"partitioner": "xxhash"}, {"partitioner": "round_robin"}],
                         indirect=True, ids=["xxhash", "round_robin"])
def test_send_keyed_other_partitioners(benchmark, producer):
    send = producer.send

    def target():
        for v, k in zip(VALUES, KEYS):
            send("micro", v, key=k)
    per_record(benchmark, target, lambda: producer.flush(60))


def test_send_with_headers(benchmark, producer):
    send = producer.send
    headers = [("trace", b"0123456789abcdef"), ("source", b"bench")]

    def target():
        for v, k in zip(VALUES, KEYS):
            send("micro", v, key=k, headers=headers)
    per_record(benchmark, target, lambda: producer.flush(60))


def test_send_batch_keyed(benchmark, producer):
    per_record(benchmark, lambda: producer.send_batch("micro", VALUES, keys=KEYS),
               lambda: producer.flush(60))


def test_confluent_produce_keyed(benchmark):
    p = confluent_kafka.Producer({**MOCK, "linger.ms": 5, "partitioner": "murmur2_random",
                                  "queue.buffering.max.kbytes": 262144})
    p.produce("micro", b"warm-up")
    p.flush(30)
    produce = p.produce

    def target():
        for v, k in zip(VALUES, KEYS):
            produce("micro", v, k)
    per_record(benchmark, target, lambda: p.flush(60))
    p.flush(60)
