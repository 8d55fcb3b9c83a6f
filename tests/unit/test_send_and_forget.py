"""send_and_forget(): records without a future. Delivered ones only count; failed ones reach
on_delivery_error with the record's bytes, or the log (rate-limited); bad input still raises."""

import logging
import re

import pytest

import fastprod
from fastprod import errors
from fastprod.records import ProducerRecord
from tests.support.mock_cluster import MockCluster


def test_returns_nothing_and_flush_waits_for_every_record(make_producer):
    p = make_producer()
    p.send("t", b"warm-up").get(30)
    for i in range(20_000):
        assert p.send_and_forget("t", b"v%d" % i, key=b"k%d" % (i % 7)) is None
    p.flush(30)
    stats = p.stats()
    assert (stats["sent"], stats["delivered"], stats["failed"]) == (20_001, 20_001, 0)
    assert stats["buffered_bytes"] == 0


def test_takes_a_producer_record_and_nothing_beside_it(make_producer):
    p = make_producer()
    p.send_and_forget(ProducerRecord("t", b"v", key=b"k"))
    with pytest.raises(TypeError, match=r"send_and_forget\(record\) takes no other arguments"):
        p.send_and_forget(ProducerRecord("t", b"v"), b"again")
    with pytest.raises(TypeError, match="topic must be str or a ProducerRecord"):
        p.send_and_forget(42, b"v")
    p.flush(30)
    assert p.stats()["delivered"] == 1


def test_invalid_records_raise_and_queue_nothing(make_producer):
    p = make_producer(max_request_size=1000)
    with pytest.raises(TypeError):
        p.send_and_forget("t", 12345)
    with pytest.raises(errors.MessageSizeTooLargeError):
        p.send_and_forget("t", b"x" * 2000)
    with pytest.raises(errors.InvalidTopicError):
        p.send_and_forget("bad topic", b"v")
    assert p.stats()["sent"] == 0
    p.close(10)
    with pytest.raises(errors.ProducerClosedError):
        p.send_and_forget("t", b"v")


def test_failures_reach_the_handler_with_the_serialized_record(make_producer):
    lost = []
    p = make_producer(value_serializer="json", on_delivery_error=lambda e, r: lost.append((e, r)))
    # The first record to a topic does not wait for its metadata: an explicit partition beyond
    # it fails on delivery (later ones would raise in send()).
    p.send_and_forget("t1", {"a": 1}, key=b"k1", partition=99)
    p.send_and_forget("t2", None, partition=98)
    p.send_and_forget("t3", {"ok": True})
    p.flush(30)
    assert p.stats()["failed"] == 2 and p.stats()["delivered"] == 1
    assert [type(e) for e, _ in lost] == [errors.UnknownPartitionError] * 2
    by_partition = {r.partition: r for _, r in lost}
    first = by_partition[99]
    assert (first.topic, first.key, first.value) == ("t1", b"k1", b'{"a":1}')
    assert first.headers is None
    second = by_partition[98]
    assert (second.key, second.value) == (None, None)


def test_records_that_time_out_in_librdkafka_reach_the_handler():
    # The broker turns slow after the producer connected: librdkafka's delivery report fails
    # the records (the path where the bytes come from librdkafka's message, not the ring).
    cluster = MockCluster()
    lost = []
    p = fastprod.Producer(cluster.bootstrap, delivery_timeout_ms=500, linger_ms=0,
                          on_delivery_error=lambda e, r: lost.append((e, r)),
                          config={"socket.timeout.ms": 10000, "log_level": 0})
    try:
        assert any(p.send("t", b"warm-up", partition=0).exception(20) is None for _ in range(10))
        cluster.set_rtt(1, 3000)
        for i in range(5):
            p.send_and_forget("t", b"value-%d" % i, key=b"key-%d" % i, partition=0)
        p.flush(30)
        assert sorted((r.key, r.value) for _, r in lost) == [
            (b"key-%d" % i, b"value-%d" % i) for i in range(5)]
        assert all(isinstance(e, errors.MsgTimedOutError) for e, _ in lost)
        assert all(r.partition == 0 for _, r in lost)
    finally:
        p.close(0)
        cluster.close()


def test_a_raising_handler_resurfaces_in_flush_and_the_others_still_run(make_producer):
    calls = []

    def handler(exc, record):
        calls.append(record.value)
        raise ValueError("handler failed")

    p = make_producer(on_delivery_error=handler)
    p.send_and_forget("t1", b"a", partition=99)  # first records to their topics (see above)
    p.send_and_forget("t2", b"b", partition=99)
    with pytest.raises(ValueError, match="handler failed"):
        p.flush(30)
    assert sorted(calls) == [b"a", b"b"]
    p.flush(30)  # raised once


def test_without_a_handler_failures_are_logged_with_a_count(make_producer, caplog):
    caplog.set_level(logging.ERROR, logger="fastprod")
    p = make_producer()
    for i in range(50):
        p.send_and_forget(f"t{i}", b"v", partition=99)  # first records to their topics (see above)
    p.close(30)  # the dispatcher writes what it has not logged yet before it ends
    lines = [r.getMessage() for r in caplog.records if "send_and_forget()" in r.getMessage()]
    assert lines and re.search(r"'t\d+' \[99\]", lines[0]) and "nknown partition" in lines[0]
    reported = len([line for line in lines if "failed:" in line]) + sum(
        int(m) for line in lines for m in re.findall(r"(\d+) more", line))
    assert reported == 50
    assert len(lines) <= 3  # one line per second at most, plus the count at the end
    assert p.stats()["failed"] == 50


def test_handler_must_be_callable():
    with pytest.raises(errors.ConfigError, match="on_delivery_error must be callable"):
        fastprod.Producer(config={"test.mock.num.brokers": 1}, on_delivery_error="log")
