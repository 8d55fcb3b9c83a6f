"""close() from the caller's side: later calls raise ProducerClosedError, closing twice is fine,
the context manager flushes, and close(timeout) returns in time with every future resolved."""

import time

import pytest

import fastprod
from fastprod import errors


def test_send_after_close_raises(make_producer):
    p = make_producer()
    p.close()
    assert p.closed
    with pytest.raises(errors.ProducerClosedError):
        p.send("t1", b"v")
    with pytest.raises(errors.ProducerClosedError):
        p.flush()
    p.close()  # idempotent


def test_context_manager_flushes(make_producer):
    with make_producer() as p:
        futures = [p.send("t1", b"v") for _ in range(100)]
    assert all(f.succeeded() for f in futures) and p.closed


def test_flush_timeout_and_close_resolves_every_future():
    p = fastprod.Producer("127.0.0.1:1", config={"log_level": 0})
    futures = [p.send("t1", b"v") for _ in range(50)]
    with pytest.raises(errors.KafkaTimeoutError, match="50 records"):
        p.flush(0.3)
    t0 = time.monotonic()
    p.close(0.5)
    assert time.monotonic() - t0 < 0.5 + 0.5  # close(timeout) returns within timeout + 0.5 s
    assert all(f.done() and f.failed() for f in futures)
    assert isinstance(futures[0].exception(), errors.KafkaError)
