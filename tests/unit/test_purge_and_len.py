"""confluent-kafka's controls (issue 15): len(producer) counts records not yet resolved, purge()
fails queued or in-flight records instead of waiting for them, and a timed-out flush() says how
many records it left."""

import time

import pytest

import fastprod
from fastprod import errors
from fastprod.errors import PersistenceStatus
from tests.support.mock_cluster import MockCluster

UNREACHABLE = "127.0.0.1:1"  # nothing listens: every record stays queued


def wait_for(predicate, seconds=10.0):
    deadline = time.monotonic() + seconds
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.05)
    return predicate()


def unreachable_producer(**kwargs):
    return fastprod.Producer(UNREACHABLE, config={"log_level": 0}, **kwargs)


def test_len_counts_records_until_they_resolve(make_producer):
    p = make_producer()
    assert len(p) == 0 and bool(p)  # an idle producer is still true
    futures = [p.send("t", b"v%d" % i) for i in range(500)]
    assert 0 < len(p) <= 500
    p.flush(30)
    assert len(p) == 0 and all(f.succeeded() for f in futures)
    p.close(10)
    assert len(p) == 0


def test_timed_out_flush_says_how_many_records_it_left():
    p = unreachable_producer()
    try:
        for i in range(37):
            p.send_and_forget("t", b"v%d" % i)
        with pytest.raises(errors.KafkaTimeoutError, match="with 37 records") as info:
            p.flush(0.2)
        assert info.value.unacknowledged == 37 == len(p)
    finally:
        p.close(0)


def test_purge_in_queue_fails_records_never_sent():
    p = unreachable_producer()
    try:
        futures = [p.send("t", b"v%d" % i, partition=i % 3) for i in range(200)]
        p.purge(in_queue=False, in_flight=True)  # nothing is in flight: nothing changes
        time.sleep(0.2)
        assert len(p) == 200 and not any(f.is_done for f in futures)
        p.purge(in_queue=True, in_flight=False)
        p.flush(10)
        assert len(p) == 0
        assert {type(f.exception()) for f in futures} == {errors.PurgeQueueError}
        assert {f.exception().persistence for f in futures} == {PersistenceStatus.NOT_PERSISTED}
        # the producer goes on working after a purge
        p.purge()
        p.send_and_forget("t", b"after")
        assert len(p) == 1
    finally:
        p.close(0)


def test_purge_in_flight_fails_records_awaiting_an_answer():
    cluster = MockCluster()
    p = fastprod.Producer(cluster.bootstrap, linger_ms=0, config={"log_level": 0})
    try:
        p.send("t", b"warm-up", partition=0).get(30)
        cluster.set_rtt(1, 10_000)
        futures = [p.send("t", b"v%d" % i, partition=0) for i in range(50)]
        time.sleep(1)  # the first requests are sent: the broker holds their answers for 10 s
        assert not any(f.is_done for f in futures)
        p.purge(in_queue=False, in_flight=True)
        # idempotence keeps the records behind the purged requests queued until it resets
        assert wait_for(lambda: any(f.is_done for f in futures))
        in_flight = [f for f in futures if f.is_done]
        assert {type(f.exception()) for f in in_flight} == {errors.PurgeInflightError}
        assert {f.exception().persistence for f in in_flight} == {
            PersistenceStatus.POSSIBLY_PERSISTED}
        p.purge(in_queue=True, in_flight=True)
        p.flush(10)
        assert all(isinstance(f.exception(), (errors.PurgeQueueError, errors.PurgeInflightError))
                   for f in futures)
    finally:
        p.close(0)
        cluster.close()


def test_purge_with_nothing_to_purge_and_after_close(make_producer):
    p = make_producer()
    p.purge(in_queue=False, in_flight=False)  # returns at once
    p.purge(blocking=False)
    p.send("t", b"v").get(30)
    p.close(10)
    with pytest.raises(errors.ProducerClosedError):
        p.purge()
