"""Issue 12's reproducers on the real broker: records keep their own bytes when several threads
(or a serializer) send at once, and a record the topic would refuse for its timestamp fails alone.
"""

from __future__ import annotations

import threading
import time

import msgspec
import pytest
from confluent_kafka import Producer as ConfluentProducer

import fastprod
from fastprod import errors
from tests.support.topics import consume, create_topic, unique_topic

HOUR_MS = 3_600_000


def _send_json_from_threads(bootstrap: str, topic: str, threads: int, per_thread: int,
                            padded: bool) -> list[BaseException]:
    """The issue's reproducer: threads share one producer whose json serializer encoded into
    one reused buffer; values are keyed by their own key (and padded to vary in length)."""
    failures: list[BaseException] = []
    p = fastprod.Producer(bootstrap, value_serializer="json", key_serializer="str",
                          buffer_memory=262144)

    def work(t: int) -> None:
        try:
            for i in range(per_thread):
                key = "t%d-%06d" % (t, i)
                value = {"key": key, "pad": "x" * (i % 7)} if padded else {"key": key}
                p.send(topic, value, key=key)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            failures.append(exc)

    workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    p.close()
    return failures


@pytest.mark.parametrize("padded", [False, True], ids=["same-length", "varying-length"])
def test_json_values_sent_from_threads_carry_their_own_key(bootstrap, padded):
    topic = create_topic(bootstrap, unique_topic("safety"), partitions=3)
    threads, per_thread = 4, 10_000
    assert _send_json_from_threads(bootstrap, topic, threads, per_thread, padded) == []
    records = consume(bootstrap, topic, 3, threads * per_thread)
    assert len(records) == threads * per_thread
    wrong = [r for r in records if msgspec.json.decode(r.value)["key"] != r.key.decode()]
    assert wrong == []
    assert len({r.key for r in records}) == threads * per_thread


def test_serializer_that_sends_does_not_change_the_outer_records_key(bootstrap):
    # Deterministic, one thread: the inner send() encodes its key while the outer one holds its
    # own encoded key, which lived in the same reused buffer before.
    topic = create_topic(bootstrap, unique_topic("safety"))
    holder: list[fastprod.Producer] = []

    def value_serializer(value: str) -> bytes:
        if value == "outer":
            holder[0].send(topic, "inner", key={"id": "inner-key-longer"})
        return value.encode()

    with fastprod.Producer(bootstrap, key_serializer="json",
                           value_serializer=value_serializer) as p:
        holder.append(p)
        p.send(topic, "outer", key={"id": "outer"}).get(30)
    by_value = {r.value: r.key for r in consume(bootstrap, topic, 1, 2)}
    assert by_value == {b"outer": b'{"id":"outer"}', b"inner": b'{"id":"inner-key-longer"}'}


def _send_around(p: fastprod.Producer, topic: str, bad_timestamp: int) -> list[fastprod.DeliveryFuture]:
    """20 good records, the bad one (refused by send()), 20 good ones, all to partition 0."""
    futures = [p.send(topic, b"before-%d" % i, partition=0) for i in range(20)]
    with pytest.raises(errors.InvalidTimestampError) as info:
        p.send(topic, b"bad", partition=0, timestamp_ms=bad_timestamp)
    assert info.value.persistence is None
    futures += [p.send(topic, b"after-%d" % i, partition=0) for i in range(20)]
    return futures


def test_record_timestamped_past_the_topics_future_bound_fails_alone(bootstrap):
    # Kafka 4's default message.timestamp.after.max.ms is one hour.
    topic = create_topic(bootstrap, unique_topic("ts-after"))
    with fastprod.Producer(bootstrap, linger_ms=200) as p:
        p.partitions_for(topic)
        futures = _send_around(p, topic, int(time.time() * 1000) + 2 * HOUR_MS)
        near = p.send(topic, b"near", partition=0,
                      timestamp_ms=int(time.time() * 1000) + HOUR_MS - 60_000)
        assert all(f.get(30).offset >= 0 for f in [*futures, near])
    assert len(consume(bootstrap, topic, 1, 41)) == 41


def test_record_older_than_the_topics_past_bound_fails_alone_even_before_metadata(bootstrap):
    topic = create_topic(bootstrap, unique_topic("ts-before"),
                         config={"message.timestamp.before.max.ms": str(HOUR_MS)})
    with fastprod.Producer(bootstrap, linger_ms=200) as p:
        # No partitions_for first: a far-off timestamp waits for the topic's bounds.
        with pytest.raises(errors.InvalidTimestampError, match="before.max.ms"):
            p.send(topic, b"old", timestamp_ms=int(time.time() * 1000) - 2 * HOUR_MS)
        futures = _send_around(p, topic, int(time.time() * 1000) - 2 * HOUR_MS)
        assert all(f.get(30).offset >= 0 for f in futures)


def test_log_append_time_topic_takes_any_timestamp(bootstrap):
    topic = create_topic(bootstrap, unique_topic("ts-append"),
                         config={"message.timestamp.type": "LogAppendTime"})
    with fastprod.Producer(bootstrap) as p:
        md = p.send(topic, b"v", timestamp_ms=int(time.time() * 1000) + 10 * HOUR_MS).get(30)
    assert md.timestamp_type == fastprod.TimestampType.LOG_APPEND_TIME


def test_without_the_check_the_bad_timestamp_fails_its_whole_batch(bootstrap):
    # Why send() refuses it: librdkafka (confluent-kafka here) sends it in one batch with its
    # neighbours, and the broker refuses the batch.
    topic = create_topic(bootstrap, unique_topic("ts-control"))
    errors_seen: list[object] = []
    p = ConfluentProducer({"bootstrap.servers": bootstrap, "linger.ms": 200,
                           "enable.idempotence": True})
    for i in range(41):
        ts = int(time.time() * 1000) + (2 * HOUR_MS if i == 20 else 0)
        p.produce(topic, b"%d" % i, partition=0, timestamp=ts,
                  on_delivery=lambda err, msg: errors_seen.append(err))
    p.flush(30)
    failed = [e for e in errors_seen if e is not None]
    assert len(errors_seen) == 41 and len(failed) > 1
    assert {e.name() for e in failed} == {"INVALID_TIMESTAMP"}
