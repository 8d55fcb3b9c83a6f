"""The bad-input table: send() calls with one bad argument each, and the exception documented for
it. test_bad_input.py runs every row on a producer; the fuzzer replays them as explicit examples
against its oracle (tests/support/fuzz/contract.py)."""

from __future__ import annotations

from typing import Any

from fastprod import errors

BAD_CALLS: list[tuple[dict[str, Any], type[Exception]]] = [
    (dict(topic=7, value=b"v"), TypeError),
    (dict(topic="", value=b"v"), errors.InvalidTopicError),
    (dict(topic="a" * 250, value=b"v"), errors.InvalidTopicError),
    (dict(topic="bad/name", value=b"v"), errors.InvalidTopicError),
    (dict(topic="bad name", value=b"v"), errors.InvalidTopicError),
    (dict(topic="t1", value=3), errors.SerializationError),
    (dict(topic="t1", value=b"v", key=object()), errors.SerializationError),
    (dict(topic="t1", value=b"v", partition=-1), ValueError),
    (dict(topic="t1", value=b"v", partition="0"), TypeError),
    (dict(topic="t1", value=b"v", timestamp_ms=-5), ValueError),
    (dict(topic="t1", value=b"v", timestamp_ms=1.5), TypeError),
    (dict(topic="t1", value=b"v", headers=[("k",)]), TypeError),
    (dict(topic="t1", value=b"v", headers=[(1, b"v")]), TypeError),
    (dict(topic="t1", value=b"v", headers=[("", b"v")]), ValueError),
    (dict(topic="t1", value=b"v", headers=[("k", 5)]), errors.SerializationError),
    (dict(topic="t1", value=b"v", headers="k=v"), TypeError),
]
