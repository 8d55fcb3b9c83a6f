"""Delivery futures: the future protocol (callbacks, errbacks, add_both, done callbacks, a late
callback), the Kafka error of a failed record, a raising callback surfacing in flush(), no waiting
from inside a callback, and get(timeout)."""

import pytest

import fastprod
from fastprod import errors
from fastprod.records import RecordMetadata


def test_future_protocol(make_producer):
    p = make_producer()
    f = p.send("t1", b"v")
    seen = {}
    f.add_callback(lambda md: seen.setdefault("callback", md))
    f.add_callback(lambda tag, md, extra=None: seen.setdefault("args", (tag, md.topic, extra)),
                   "tag", extra=1)
    f.add_errback(lambda exc: seen.setdefault("errback", exc))
    f.add_done_callback(lambda fut: seen.setdefault("done", fut))
    md = f.result(timeout=30)
    p.flush(10)
    assert f.done() and f.is_done and f.succeeded() and not f.failed()
    assert f.exception() is None and not f.cancel() and not f.cancelled()
    assert seen["callback"] == md and seen["args"] == ("tag", "t1", 1) and seen["done"] is f
    assert "errback" not in seen
    late = []
    f.add_callback(late.append)  # already done: runs at once in this thread
    assert late == [md]


def test_add_both_sees_either_outcome(make_producer):
    p = make_producer()
    got = []
    p.send("t1", b"v").add_both(got.append)
    p.send("t1", b"v", partition=99).add_both(lambda tag, outcome: got.append((tag, outcome)), "bad")
    p.flush(30)
    assert len(got) == 2
    md = next(g for g in got if isinstance(g, RecordMetadata))
    tag, exc = next(g for g in got if isinstance(g, tuple) and g[0] == "bad")
    assert md.topic == "t1" and isinstance(exc, errors.UnknownPartitionError)


def test_errback_receives_the_kafka_error(make_producer):
    p = make_producer()
    got = []
    f = p.send("t1", b"v", partition=99)
    f.add_errback(got.append)
    f.add_callback(lambda md: got.append("wrong"))
    with pytest.raises(errors.UnknownPartitionError):
        f.get(timeout=30)
    p.flush(10)
    assert len(got) == 1 and isinstance(got[0], errors.KafkaError) and f.failed()


def test_raising_callback_does_not_stop_others_and_resurfaces_in_flush(make_producer, caplog):
    p = make_producer()
    boom = ValueError("boom")

    def bad(md):
        raise boom

    first = p.send("t1", b"a")
    first.add_callback(bad)
    second = p.send("t1", b"b")
    delivered = []
    second.add_callback(delivered.append)
    with pytest.raises(ValueError, match="boom"):
        p.flush(30)
    assert second.succeeded() and len(delivered) == 1
    assert any("boom" in r.getMessage() for r in caplog.records)
    p.flush(30)  # raised once, then cleared


def test_wait_from_a_callback_is_refused(make_producer):
    p = make_producer()
    caught = []

    def waits(md):
        try:
            p.flush(1)
        except errors.FastProdError as exc:
            caught.append(exc)

    p.send("t1", b"v").add_callback(waits)
    p.flush(30)
    assert len(caught) == 1 and "delivery callback" in str(caught[0])


def test_get_timeout():
    p = fastprod.Producer("127.0.0.1:1", config={"log_level": 0})
    try:
        with pytest.raises(errors.KafkaTimeoutError):
            p.send("t1", b"v").get(timeout=0.2)
    finally:
        p.close(0)
