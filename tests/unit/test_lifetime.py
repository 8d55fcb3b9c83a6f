"""Python code that runs inside send()/send_batch() (serializers, partitioners) and every wait
without the GIL may close the producer, fork, or change what send_batch() iterates: no crash, the
documented exception, nothing queued half-way (issue 12's reproducers).

The scenarios that crashed the interpreter run in a child process, so a regression fails one test
with the child's signal instead of ending the run.
"""

from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import warnings

import pytest

import fastprod
from fastprod import errors
from tests.support.mock_cluster import MockCluster

NO_BROKER = "127.0.0.1:1"  # records stay pending: nothing answers there
MOCK = '{"test.mock.num.brokers": 1, "log_level": 0}'  # a partitioner needs partitions


CHILD_PRELUDE = """\
import threading, time
import fastprod
from fastprod import errors

def threads_left_after(before):
    # the engine's threads end a little after the producer goes: give them 10 s
    deadline = time.monotonic() + 10
    while threading.active_count() > before and time.monotonic() < deadline:
        time.sleep(0.05)
    return threading.active_count() - before
"""


def run_isolated(body: str, timeout: float = 60) -> str:
    """Runs body in a fresh interpreter; returns its stdout, failing on a crash or non-zero exit."""
    code = CHILD_PRELUDE + textwrap.dedent(body)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, (
        f"child exited with {done.returncode} "
        f"({signal.Signals(-done.returncode).name if done.returncode < 0 else 'status'})\n"
        f"{done.stdout}\n{done.stderr}")
    return done.stdout


def reap_child(pid: int, timeout: float, hung: str) -> None:
    """Waits for a forked child; one still running after timeout is killed and fails the test."""
    deadline = time.monotonic() + timeout
    while not os.waitpid(pid, os.WNOHANG)[0]:
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail(hung)
        time.sleep(0.05)


@pytest.mark.parametrize("hook", ["value_serializer", "key_serializer", "partitioner"])
def test_close_from_another_thread_while_python_code_runs_in_send(hook):
    # The reproducer: close() ran while send() slept in a serializer, then send() wrote
    # into the freed engine (SIGSEGV).
    out = run_isolated(f"""
        def slow(*args):
            time.sleep(1.0)
            return 0 if {hook!r} == "partitioner" else b"v"
        p = fastprod.Producer({hook}=slow, config={MOCK})
        p.partitions_for("t")
        threading.Timer(0.3, p.close, args=(0,)).start()
        try:
            p.send("t", b"v", key=b"k")
        except errors.ProducerClosedError:
            print("closed")
    """)
    assert out.split() == ["closed"]


@pytest.mark.parametrize("hook", ["value_serializer", "key_serializer", "partitioner"])
def test_python_code_in_send_closes_its_own_producer(hook):
    # A partitioner doing this was handed "partitions 0..-947207272" (a freed table).
    out = run_isolated(f"""
        holder = []
        def closing(*args):
            holder[0].close(0)
            return 0 if {hook!r} == "partitioner" else b"v"
        p = fastprod.Producer({hook}=closing, config={MOCK})
        p.partitions_for("t")
        holder.append(p)
        try:
            p.send("t", b"v", key=b"k")
        except errors.ProducerClosedError:
            print("closed", p.closed, p.stats()["sent"], p.stats()["buffered_bytes"])
    """)
    assert out.split() == ["closed", "True", "0", "0"]


def test_close_while_send_batch_runs_a_slow_serializer():
    out = run_isolated(f"""
        def slow(v):
            time.sleep(0.05)
            return b"v%d" % v
        p = fastprod.Producer({NO_BROKER!r}, value_serializer=slow, config={{"log_level": 0}})
        threading.Timer(0.3, p.close, args=(0,)).start()
        try:
            p.send_batch("t", list(range(100)))
        except errors.ProducerClosedError as exc:
            r = exc.batch_result.wait(10)  # resolved once close() returns, in the Timer's thread
            print("closed", r.sent > 0, r.sent < 100, r.done(), r.sent == r.failed)
    """)
    assert out.split() == ["closed", "True", "True", "True", "True"]


