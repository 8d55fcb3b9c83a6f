"""Hypothesis strategies for fuzzed calls: send(), send(record), send_batch() with columns or
dict records, send_batch(records), on any of the fuzzer's producers; and the settings the fuzz
tests run them with."""

from __future__ import annotations

import array
from collections.abc import Callable
from typing import Any, NamedTuple

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st

from fastprod import ProducerRecord
from fastprod.errors import SerializationError
from tests.support.fuzz.checker import Call
from tests.support.fuzz.contract import INT32_MAX, INT64_MAX, MAX_RECORD_BYTES, kafka_topic_ok
from tests.support.fuzz.producers import CONFIGS, ENCODERS, WARM_TOPICS
from tests.support.fuzz.user_code import (AddsHeader, Boom, BytesSub, DictSub, IndexOnly,
                                          Iterable, IterList, IterTuple, LenList, LenTuple,
                                          LyingInt, Raises, Returns, SendsFirst, StrSub)
from tests.support.json_values import JSON_VALUES

# Strategies. Each kind of argument has good values (documented as taken) and bad ones; a call
# draws its arguments all good, mostly good or anyhow, so that accepted calls, and what they
# queued, are checked as often as refusals. Choices shrink towards good values.


class Arg(NamedTuple):
    good: st.SearchStrategy[Any]
    bad: st.SearchStrategy[Any]


MODES = st.sampled_from(["good", "mixed", "mixed", "any"])


def pick(draw: Callable[..., Any], arg: Arg, mode: str) -> Any:
    if mode == "good":
        return draw(arg.good)
    return draw(st.one_of(arg.good, arg.good, arg.good, arg.bad) if mode == "mixed"
                else st.one_of(arg.good, arg.bad))


def picked(arg: Arg, mode: str) -> st.SearchStrategy[Any]:
    return st.composite(lambda draw: pick(draw, arg, mode))()


