"""One fuzzed call per example on one of the producers: it raises what the oracle allows and
queues nothing, or queues exactly what it was asked to; the reproducers of the bugs found, and
every row of the bad-input table, are explicit examples."""

from __future__ import annotations

import os

from hypothesis import example, given, settings
from hypothesis import strategies as st

from fastprod import ProducerRecord
from tests.support.bad_calls import BAD_CALLS
from tests.support.fuzz.calls import FAST, any_call
from tests.support.fuzz.checker import Call, Checker
from tests.support.fuzz.producers import CONFIGS, Target
from tests.support.fuzz.user_code import LyingInt, Returns, SendsFirst, released


def bad_input_table(test):
    """The rows of tests/support/bad_calls.py as examples: the oracle must allow what each
    raises."""
    for kwargs, _ in BAD_CALLS:
        test = example(call=Call("plain", "send", (), kwargs))(test)
    return test


# The reproducers of the bugs this test found, each with what it did; see the CONTRACT
# (tests/support/fuzz/contract.py) for what is documented.
@settings(FAST, max_examples=int(os.environ.get("FASTPROD_FUZZ_CALLS", 1000)))
@given(call=st.sampled_from(sorted(CONFIGS)).flatmap(any_call))
# a strided memoryview: BufferError
@example(call=Call("plain", "send", ("t1", memoryview(b"ab")[::2])))
@example(call=Call("plain", "send", ("t1", b"v"), {"key": memoryview(b"abc")[::-1]}))
@example(call=Call("plain", "send", ("t1", b"v"), {"headers": [("k", memoryview(b"ab")[::2])]}))
@example(call=Call("bytes-msgpack", "send", ("t1", None), {"key": memoryview(b"ab")[::2]}))
@example(call=Call("object-callable", "send", ("t1", Returns(memoryview(b"ab")[::2]))))
@example(call=Call("plain", "send_batch", ("t1", [b"ok", memoryview(b"ab")[::2]])))
# a released memoryview: ValueError
@example(call=Call("plain", "send", ("t1", released(b"v"))))
@example(call=Call("plain", "send", ("t1", b"v"), {"headers": {"k": released(b"v")}}))
# a lone surrogate in a key, value or header value: UnicodeEncodeError
@example(call=Call("plain", "send", ("t1", "\ud800")))
@example(call=Call("str-json", "send", ("t1", None), {"key": "\udfff"}))
@example(call=Call("plain", "send", ("t1", b"v"), {"headers": [("k", "\ud800")]}))
# timestamp_ms past int64: OverflowError
@example(call=Call("plain", "send", ("t1", b"v"), {"timestamp_ms": 2**63}))
@example(call=Call("plain", "send_batch", ("t1", [b"v"]), {"timestamps_ms": [2**64]}))
# range checks by the int's own comparisons: LyingInt(-1) taken as "any partition",
# LyingInt(2**64) OverflowError, LyingInt(-5) sent as a timestamp
@example(call=Call("plain", "send", ("t1", b"v"), {"partition": LyingInt(-1)}))
@example(call=Call("plain", "send", ("t1", b"v"), {"partition": LyingInt(2**64)}))
@example(call=Call("plain", "send", ("t1", b"v"), {"timestamp_ms": LyingInt(-5)}))
@example(call=Call("plain", "send_batch", ("t1", [b"v"]), {"partitions": LyingInt(-1)}))
# a send from inside the value serializer encodes its key into the buffer that holds the outer
# record's key: the outer record goes out with the nested record's key
@example(call=Call("json-object", "send", ("t1", SendsFirst(b"v")), {"key": "k"}))
@example(call=Call("into-object", "send", ("t1", SendsFirst(None)), {"key": b""}))
# arguments besides the records are dropped silently, as Cython 3.3.1 compiles
# `not (a is b is c ...)` into `a is not b and b is c and ...`
@example(call=Call("plain", "send", (ProducerRecord("t1", b"v"),), {"key": b"k"}))
@example(call=Call("plain", "send", (ProducerRecord("t1", b"v"),), {"partition": 0}))
@example(call=Call("plain", "send_batch", ([ProducerRecord("t1", b"v")],), {"keys": [b"k"]}))
@example(call=Call("plain", "send_batch", ([ProducerRecord("t1", b"v")],), {"partitions": 0}))
@bad_input_table
def test_one_call(targets: dict[str, Target], call: Call) -> None:
    checker = Checker(targets[call.config])
    checker.run(call)
    checker.finish()