@pytest.mark.parametrize("column", ["values", "keys", "partitions", "timestamps_ms", "headers"])
def test_serializer_that_clears_the_list_send_batch_reads(column):
    # send_batch read past the cleared list's end (freed memory) before.
    out = run_isolated(f"""
        columns = {{"values": list(range(50)), "keys": [b"k"] * 50, "partitions": [None] * 50,
                    "timestamps_ms": [None] * 50, "headers": [None] * 50}}
        def clearing(v):
            if v == 10:
                columns[{column!r}].clear()
            return b"x"
        p = fastprod.Producer({NO_BROKER!r}, value_serializer=clearing, config={{"log_level": 0}})
        values = columns.pop("values") if {column!r} != "values" else columns["values"]
        try:
            p.send_batch("t", values, **{{k: v for k, v in columns.items() if k != "values"}})
        except RuntimeError as exc:
            print(type(exc).__name__, exc.batch_result.sent, p.stats()["sent"])
        p.close(0)
    """)
    # the record whose serializer cleared the list is queued (its items were read), the next not
    assert out.split() == ["RuntimeError", "11", "11"]


def test_wait_in_a_forked_child_raises_instead_of_hanging():
    p = fastprod.Producer(NO_BROKER, config={"log_level": 0})
    try:
        future = p.send("t", b"pending at fork")
        batch = p.send_batch("t", [b"a", b"b"])
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: get()/wait() without timeout must raise, not wait forever
            codes = []
            for wait in (future.get, future.exception, batch.wait):
                try:
                    wait()
                    codes.append(1)
                except errors.ProducerForkedError:
                    codes.append(0)
                except BaseException:
                    codes.append(2)
            os.write(write, bytes(codes))
            os._exit(0)
        os.close(write)
        reap_child(pid, 20, "a wait in the forked child hung")
        assert os.read(read, 3) == b"\x00\x00\x00"
        assert not future.done()  # the parent's record is still its own
    finally:
        p.close(0)


@pytest.mark.skipif(sys.platform == "win32", reason="fork")
def test_forked_child_gets_producer_forked_error(make_producer):
    p = make_producer()
    p.send("t1", b"before").get(timeout=30)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: must raise at once (within 2 s), never hang
        code = 1
        t0 = time.monotonic()
        try:
            p.send("t1", b"child")
        except errors.ProducerForkedError:
            code = 0 if time.monotonic() - t0 < 2 else 3
        except BaseException:
            code = 2
        os.write(write, bytes([code]))
        os._exit(code)
    os.close(write)
    reap_child(pid, 10, "the forked child hung")
    assert os.read(read, 1) == b"\x00"
    assert p.send("t1", b"parent still works").get(timeout=30).topic == "t1"


def _threads_and_fds() -> tuple[int, int]:
    return threading.active_count(), len(os.listdir("/proc/self/fd"))


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts open fds from /proc")
def test_dropped_producers_are_closed_by_their_finalizer():
    gc.collect()
    threads, fds = _threads_and_fds()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        for i in range(50):
            p = fastprod.Producer(config={"test.mock.num.brokers": 1, "log_level": 0})
            if i % 5 == 0:
                p.send("t", b"v").get(10)  # one that had work
            del p
        gc.collect()
    unclosed = [w for w in caught if issubclass(w.category, ResourceWarning)]
    assert len(unclosed) == 50 and "close()" in str(unclosed[0].message)
    now_threads, now_fds = _threads_and_fds()
    assert abs(now_threads - threads) <= 1 and abs(now_fds - fds) <= 1, (
        f"threads {threads} -> {now_threads}, fds {fds} -> {now_fds}")


def test_producer_dropped_inside_its_own_delivery_callback():
    # The last reference goes on the dispatcher thread, which cannot wait for itself: the engine
    # is freed when the dispatcher's loop ends, and the threads still go away.
    out = run_isolated("""
        import gc, warnings
        warnings.simplefilter("ignore", ResourceWarning)
        before = threading.active_count()
        done = threading.Event()
        p = fastprod.Producer(config={"test.mock.num.brokers": 1, "log_level": 0})
        p.send("t", b"v").add_done_callback(lambda f: done.set())
        del p  # the pending future holds the producer until the dispatcher resolves it
        done.wait(10)
        gc.collect()
        print(threads_left_after(before))
    """)
    assert out.split() == ["0"]


