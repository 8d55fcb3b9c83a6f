"""Timestamps through the drain thread's two ways to librdkafka (produce_batch for runs of plain
records, producev for the rest), read back from a real broker: a caller's timestamp exactly, and
without one the time of send(), give or take the drain thread's slack."""

import time

import fastprod
from tests.support.topics import consume, create_topic, unique_topic

# FP_RUN_TIME_SLACK_MS (5 ms in src_ext/engine/drain.c), plus however long the drain thread is
# descheduled between its look at the clock and produce_batch's own: generous on a loaded machine.
LATE_MS = 100
CREATE_TIME = 1  # confluent_kafka's TIMESTAMP_CREATE_TIME


def test_timestamps_are_the_callers_or_the_send_time(bootstrap):
    topic = create_topic(bootstrap, unique_topic("handoff"), 2)
    sent: dict[bytes, tuple[int, int]] = {}  # value: the earliest and latest time it may carry
    with fastprod.Producer(bootstrap) as producer:
        producer.send(topic, b"warm-up").get(30)
        for i in range(3000):
            value = b"%d" % i
            if i % 10 == 0:
                ts = 1_700_000_000_000 + i
                producer.send(topic, value, timestamp_ms=ts, partition=i % 2)
                sent[value] = (ts, ts)
            else:
                before = time.time_ns() // 1_000_000
                producer.send(topic, value, partition=i % 2)
                after = time.time_ns() // 1_000_000
                sent[value] = (before, after + LATE_MS)
        producer.flush(60)
        batched = producer.stats()["batched_records"]
    assert batched > 0, "no record went through produce_batch"
    consumed = [c for c in consume(bootstrap, topic, 2, len(sent) + 1) if c.value in sent]
    assert len(consumed) == len(sent)
    for c in consumed:
        low, high = sent[c.value]
        assert c.timestamp_type == CREATE_TIME
        assert low <= c.timestamp <= high, (c.value, low, c.timestamp, high)