def make_view(data: bytes, shape: str) -> memoryview:
    view = memoryview(data)
    if shape == "strided":
        return view[::2]
    if shape == "reversed":
        return view[::-1]
    if shape == "2d" and len(data) >= 2:
        return view[: len(data) // 2 * 2].cast("B", (2, len(data) // 2))
    if shape == "ints":
        return memoryview(array.array("i", data[: len(data) // 4 * 4]))
    if shape == "writable":
        return memoryview(bytearray(data))
    if shape == "released":
        view.release()
    return view


bytes_small = st.binary(max_size=24)
text_small = st.text(max_size=24)  # hypothesis' text has no lone surrogates
surrogate_text = st.builds(lambda a, s, b: a + s + b, text_small,
                           st.sampled_from(["\ud800", "\udfff", "\udc80"]), text_small)
views = Arg(st.builds(make_view, bytes_small, st.sampled_from(["plain", "2d", "ints", "writable"])),
            st.builds(make_view, bytes_small, st.sampled_from(["strided", "reversed", "released"])))
# Built, not drawn byte by byte: hypothesis would spend its budget on them.
big_bytes = st.integers(1_000, 200_000).map(lambda n: b"b" * n)
big_text = st.integers(1_000, 200_000).map(lambda n: "s" * n)
too_big = st.just(b"\0" * (MAX_RECORD_BYTES + 1))
garbage = st.one_of(
    st.integers(), st.floats(), st.booleans(), st.builds(LyingInt, st.integers()),
    st.lists(st.integers(), max_size=3), st.dictionaries(text_small, st.integers(), max_size=2),
    st.sampled_from([object(), 1j, Ellipsis, IndexOnly(), {1, 2}, frozenset(), int]),
)
good_bytes = st.one_of(bytes_small, bytes_small.map(bytearray), views.good,
                       st.builds(BytesSub, bytes_small), st.just(b""), big_bytes)
good_text = st.one_of(text_small, st.builds(StrSub, text_small), st.just(""), big_text)
bad_anything = st.one_of(surrogate_text, views.bad, garbage, too_big)

header_names = Arg(
    st.just("k") | st.text(min_size=1, max_size=10).filter(lambda s: "\0" not in s),
    st.one_of(st.sampled_from(["", "a\0b", "\0", "\ud800", b"k", 1, None]), surrogate_text,
              st.builds(StrSub, st.just("k"))))
header_values = Arg(
    st.one_of(st.none(), bytes_small, text_small, bytes_small.map(bytearray), views.good,
              st.builds(BytesSub, bytes_small)),
    st.one_of(surrogate_text, views.bad, st.sampled_from([5, 1.5, ["v"]])))


def payloads(kind: str) -> Arg:
    """Keys and values for a serializer of kind."""
    if kind == "str":
        return Arg(st.none() | good_text, bad_anything | good_bytes)
    if kind in ("bytes", "into"):
        plain = Arg(st.none() | good_bytes, bad_anything | good_text)
        if kind == "bytes":
            return plain
    elif kind in ENCODERS:
        return Arg(st.one_of(JSON_VALUES, bytes_small, big_text,
                             st.builds(DictSub, st.dictionaries(text_small, JSON_VALUES,
                                                                max_size=3))),
                   bad_anything | st.sampled_from([{1, 2}, 1j, object(), {(1,): 2}]))
    else:
        plain = Arg(st.one_of(st.none(), good_bytes, good_text), bad_anything)
        if kind == "as-is":
            return plain
    told = st.one_of(plain.good, st.builds(Returns, plain.good), st.builds(SendsFirst, plain.good))
    adds_header = st.builds(AddsHeader, header_names.good, header_values.good, plain.good)
    refusals = st.one_of(
        st.builds(Returns, plain.bad), st.builds(SendsFirst, plain.bad),
        st.builds(Raises, st.sampled_from([ValueError, TypeError, KeyError, Boom,
                                           SerializationError, RuntimeError])),
        st.builds(AddsHeader, header_names.bad | header_names.good,
                  header_values.bad | header_values.good, plain.good | plain.bad))
    if kind == "object":
        return Arg(told | adds_header, plain.bad | refusals)
    return Arg(told, plain.bad | refusals | adds_header)  # no headers to add to


topics = Arg(
    st.sampled_from(WARM_TOPICS),
    st.one_of(st.sampled_from(["", ".", "..", "a" * 250, "t1\0", "t/1", "t 1", "\ud800", "é",
                               "t1\n", b"t1", None, ["t1"]]),
              st.text(min_size=1, max_size=12).filter(lambda s: not kafka_topic_ok(s)),
              st.integers(250, 1000).map(lambda n: "b" * n), st.integers(),
              st.builds(StrSub, st.sampled_from(WARM_TOPICS))))
partitions = Arg(
    st.none() | st.integers(0, 3),  # the mock cluster's topics have 4
    st.one_of(
        st.integers(4, INT32_MAX),  # costs max_block_ms (50 ms)
        st.integers(max_value=-1), st.integers(min_value=INT32_MAX + 1),
        st.sampled_from([2**63, 2**64, True, False, 1.0, "0", b"0", IndexOnly()]),
        st.builds(LyingInt, st.sampled_from([-1, 1, -(2**31), 2**32, 2**32 + 1, 2**64]))))
timestamps = Arg(
    st.none() | st.integers(0, INT64_MAX),
    st.one_of(st.integers(max_value=-1), st.integers(min_value=INT64_MAX + 1),
              st.sampled_from([True, 1.5, "1", IndexOnly()]),
              st.builds(LyingInt, st.sampled_from([-1, -5, 5, 2**63, 2**64]))))


@st.composite
def header_pairs(draw: Callable[..., Any], mode: str) -> Any:
    name, value = pick(draw, header_names, mode), pick(draw, header_values, mode)
    if mode == "good" or draw(st.integers(0, 3)) < 3:
        return (name, value)
    return [IterTuple((name, value)), LenTuple((name, value, value)), (name,), [name, value],
            "kv"][draw(st.integers(0, 4))]


@st.composite
def headers(draw: Callable[..., Any], mode: str) -> Any:
    if mode != "good" and draw(st.integers(0, 4)) == 4:
        return draw(st.sampled_from(["k=v", b"kv", 5, 1.5, object(), {("k", b"v")}]))
    shape = draw(st.sampled_from(["none", "none", "list", "tuple", "dict", "DictSub", "LenList"]
                                 + ([] if mode == "good" else ["LenList-1", "IterList",
                                                               "Iterable"])))
    if shape in ("dict", "DictSub"):
        names_ = header_names.good if mode == "good" else header_names.good | header_names.bad
        values = header_values.good if mode == "good" else header_values.good | header_values.bad
        items = draw(st.dictionaries(st.just("k") if shape == "DictSub" else names_, values,
                                     max_size=3))
        return items if shape == "dict" else DictSub(items)
    pairs = draw(st.lists(header_pairs(mode), max_size=3))
    return {"none": lambda: None, "list": lambda: pairs, "tuple": lambda: tuple(pairs),
            "LenList": lambda: LenList(pairs, draw(st.sampled_from([0, 7, 10**6]))),
            "LenList-1": lambda: LenList(pairs, -1), "IterList": lambda: IterList(pairs),
            "Iterable": lambda: Iterable(pairs)}[shape]()


@st.composite
def column_of(draw: Callable[..., Any], items: st.SearchStrategy[Any], n: int, mode: str) -> Any:
    """A send_batch column for n records, in any container send_batch may get; unless all good,
    sometimes an item more or less, or not a sequence at all."""
    if mode != "good" and draw(st.integers(0, 29)) == 29:
        return draw(st.sampled_from(["ab", b"ab", {"a": 1}, 5, memoryview(b"ab")]))
    length = max(0, n + (0 if mode == "good" else draw(st.sampled_from([0] * 14 + [-1, 1]))))
    contents = draw(st.lists(items, min_size=length, max_size=length))
    kind = draw(st.sampled_from(["list", "list", "list", "tuple", "LenList", "IterList"]
                                + ([] if mode == "good" else ["Iterable"])))
    if kind == "LenList":
        return LenList(contents, draw(st.sampled_from([0, length + 5, 10**6])))
    return {"list": list, "tuple": tuple, "IterList": IterList, "Iterable": Iterable}[kind](contents)


@st.composite
def send_calls(draw: Callable[..., Any], config: str) -> Call:
    key_kind, value_kind = CONFIGS[config]
    mode = draw(MODES)
    kwargs = {"key": pick(draw, payloads(key_kind), mode),
              "partition": pick(draw, partitions, mode),
              "timestamp_ms": pick(draw, timestamps, mode), "headers": draw(headers(mode))}
    return Call(config, "send", (pick(draw, topics, mode), pick(draw, payloads(value_kind), mode)),
                {k: v for k, v in kwargs.items() if v is not None})


@st.composite
def records(draw: Callable[..., Any], config: str, mode: str) -> Any:
    key_kind, value_kind = CONFIGS[config]
    if mode != "good" and draw(st.integers(0, 9)) == 9:
        return draw(st.sampled_from([None, ("t1", b"v"), {"topic": "t1"}, b"t1"]))
    return ProducerRecord(pick(draw, topics, mode), pick(draw, payloads(value_kind), mode),
                          key=pick(draw, payloads(key_kind), mode),
                          partition=pick(draw, partitions, mode),
                          timestamp_ms=pick(draw, timestamps, mode), headers=draw(headers(mode)))


@st.composite
def record_send_calls(draw: Callable[..., Any], config: str) -> Call:
    mode = draw(MODES)
    extra = {} if mode == "good" else draw(st.sampled_from(
        [{}] * 9 + [{"value": b"v"}, {"key": b"k"}, {"partition": 0}, {"timestamp_ms": 1},
                    {"headers": [("k", b"v")]}]))
    return Call(config, "send", (draw(records(config, mode)),), extra)


@st.composite
def batch_calls(draw: Callable[..., Any], config: str) -> Call:
    key_kind, value_kind = CONFIGS[config]
    mode = draw(MODES)
    n = draw(st.integers(0, 6))
    topic = pick(draw, topics, mode)
    kwargs: dict[str, Any] = {}
    values = picked(payloads(value_kind), mode)
    if draw(st.integers(0, 3)) == 3:  # dict records, each keyed by one of its items
        kwargs["key_field"] = "k" if mode == "good" else draw(st.sampled_from(
            ["k", "k", "k", "missing", ["k"], StrSub("k"), 5]))
        keys = st.one_of(text_small, st.integers()) if mode == "good" else st.one_of(
            text_small, st.integers(), st.booleans(), bytes_small, st.none(), surrogate_text,
            garbage)
        values = st.one_of(st.fixed_dictionaries({"k": keys}, optional={"v": JSON_VALUES}),
                           st.builds(DictSub, st.fixed_dictionaries({"k": keys})))
        if mode != "good":
            values |= picked(payloads(value_kind), mode)
            if draw(st.integers(0, 9)) == 9:
                kwargs["keys"] = draw(column_of(picked(payloads(key_kind), mode), n, mode))
    elif draw(st.booleans()):
        kwargs["keys"] = draw(column_of(picked(payloads(key_kind), mode), n, mode))
    column = draw(column_of(values, n, mode))
    choice = draw(st.sampled_from(["none", "none", "one", "column"]))
    if choice == "one":
        kwargs["partitions"] = pick(draw, Arg(st.integers(0, 3), partitions.bad), mode)
    elif choice == "column":
        kwargs["partitions"] = draw(column_of(picked(partitions, mode), n, mode))
    if draw(st.booleans()):
        kwargs["timestamps_ms"] = draw(column_of(picked(timestamps, mode), n, mode))
    if draw(st.booleans()):
        kwargs["headers"] = draw(column_of(headers(mode), n, mode))
    return Call(config, "send_batch", (topic, column), kwargs)


@st.composite
def record_batch_calls(draw: Callable[..., Any], config: str) -> Call:
    mode = draw(MODES)
    n = draw(st.integers(0, 5))
    items = draw(column_of(records(config, mode), n, mode))
    extra = {} if mode == "good" else draw(st.sampled_from(
        [{}] * 9 + [{"keys": [b"k"] * n}, {"partitions": 0}, {"timestamps_ms": [1] * n},
                    {"key_field": "k"}]))
    return Call(config, "send_batch", (items,), extra)


def any_call(config: str) -> st.SearchStrategy[Call]:
    return st.one_of(send_calls(config), record_send_calls(config), batch_calls(config),
                     record_batch_calls(config))


FAST = settings(deadline=None, suppress_health_check=list(HealthCheck), print_blob=True)
# Hypothesis shrinks a failing sequence of sends for up to 5 minutes: sequences are reported as
# found, their calls noted one by one, and test_one_call shrinks what one call shows.
SEQUENCES = settings(FAST, phases=[Phase.explicit, Phase.reuse, Phase.generate],
                     report_multiple_bugs=False)
