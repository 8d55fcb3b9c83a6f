"""Bad input: a clear exception of the documented type, nothing queued, the producer still usable,
and no memory kept per failing call."""

from __future__ import annotations

import pytest

from fastprod import errors
from tests.support.bad_calls import BAD_CALLS


@pytest.mark.parametrize("kwargs, exc", BAD_CALLS)
def test_each_bad_argument_has_its_exception_and_queues_nothing(make_producer, kwargs, exc):
    p = make_producer()
    with pytest.raises(exc):
        p.send(**kwargs)
    assert p.stats()["sent"] == 0 and p._held_bytes() == 0
    md = p.send("t1", b"still fine").get(30)
    assert md.topic == "t1" and md.offset >= 0


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


def test_value_over_message_max_bytes_is_refused_in_send(make_producer):
    p = make_producer(config={"message.max.bytes": 1000})
    with pytest.raises(errors.MessageSizeTooLargeError, match="1000"):
        p.send("t1", b"v" * 2000)
    assert p.stats()["sent"] == 0 and p._held_bytes() == 0
    assert p.send("t1", b"v" * 900).get(30).serialized_value_size == 900


def rss_kb() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4


def test_a_million_failing_calls_keep_no_memory(make_producer):
    p = make_producer()
    send = p.send

    def fail(n):
        for i in range(n):
            kwargs, exc = BAD_CALLS[i % len(BAD_CALLS)]
            try:
                send(**kwargs)
            except exc:
                pass

    fail(50_000)  # warm-up: caches, free lists, arenas
    before = rss_kb()
    fail(1_000_000)
    growth_kb = rss_kb() - before
    print(f"\nRSS growth over 1,000,000 failing send() calls: {growth_kb} KiB")
    assert growth_kb < 1024
    assert p.stats()["sent"] == 0 and p._held_bytes() == 0
