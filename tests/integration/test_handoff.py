"""Timestamps through the drain thread's two ways to librdkafka (produce_batch for runs of plain
records, producev for the rest), read back from a real broker: a caller's timestamp exactly, and
without one the time of send()."""

import time

import fastprod
from tests.support.topics import consume, create_topic, unique_topic

# A run goes to produce_batch only within the millisecond its records were sent in, so a
# timestamp is the send() time; only a drain thread descheduled between its look at the clock
# and produce_batch's own could stamp later: allowed for, so that a loaded machine cannot fail this.
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
    consumed = [c for c in consume(bootstrap, topic, 2, len(sent) + 1) if c.value in sent]
    assert len(consumed) == len(sent)
    for c in consumed:
        low, high = sent[c.value]
        assert c.timestamp_type == CREATE_TIME
        assert low <= c.timestamp <= high, (c.value, low, c.timestamp, high)
