"""Producer behaviour on librdkafka's in-process mock cluster (no JVM, seconds)."""

import os
import signal
import sys
import threading
import time

import pytest

import fastprod
from fastprod import _core, errors
from fastprod.records import RecordMetadata, TimestampType


def test_send_returns_metadata(make_producer):
    p = make_producer()
    md = p.send("t1", b"value", key=b"key", headers=[("h", b"v")]).get(timeout=30)
    assert isinstance(md, RecordMetadata)
    assert (md.topic, md.offset, md.serialized_key_size, md.serialized_value_size) == ("t1", 0, 3, 5)
    assert md.timestamp_type in (TimestampType.CREATE_TIME, TimestampType.LOG_APPEND_TIME)


def test_null_key_and_value_sizes(make_producer):
    p = make_producer()
    md = p.send("t1", None).get(timeout=30)
    assert (md.serialized_key_size, md.serialized_value_size) == (-1, -1)
    md = p.send("t1", "", key="").get(timeout=30)
    assert (md.serialized_key_size, md.serialized_value_size) == (0, 0)


def test_str_is_utf8(make_producer):
    p = make_producer()
    md = p.send("t1", "héllo", key="ü").get(timeout=30)
    assert (md.serialized_key_size, md.serialized_value_size) == (2, 6)


def test_explicit_partition(make_producer):
    p = make_producer()
    futures = [p.send("t1", b"v", partition=i % 4) for i in range(40)]
    p.flush(30)
    assert [f.get().partition for f in futures] == [i % 4 for i in range(40)]


def test_offsets_follow_send_order_per_partition(make_producer):
    p = make_producer()
    futures = [p.send("t1", b"%d" % i, partition=1) for i in range(2000)]
    p.flush(30)
    assert [f.get().offset for f in futures] == list(range(2000))


def test_value_over_message_max_bytes_is_refused_in_send(make_producer):
    p = make_producer(config={"message.max.bytes": 1000})
    with pytest.raises(errors.MessageSizeTooLargeError, match="1000"):
        p.send("t1", b"v" * 2000)
    assert p.stats()["sent"] == 0 and p._held_bytes() == 0
    assert p.send("t1", b"v" * 900).get(30).serialized_value_size == 900


def test_partition_beyond_topic_fails_the_future(make_producer):
    p = make_producer()
    exc = p.send("t1", b"v", partition=40).exception(timeout=30)
    assert isinstance(exc, errors.UnknownPartitionError)


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


@pytest.mark.parametrize("value", [1, 1.5, object(), ["x"], {"a": 1}])
def test_value_type_is_serialization_error_naming_the_type(make_producer, value):
    p = make_producer()
    with pytest.raises(errors.SerializationError, match=type(value).__name__) as info:
        p.send("t1", value)
    assert "value" in str(info.value) and isinstance(info.value, TypeError)
    assert p._held_bytes() == 0


def test_key_type_is_serialization_error(make_producer):
    p = make_producer()
    with pytest.raises(errors.SerializationError, match="key of a record to 't1' must be .* not int"):
        p.send("t1", b"v", key=7)


def test_buffer_objects_are_copied_at_send(make_producer):
    p = make_producer()
    data = bytearray(b"abc")
    f = p.send("t1", data, key=memoryview(b"kk"))
    data[:] = b"xyz"
    md = f.get(timeout=30)
    assert (md.serialized_key_size, md.serialized_value_size) == (2, 3)


@pytest.mark.parametrize("kwargs, exc", [
    ({"topic": 5}, TypeError),
    ({"topic": ""}, errors.InvalidTopicError),
    ({"topic": "bad name"}, errors.InvalidTopicError),
    ({"partition": -1}, ValueError),
    ({"partition": "1"}, TypeError),
    ({"timestamp_ms": -5}, ValueError),
    ({"timestamp_ms": 1.5}, TypeError),
    ({"headers": "h"}, TypeError),
    ({"headers": [("h",)]}, TypeError),
    ({"headers": [(1, b"v")]}, TypeError),
    ({"headers": [("h", 5)]}, TypeError),
])
def test_bad_arguments_raise_and_enqueue_nothing(make_producer, kwargs, exc):
    p = make_producer()
    args = {"topic": "t1", "value": b"v", **kwargs}
    with pytest.raises(exc):
        p.send(**args)
    assert p._held_bytes() == 0
    assert p.send("t1", b"ok").get(timeout=30).topic == "t1"  # still usable