@pytest.mark.parametrize("view", [memoryview(b"abcdef")[::2],
                                  memoryview(bytearray(b"abcdefgh"))[::-1]])
def test_non_contiguous_memoryview_is_a_serialization_error(make_producer, view):
    p = make_producer()
    for kwargs in ({"value": view}, {"key": view}, {"headers": [("h", view)]}):
        with pytest.raises(errors.SerializationError):
            p.send("t", **kwargs)
    released = memoryview(b"abc")
    released.release()
    with pytest.raises(errors.SerializationError):
        p.send("t", released)
    assert p.stats()["sent"] == 0


def test_queued_record_that_times_out_is_not_persisted():
    p = fastprod.Producer(NO_BROKER, delivery_timeout_ms=300, config={"log_level": 0})
    try:
        exc = p.send("t", b"v").exception(10)
        assert isinstance(exc, errors.MsgTimedOutError)
        assert exc.persistence is errors.PersistenceStatus.NOT_PERSISTED
        assert "not persisted" in str(exc)
        batch = p.send_batch("t", [b"a"]).wait(10)
        assert batch.failures[0][1].persistence is errors.PersistenceStatus.NOT_PERSISTED
    finally:
        p.close(0)


def test_record_that_times_out_in_flight_is_possibly_persisted():
    # The broker turns slow once the producer is connected: the record is sent and its answer
    # comes after the delivery timeout, so it may be in the log.
    cluster = MockCluster()
    p = fastprod.Producer(cluster.bootstrap, delivery_timeout_ms=500, linger_ms=0,
                          config={"socket.timeout.ms": 10000, "log_level": 0})
    try:
        # connecting and creating the topic may take longer than the short delivery timeout
        assert any(p.send("t", b"warm-up", partition=0).exception(20) is None for _ in range(10))
        cluster.set_rtt(1, 3000)
        exc = p.send("t", b"v", partition=0).exception(20)
        assert isinstance(exc, errors.MsgTimedOutError)
        assert exc.persistence is errors.PersistenceStatus.POSSIBLY_PERSISTED
        assert "may be in the log" in str(exc)
    finally:
        p.close(0)
        cluster.close()


def test_synchronous_errors_carry_no_persistence(make_producer):
    p = make_producer(max_request_size=1000)
    with pytest.raises(errors.MessageSizeTooLargeError) as info:
        p.send("t", b"x" * 2000)
    assert info.value.persistence is None


# ---- found by review of the first fixes --------------------------------------------------------

def test_future_is_alive_when_its_record_resolves_inside_send():
    # What the serializer returned is released after the ring write; its __del__ closes the
    # producer, so the record resolves before send() returns: the future must still be valid.
    out = run_isolated(f"""
        holder = {{}}
        class Closing(bytes):
            def __del__(self):
                if not holder["p"].closed:
                    holder["p"].close(0)
        p = fastprod.Producer({NO_BROKER!r}, value_serializer=lambda v: Closing(b"v"),
                              config={{"log_level": 0}})
        holder["p"] = p
        f = p.send("t", 1)
        print(f.done(), type(f.exception(1)).__name__, repr(f).startswith("<DeliveryFuture"))
    """)
    assert out.split() == ["True", "PurgeQueueError", "True"]


@pytest.mark.parametrize("call", ["get", "flush"])
def test_timeout_whose_float_closes_the_producer(call):
    out = run_isolated(f"""
        holder = {{}}
        class Closing:
            def __float__(self):
                holder["p"].close(0)
                return 1.0
        p = fastprod.Producer({NO_BROKER!r}, config={{"log_level": 0}})
        holder["p"] = p
        f = p.send("t", b"v")
        try:
            {"print(type(f.exception(Closing())).__name__)" if call == "get" else "p.flush(Closing())"}
        except errors.ProducerClosedError:
            print("closed")
    """)
    assert out.split() == (["PurgeQueueError"] if call == "get" else ["closed"])


