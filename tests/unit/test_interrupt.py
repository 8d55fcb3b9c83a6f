"""Ctrl-C reaches a send(), flush(), future.get() or BatchResult.wait() blocked without the GIL
within 250 ms, and the producer stays usable (nothing half-queued, nothing leaked)."""

from __future__ import annotations

import signal
import threading
import time

import pytest

import fastprod
from fastprod import _core, errors

INTERRUPT_BOUND_S = 0.25  # the documented promise (waits are cut into 100 ms slices)


@pytest.fixture(autouse=True)
def ctrl_c_raises():
    """Python raises KeyboardInterrupt only if SIGINT was not ignored when it started, and a shell
    ignores SIGINT in the commands it runs in the background (`make test &`, nohup): install
    Python's own handler for these tests, whatever the suite inherited."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.fixture
def stuck():
    """A producer whose broker never answers: flushes and futures wait until interrupted."""
    p = fastprod.Producer("127.0.0.1:1", buffer_memory=4096, config={"log_level": 0})
    yield p
    p.close(0)


def interrupted_after(delay: float, blocking) -> float:
    """Runs blocking() in the main thread, sends it SIGINT after delay; the reaction time."""
    sent_at = []

    def fire():
        sent_at.append(time.monotonic())
        signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)

    timer = threading.Timer(delay, fire)
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            blocking()
        return time.monotonic() - sent_at[0]
    finally:
        timer.cancel()


RECORD_CHARGE = _core.RECORD_OVERHEAD + 100  # the charge of a keyless 100-byte record


def fill(p: fastprod.Producer) -> list:
    """Sends until the next record would not fit in buffer.memory (nothing is acknowledged)."""
    futures = []
    while p._held_bytes() + RECORD_CHARGE <= 4096:
        futures.append(p.send("t", b"x" * 100))
    return futures


def test_blocked_send_answers_ctrl_c_and_queues_nothing(stuck):
    futures = fill(stuck)
    held, sent = stuck._held_bytes(), stuck.stats()["sent"]
    latency = interrupted_after(0.3, lambda: stuck.send("t", b"x" * 100))
    assert latency < INTERRUPT_BOUND_S
    assert (stuck._held_bytes(), stuck.stats()["sent"]) == (held, sent)
    stuck.close(0)
    assert all(isinstance(f.exception(0), errors.KafkaError) for f in futures)


def test_blocked_flush_answers_ctrl_c(stuck):
    stuck.send("t", b"v")
    assert interrupted_after(0.3, stuck.flush) < INTERRUPT_BOUND_S
    assert stuck.send("t", b"still usable") is not None


def test_blocked_future_get_answers_ctrl_c(stuck):
    future = stuck.send("t", b"v")
    assert interrupted_after(0.3, future.get) < INTERRUPT_BOUND_S
    assert not future.done()
    stuck.close(0)
    assert isinstance(future.exception(0), errors.KafkaError)


def test_blocked_batch_wait_answers_ctrl_c(stuck):
    result = stuck.send_batch("t", [b"a", b"b"])
    assert interrupted_after(0.3, result.wait) < INTERRUPT_BOUND_S
    stuck.close(0)
    assert result.wait(0).failed == 2