def test_headers_as_dict_and_null_values(make_producer):
    p = make_producer()
    p.send("t1", b"v", headers={"a": b"1", "b": None, "c": "str"}).get(timeout=30)
    p.flush(10)
    assert p._held_bytes() == 0


def test_buffer_memory_is_released_after_delivery(make_producer):
    p = make_producer()
    for i in range(5000):
        p.send("t1", b"x" * (i % 300), key=b"k%d" % i, headers=[("n", b"%d" % i)])
    p.flush(30)
    assert p._held_bytes() == 0


def test_stats_count_sent_delivered_failed(make_producer):
    p = make_producer()
    for i in range(30):
        # the first record to a new topic is not checked against its partition count (no
        # metadata yet): librdkafka fails it in delivery
        p.send("t1", b"v") if i % 3 else p.send(f"new-{i}", b"v", partition=50)
    p.flush(30)
    assert p.stats() == {"sent": 30, "delivered": 20, "failed": 10, "buffered_bytes": 0,
                         "queue_full_retries": 0}


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


UNREACHABLE = {"bootstrap_servers": "127.0.0.1:1", "delivery_timeout_ms": 1500}


def _unreachable(**kwargs):
    return fastprod.Producer(**UNREACHABLE, config={"log_level": 0}, **kwargs)


def test_unreachable_bootstrap_accepts_up_to_buffer_then_queue_full():
    p = _unreachable(buffer_memory=10_000, max_block_ms=0)
    try:
        accepted = []
        with pytest.raises(errors.QueueFullError):
            for _ in range(1000):
                accepted.append(p.send("t1", b"x" * 100))
        assert len(accepted) == 10_000 // (_core.RECORD_OVERHEAD + 100)
        for f in accepted:
            exc = f.exception(timeout=30)
            assert isinstance(exc, errors.MsgTimedOutError) and "timed out" in str(exc)
    finally:
        p.close(5)


def test_full_buffer_blocks_for_max_block_ms_then_times_out():
    p = _unreachable(buffer_memory=1_000, max_block_ms=300)
    try:
        p.send("t1", b"x" * 700)
        t0 = time.monotonic()
        with pytest.raises(errors.KafkaTimeoutError, match="max.block.ms"):
            p.send("t1", b"x" * 700)
        assert time.monotonic() - t0 >= 0.29
    finally:
        p.close(5)


def test_blocked_send_resumes_when_space_frees():
    p = _unreachable(buffer_memory=1_000, max_block_ms=30_000)
    try:
        first = p.send("t1", b"x" * 700)
        second = p.send("t1", b"x" * 700)  # waits until the first times out (1.5 s) and frees space
        # space is released when the delivery report arrives, just before the future resolves
        assert isinstance(first.exception(timeout=10), errors.MsgTimedOutError)
        assert isinstance(second.exception(timeout=30), errors.MsgTimedOutError)
    finally:
        p.close(5)


def test_record_larger_than_buffer_memory():
    p = _unreachable(buffer_memory=1_000)
    try:
        with pytest.raises(errors.MessageSizeTooLargeError, match="buffer.memory"):
            p.send("t1", b"x" * 2_000)
    finally:
        p.close(1)


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


def test_get_timeout(make_producer):
    p = fastprod.Producer("127.0.0.1:1", config={"log_level": 0})
    try:
        with pytest.raises(errors.KafkaTimeoutError):
            p.send("t1", b"v").get(timeout=0.2)
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
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.05)
    else:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        pytest.fail("the forked child hung")
    assert os.read(read, 1) == b"\x00"
    assert p.send("t1", b"parent still works").get(timeout=30).topic == "t1"


@pytest.mark.parametrize("buffer_memory", [None, 8192])
def test_many_threads_send_at_once(make_producer, buffer_memory):
    # 8 KiB: the threads keep waiting for ring and buffer space and must still keep order.
    p = make_producer(buffer_memory=buffer_memory)
    per_thread, threads = 2000, 4
    futures = [[] for _ in range(threads)]

    def work(i):
        for n in range(per_thread):
            futures[i].append(p.send("t1", b"%d-%d" % (i, n), partition=i))

    ts = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    p.flush(60)
    for i in range(threads):
        offsets = [f.get().offset for f in futures[i]]
        assert offsets == list(range(per_thread))  # per-partition order is send() order


def test_librdkafka_version():
    version, number = fastprod.librdkafka_version()
    assert number >= 0x020300FF and version.count(".") == 2