def test_child_of_a_serializer_that_closed_and_forked_does_not_free_the_parents_engine():
    out = run_isolated(f"""
        import os
        state = {{}}
        def closing_then_forking(v):
            state["p"].close(0)
            state["pid"] = os.fork()
            return b"v"
        p = fastprod.Producer({NO_BROKER!r}, value_serializer=closing_then_forking,
                              config={{"log_level": 0}})
        state["p"] = p
        try:
            p.send("t", 1)
        except (errors.ProducerClosedError, errors.ProducerForkedError) as exc:
            if state["pid"] == 0:
                os._exit(0)
        status = os.waitpid(state["pid"], 0)[1]
        print(os.waitstatus_to_exitcode(status))
    """)
    assert out.split() == ["0"]


def test_producer_in_a_cycle_dropped_while_warnings_are_errors():
    # __del__'s warning raises; the GC then clears the cycle: __dealloc__ still stops and frees it.
    out = run_isolated("""
        import gc, warnings
        warnings.simplefilter("error", ResourceWarning)
        before = threading.active_count()
        p = fastprod.Producer(config={"test.mock.num.brokers": 1, "log_level": 0})
        p.send("t", b"v").get(10)
        cycle = [p]
        cycle.append(cycle)
        del p, cycle
        gc.collect()
        print(threads_left_after(before))
    """)
    assert out.split() == ["0"]


def test_a_raising_logging_filter_does_not_end_the_dispatcher(make_producer, caplog):
    import logging

    class Broken(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            raise RuntimeError("a broken filter")

    logger = logging.getLogger("fastprod")
    broken = Broken()
    logger.addFilter(broken)
    try:
        p = make_producer()
        p.send("t", b"v").add_callback(lambda md: 1 / 0)
        assert p.send("t", b"w").get(10).offset >= 0  # the dispatcher still resolves records
        with pytest.raises(ZeroDivisionError):
            p.flush(10)
    finally:
        logger.removeFilter(broken)


def test_close_deadline_holds_while_librdkafkas_queue_refuses_records():
    p = fastprod.Producer(NO_BROKER, delivery_timeout_ms=60_000,
                          config={"queue.buffering.max.messages": 10, "log_level": 0})
    futures = [p.send("t", b"v") for _ in range(100)]
    started = time.monotonic()
    p.close(0)
    assert time.monotonic() - started < 5
    assert all(isinstance(f.exception(0), (errors.PurgeQueueError, errors.PurgeInflightError))
               for f in futures)


@pytest.mark.parametrize("timeout", ["soon", float("nan")])
def test_bad_close_timeout_leaves_the_producer_open(make_producer, timeout):
    p = make_producer()
    with pytest.raises((TypeError, ValueError)):
        p.close(timeout)
    assert not p.closed
    assert p.send("t", b"v").get(10).offset >= 0


def test_infinite_timeouts_mean_no_deadline(make_producer):
    p = make_producer()
    f = p.send("t", b"v")
    p.flush(float("inf"))
    assert f.get(float("inf")).offset >= 0
    g = p.send("t", b"w")
    p.close(float("inf"))  # waits for delivery, as close(None) does
    assert g.exception(0) is None


def test_resolved_results_do_not_keep_the_producer_alive():
    import weakref
    p = fastprod.Producer(config={"test.mock.num.brokers": 1, "log_level": 0})
    future = p.send("t", b"v")
    batch = p.send_batch("t", [b"a", b"b"])
    future.get(10)
    batch.wait(10)
    alive = weakref.ref(p)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        del p
        gc.collect()
    assert alive() is None
    assert future.get(0).offset >= 0 and batch.wait(0).delivered == 2


def test_results_not_made_by_a_producer_raise_instead_of_crashing():
    with pytest.raises(errors.FastProdError):
        fastprod.DeliveryFuture().get(0)
    with pytest.raises(errors.FastProdError):
        fastprod.BatchResult().wait(0)
    assert fastprod._core.ProducerCore().stats()["sent"] == 0
