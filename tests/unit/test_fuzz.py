"""Fuzzing of send(), send_batch() and ProducerRecord argument handling (issue 12).

Calls get arguments mixed from good and bad values of many types (buffers of every shape,
subclasses whose dunders lie, out-of-range ints, bad topic and header names, serializers that
raise, return garbage or send from inside) on producers with every kind of serializer. An oracle
written from the documentation (CONTRACT below) says per argument whether it is valid and which
exceptions a bad one may raise. Every call must then either raise one of those and queue nothing
(send_batch: exactly ``exc.batch_result.sent`` records, the failing index in the note), or return
having queued exactly the records asked for; the producer must still send and flush afterwards,
and at the end every future and batch is resolved and delivered with the partition and the
key/value sizes the oracle expects.

- ``test_one_call``: one call per example; the reproducers of the bugs found are its @examples.
- ``test_call_sequences``: hypothesis' stateful testing, sends, batches and flushes on one
  producer with the counts checked after every step.
- ``test_hostile``: serializers that close the producer or shrink the lists send_batch is
  reading, and a headers list whose __len__ lies; each in a forked grandchild of a fresh
  interpreter, since such bugs crash the process.
- ``test_fuzz_long`` (slow: ``make test-all``): call sequences for FASTPROD_FUZZ_SECONDS
  (default 300), in rounds with fresh seeds.

CI: ``pytest tests/unit/test_fuzz.py -m "not slow"``, about 30 s on two cores
(FASTPROD_FUZZ_CALLS, FASTPROD_FUZZ_SEQUENCES scale it). Hypothesis alone, no atheris: the
extension is not built with -fsanitize=fuzzer, so atheris would see coverage of the Python layer
only, which is a few lines; the oracle is what tells a bug from a refusal.
"""

from __future__ import annotations

import array
import faulthandler
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import msgspec
import pytest
from hypothesis import HealthCheck, Phase, example, given, note, settings
from hypothesis import strategies as st
from hypothesis.stateful import (RuleBasedStateMachine, initialize, invariant, rule,
                                 run_state_machine_as_test)

import fastprod
from fastprod import ProducerRecord
from fastprod.errors import (FastProdError, InvalidTimestampError, InvalidTopicError,
                             KafkaTimeoutError, MessageSizeTooLargeError, ProducerClosedError,
                             SerializationError, UnknownPartitionError)
from fastprod.serializers import Serializer
from tests.support.json_values import JSON_VALUES

MOCK = {"test.mock.num.brokers": 1, "log_level": 4}
MAX_RECORD_BYTES = 1_000_000  # max_request_size's default: key + value + header names and values
INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1
FUZZ_SECONDS = float(os.environ.get("FASTPROD_FUZZ_SECONDS", 300))

# ---------------------------------------------------------------------------------------------
# CONTRACT: what a bad value of each kind of argument may raise.
#
# README "send()": keys and values are bytes, str (UTF-8), bytearray, memoryview or None; anything
# else raises SerializationError unless a serializer makes it bytes. errors.py: SerializationError
# is "a key, value or header could not be turned into bytes", so also a str that UTF-8 cannot
# encode (a lone surrogate), a released memoryview, and whatever a serializer raised or returned
# instead of bytes. README "Errors": InvalidTopicError for a name Kafka refuses. send()'s
# docstring and messages: TypeError for a wrong type of topic, partition, timestamp_ms or headers;
# ValueError for an int out of range (partition 0..2**31-1; timestamp_ms from 0, and a timestamp
# past int64 is out of range too) and for an empty or NUL-carrying header name; "send(record)
# takes no other arguments" (TypeError). README "Partitioning": UnknownPartitionError for a
# partition the topic lacks. send_batch's docstring: columns are sequences as long as values; a
# record send() would refuse stops the loop with send()'s exception, its index in a note and
# exc.batch_result holding the records queued before it.
#
# Anything else escaping (BufferError, SystemError, AttributeError, IndexError, KeyError,
# OverflowError, UnicodeEncodeError for a value...) is a bug: callers cannot catch what the
# documentation does not name. Where the documentation does not decide (a str subclass for a
# str, an iterable that is not a list, a strided memoryview), taking the value and refusing it
# with the error listed are both accepted.
TOPIC_ERRORS = (TypeError, InvalidTopicError)
PAYLOAD_ERRORS = (SerializationError,)
PARTITION_TYPE_ERRORS = (TypeError,)
PARTITION_RANGE_ERRORS = (ValueError,)
UNKNOWN_PARTITION_ERRORS = (UnknownPartitionError,)
TIMESTAMP_TYPE_ERRORS = (TypeError,)
TIMESTAMP_RANGE_ERRORS = (ValueError,)
TIMESTAMP_TOPIC_ERRORS = (InvalidTimestampError,)  # outside the topic's message.timestamp.*.max.ms
HEADERS_TYPE_ERRORS = (TypeError,)          # not a list, tuple or dict; an item not a pair
HEADER_NAME_ERRORS = (ValueError,)          # empty, NUL, not UTF-8 encodable
HEADER_VALUE_ERRORS = (SerializationError,)
KEY_FIELD_ERRORS = (SerializationError, TypeError)  # not a dict record, no such item, unhashable
COLUMN_TYPE_ERRORS = (TypeError,)
COLUMN_LENGTH_ERRORS = (ValueError,)
SIZE_ERRORS = (MessageSizeTooLargeError,)
RECORD_EXTRA_ARGS_ERRORS = (TypeError,)     # send(record, key=...), send_batch(records, keys=...)

# ---------------------------------------------------------------------------------------------
# The test's own user code: subclasses whose dunders lie, and serializers that do as told.


class Shown:
    """Printed by show(), also by hypothesis' pretty-printer (which believes a list's __len__)."""

    def __repr__(self) -> str:
        return show(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(show(self))


class StrSub(Shown, str):
    def __len__(self) -> int: return 0
    def __eq__(self, other: object) -> bool: return False
    def __hash__(self) -> int: return 7
    def __iter__(self) -> Iterator[str]: return iter(())
    def __repr__(self) -> str: return f"StrSub({str.__repr__(self)})"


class BytesSub(Shown, bytes):
    def __len__(self) -> int: return 10**6
    def __eq__(self, other: object) -> bool: return True
    def __hash__(self) -> int: return 0
    def __iter__(self) -> Iterator[int]: return iter(())
    def __index__(self) -> int: return -1
    def __repr__(self) -> str: return f"BytesSub({bytes.__repr__(self)})"


class LyingInt(Shown, int):
    """Neither below nor above anything, equal to everything: only its digits tell its value."""
    def __lt__(self, other: object) -> bool: return False
    __gt__ = __le__ = __ge__ = __lt__
    def __eq__(self, other: object) -> bool: return True
    def __hash__(self) -> int: return 0
    def __index__(self) -> int: return 1
    def __repr__(self) -> str: return f"LyingInt({int.__repr__(self)})"


class IndexOnly(Shown):
    """Not an int, though operator.index() takes it."""
    def __index__(self) -> int: return 1
    def __repr__(self) -> str: return "IndexOnly()"


class LenList(Shown, list):  # type: ignore[type-arg]
    def __init__(self, items: list[Any], length: int) -> None:
        super().__init__(items)
        self.length = length

    def __len__(self) -> int: return self.length


class IterList(Shown, list):  # type: ignore[type-arg]
    def __iter__(self) -> Iterator[Any]: return reversed(self[:])


class IterTuple(Shown, tuple):  # type: ignore[type-arg]
    """Holds two items, iterates over three."""
    def __iter__(self) -> Iterator[Any]: return iter((*tuple.__iter__(self), b"extra"))


class LenTuple(Shown, tuple):  # type: ignore[type-arg]
    def __len__(self) -> int: return 2


class DictSub(Shown, dict):  # type: ignore[type-arg]
    def __iter__(self) -> Iterator[Any]: return iter(())
    def __len__(self) -> int: return 0
    def __missing__(self, key: object) -> bytes: return b"missing"


class Iterable(Shown):
    """Iterable, but not a sequence: no list, tuple or dict."""
    def __init__(self, items: list[Any]) -> None: self.items = items
    def __iter__(self) -> Iterator[Any]: return iter(self.items)
    def __repr__(self) -> str: return f"Iterable({self.items!r})"


def released(data: bytes) -> memoryview:
    view = memoryview(data)
    view.release()
    return view


# What the test's serializers do with what they are given (anything else they return as it is).
@dataclass(frozen=True, repr=False)
class Returns(Shown):
    payload: Any


@dataclass(frozen=True)
class Raises(Shown):
    error: type[Exception]


@dataclass(frozen=True, repr=False)
class AddsHeader(Shown):
    """kafka-python's serialize(topic, headers, obj) may append to the record's headers."""
    name: Any
    value: Any
    payload: Any


@dataclass(frozen=True, repr=False)
class SendsFirst(Shown):
    """The serializer sends a keyed record of its own before it returns payload."""
    payload: Any


class Boom(Exception):
    pass


# The key of a record a serializer sends: long, so that a record that went out with it instead of
# its own key shows in serialized_key_size.
NESTED_KEY = "nested-key-" + "n" * 40


class ObeyingSerializer:
    def __init__(self) -> None:
        self.producer: fastprod.Producer | None = None
        self.nested_key: object = NESTED_KEY
        self.nested: list[Any] = []  # the futures of the records it sent

    def obey(self, obj: Any, headers: list[Any] | None) -> Any:
        if isinstance(obj, Raises):
            raise obj.error("raised on purpose by the test's serializer")
        if isinstance(obj, AddsHeader):
            headers.append((obj.name, obj.value))  # type: ignore[union-attr]  # None: it fails
            return obj.payload
        if isinstance(obj, SendsFirst):
            assert self.producer is not None
            self.nested.append(self.producer.send(WARM_TOPICS[0], None, key=self.nested_key))
            return obj.payload
        return obj.payload if isinstance(obj, Returns) else obj


class CallableSerializer(ObeyingSerializer):
    """A callable obj -> bytes."""
    def __call__(self, obj: Any) -> Any: return self.obey(obj, None)


class ObjectSerializer(ObeyingSerializer):
    """kafka-python's Serializer: serialize(topic, headers, obj)."""
    def serialize(self, topic: str, headers: list[Any] | None, obj: Any) -> Any:
        return self.obey(obj, headers)


class IntoSerializer(ObeyingSerializer, Serializer[Any]):
    """Serializer's fast path: encode_into(obj, buffer) fills a bytearray the producer lends it."""
    def encode_into(self, obj: Any, buffer: bytearray) -> None:  # type: ignore[override]
        buffer[:] = self.obey(obj, None)


# ---------------------------------------------------------------------------------------------
# The producers: every kind of serializer on the key side and on the value side. "as-is" is none.

CONFIGS = {
    "plain": ("as-is", "as-is"),
    "str-json": ("str", "json"),
    "bytes-msgpack": ("bytes", "msgpack"),
    "json-str": ("json", "str"),
    "msgpack-bytes": ("msgpack", "bytes"),
    # a send from inside the value serializer must not touch the key serialized before it
    "json-object": ("json", "object"),
    "into-object": ("into", "object"),
    "object-callable": ("object", "callable"),
    "callable-into": ("callable", "into"),
}
SERIALIZERS = {"callable": CallableSerializer, "object": ObjectSerializer, "into": IntoSerializer}
ENCODERS = {"json": msgspec.json.Encoder(), "msgpack": msgspec.msgpack.Encoder()}

# Topics whose partitions every producer knows before the first example, so that no send waits
# for metadata. "..." and 249 characters are valid, at the edge of Kafka's rules.
WARM_TOPICS = ["t1", "fuzz.topic_2-x", "...", "a" * 249]


@dataclass(repr=False)
class Target:
    """A producer under test and what the oracle needs to know about it."""
    name: str
    producer: fastprod.Producer
    key_kind: str
    value_kind: str
    partitions: dict[str, int]
    serializers: list[ObeyingSerializer]

    @property
    def headers_listed(self) -> bool:
        # a kafka-python serializer gets list(headers), to append to
        return "object" in (self.key_kind, self.value_kind)

    def nested_count(self) -> int:
        return sum(len(s.nested) for s in self.serializers)

    def __repr__(self) -> str:
        return f"<Target {self.name}>"


def make_target(name: str) -> Target:
    serializers: list[ObeyingSerializer] = []

    def serializer(kind: str) -> Any:
        if kind not in SERIALIZERS:
            return None if kind == "as-is" else kind
        serializers.append(SERIALIZERS[kind]())
        return serializers[-1]

    key_kind, value_kind = CONFIGS[name]
    # max_block_ms bounds the wait before UnknownPartitionError (a fresher table might have the
    # partition); buffer_memory keeps valid records clear of waiting for space.
    producer = fastprod.Producer(config=MOCK, key_serializer=serializer(key_kind),
                                 value_serializer=serializer(value_kind), max_block_ms=50,
                                 buffer_memory=64 << 20)
    for s in serializers:
        s.producer = producer
        s.nested_key = NESTED_KEY.encode() if key_kind in ("bytes", "into") else NESTED_KEY
    for topic in WARM_TOPICS:
        producer.send(topic, None)  # asks for the topic's metadata without waiting for it
    partitions = {}
    deadline = time.monotonic() + 30
    for topic in WARM_TOPICS:
        while topic not in partitions:
            try:
                partitions[topic] = len(producer.partitions_for(topic))
            except KafkaTimeoutError:
                assert time.monotonic() < deadline, f"no metadata for {topic!r} on the mock cluster"
    producer.flush(30)
    return Target(name, producer, key_kind, value_kind, partitions, serializers)


@pytest.fixture(scope="module")
def targets() -> Iterator[dict[str, Target]]:
    # A producer's first metadata takes a second on the mock cluster: start them all at once.
    with ThreadPoolExecutor(len(CONFIGS)) as pool:
        made = dict(zip(CONFIGS, pool.map(make_target, CONFIGS)))
    yield made
    with ThreadPoolExecutor(len(made)) as pool:
        list(pool.map(lambda t: t.producer.close(10), made.values()))


# ---------------------------------------------------------------------------------------------
# The oracle. Where the documentation leaves the protocol open (a lying __len__ or __iter__), it
# reads arguments as the Python protocols send() uses do: iteration for anything but an exact
# list or tuple, a tuple's real length, a dict's real items.


class Expect(NamedTuple):
    ok: bool                                      # valid: the call may succeed
    errors: tuple[type[BaseException], ...] = ()  # what the call may raise because of it
    detail: Any = None                            # if valid: its size (-1: null), partition...


VALID = Expect(True)


def invalid(*errors: type[BaseException]) -> Expect:
    return Expect(False, errors)


def debatable(*errors: type[BaseException], detail: Any = None) -> Expect:
    """Taken, or refused with one of errors: the documentation allows both."""
    return Expect(True, errors, detail)


def combine(*parts: Expect, detail: Any = None) -> Expect:
    errors = {error: None for part in parts for error in part.errors}
    return Expect(all(p.ok for p in parts), tuple(errors), detail)


def kafka_topic_ok(name: str) -> bool:
    # Kafka's Topic.validate: 1 to 249 of [a-zA-Z0-9._-], not "." or ".."
    return (0 < len(name) <= 249 and name not in (".", "..")
            and re.fullmatch(r"[a-zA-Z0-9._-]+", name, re.ASCII) is not None)


def expect_topic(topic: Any) -> Expect:
    if type(topic) is str:
        if topic in WARM_TOPICS:
            return VALID
        # valid but never warmed: its metadata may take longer than max_block_ms
        return debatable(KafkaTimeoutError) if kafka_topic_ok(topic) else invalid(*TOPIC_ERRORS)
    return debatable(*TOPIC_ERRORS) if isinstance(topic, str) else invalid(*TOPIC_ERRORS)


def expect_int(value: Any, high: int, type_errors: tuple[type[BaseException], ...],
               range_errors: tuple[type[BaseException], ...]) -> Expect:
    """partition or timestamp_ms (not None): detail is its value, read past lying dunders."""
    if isinstance(value, bool) or not isinstance(value, int):
        return invalid(*type_errors)
    real = int.__int__(value)
    return Expect(True, (), real) if 0 <= real <= high else invalid(*range_errors)


def expect_partition(partition: Any, count: int | None) -> Expect:
    if partition is None:
        return VALID
    expect = expect_int(partition, INT32_MAX, PARTITION_TYPE_ERRORS, PARTITION_RANGE_ERRORS)
    if not expect.ok:
        return expect
    if count is None:
        return debatable(*UNKNOWN_PARTITION_ERRORS, KafkaTimeoutError, detail=expect.detail)
    return expect if expect.detail < count else invalid(*UNKNOWN_PARTITION_ERRORS)


def expect_timestamp(timestamp: Any) -> Expect:
    if timestamp is None:
        return VALID
    expect = expect_int(timestamp, INT64_MAX, TIMESTAMP_TYPE_ERRORS, TIMESTAMP_RANGE_ERRORS)
    return debatable(*TIMESTAMP_TOPIC_ERRORS) if expect.ok else expect


def expect_bytes(obj: Any, errors: tuple[type[BaseException], ...]) -> Expect:
    """A key, value or header value taken as it is; detail is its size."""
    if obj is None:
        return Expect(True, (), -1)
    if isinstance(obj, str):
        try:
            return Expect(True, (), len(str.encode(obj, "utf-8")))
        except UnicodeEncodeError:  # a lone surrogate
            return invalid(*errors)
    if isinstance(obj, memoryview):
        try:
            return Expect(True, () if obj.c_contiguous else errors, obj.nbytes)
        except ValueError:  # released
            return invalid(*errors)
    if isinstance(obj, (bytes, bytearray)):
        return Expect(True, (), memoryview(obj).nbytes)
    return invalid(*errors)


def expect_payload(kind: str, obj: Any, headers: list[Any] | None) -> Expect:
    """A key or value through a serializer of kind; what an ObjectSerializer adds to the headers
    is appended to headers (None: it gets none)."""
    if obj is None:
        return Expect(True, (), -1)  # null: never serialized
    if kind in ("as-is", "str", "bytes"):
        accepts = {"as-is": object, "str": str, "bytes": (bytes, bytearray, memoryview)}[kind]
        return expect_bytes(obj, PAYLOAD_ERRORS) if isinstance(obj, accepts) else invalid(
            *PAYLOAD_ERRORS)
    if kind in ENCODERS:
        try:
            return Expect(True, (), len(ENCODERS[kind].encode(obj)))
        except Exception:  # noqa: BLE001 - whatever msgspec refuses
            return invalid(*PAYLOAD_ERRORS)
    if isinstance(obj, Raises):
        return invalid(*PAYLOAD_ERRORS)  # wrapped, whatever it was
    if isinstance(obj, AddsHeader):
        if kind != "object" or headers is None:
            return invalid(*PAYLOAD_ERRORS)  # no headers to add to: the serializer fails
        headers.append((obj.name, obj.value))
    if isinstance(obj, (Returns, SendsFirst, AddsHeader)):
        obj = obj.payload
    if kind == "into":
        filled = bytearray()
        try:  # as IntoSerializer fills its buffer
            filled[:] = obj
        except Exception:  # noqa: BLE001
            return invalid(*PAYLOAD_ERRORS)
        return Expect(True, (), len(filled))
    return expect_bytes(obj, PAYLOAD_ERRORS)


def expect_header_items(headers: Any, listed: bool) -> tuple[Expect, list[Any] | None]:
    """The headers argument as a list of items."""
    if headers is None:
        return VALID, None
    if isinstance(headers, dict):
        return VALID, list(dict.items(headers))
    sequence = isinstance(headers, (list, tuple))
    if not (sequence or listed):
        return invalid(*HEADERS_TYPE_ERRORS), None
    try:  # a kafka-python serializer gets list(headers): any iterable goes, or is refused
        items = list(iter(headers))
    except TypeError:
        return invalid(*HEADERS_TYPE_ERRORS), None
    expect = VALID if sequence else debatable(*HEADERS_TYPE_ERRORS)
    try:
        len(headers)
    except TypeError:
        pass
    except ValueError:  # a __len__ below 0 fails send() if it asks (list() does)
        expect = combine(expect, debatable(ValueError))
    return expect, items


def expect_header_pairs(items: list[Any] | None) -> Expect:
    """detail: the bytes the headers add to the record."""
    parts, size = [], 0
    for item in items or ():
        if not isinstance(item, tuple) or tuple.__len__(item) != 2:
            parts.append(invalid(*HEADERS_TYPE_ERRORS))
            continue
        try:
            name, value = item  # by iteration for a tuple subclass
        except ValueError:
            parts.append(invalid(ValueError))
            continue
        if not isinstance(name, str):
            parts.append(invalid(*HEADERS_TYPE_ERRORS))
            continue
        if type(name) is not str:
            parts.append(debatable(*HEADERS_TYPE_ERRORS))
        try:
            encoded = str.encode(name, "utf-8")
        except UnicodeEncodeError:
            encoded = b""
        if not encoded or b"\0" in encoded:  # empty, not encodable, NUL
            parts.append(invalid(*HEADER_NAME_ERRORS))
            continue
        value_expect = expect_bytes(value, HEADER_VALUE_ERRORS)
        parts.append(value_expect)
        size += len(encoded) + max(value_expect.detail or 0, 0)
    return combine(*parts, detail=size)


class Sizes(NamedTuple):
    """What a valid record must be delivered as."""
    partition: int | None   # None: the partitioner's choice
    key: int                # serialized sizes, -1 for null
    value: int
    deliverable: bool       # False near the size limit (the mock broker's own limit differs)


def expect_record(target: Target, topic: Any, value: Any, key: Any, partition: Any,
                  timestamp_ms: Any, headers: Any) -> Expect:
    """One record, as send() and each of send_batch()'s take it; detail is its Sizes."""
    listed = target.headers_listed
    container, items = expect_header_items(headers, listed)
    added = list(items or []) if listed else None
    key_expect = expect_payload(target.key_kind, key, added)
    value_expect = expect_payload(target.value_kind, value, added)
    pairs = expect_header_pairs(added if listed else items)
    count = target.partitions.get(topic) if type(topic) is str else None
    partition_expect = expect_partition(partition, count)
    parts = [expect_topic(topic), container, key_expect, value_expect, pairs, partition_expect,
             expect_timestamp(timestamp_ms)]
    deliverable = True
    if key_expect.ok and value_expect.ok and pairs.ok:
        total = max(key_expect.detail, 0) + max(value_expect.detail, 0) + pairs.detail
        if total > MAX_RECORD_BYTES:
            parts.append(invalid(*SIZE_ERRORS))
        elif total > 0.9 * MAX_RECORD_BYTES:
            parts.append(debatable(*SIZE_ERRORS))
            deliverable = False
    return combine(*parts, detail=Sizes(partition_expect.detail, key_expect.detail,
                                        value_expect.detail, deliverable))


def expect_send(target: Target, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Expect:
    bound = dict(zip(("topic", "value", "key", "partition", "timestamp_ms", "headers"), args))
    bound.update(kwargs)
    record = bound.pop("topic", None)
    if not isinstance(record, ProducerRecord):
        return expect_record(target, record, *(bound.get(name) for name in (
            "value", "key", "partition", "timestamp_ms", "headers")))
    expect = expect_record(target, record.topic, record.value, record.key, record.partition,
                           record.timestamp_ms, record.headers)
    if any(v is not None for v in bound.values()):
        return combine(expect, invalid(*RECORD_EXTRA_ARGS_ERRORS), detail=expect.detail)
    return expect


def expect_column(column: Any, n: int | None) -> tuple[Expect, list[Any] | None]:
    """A send_batch column as the items it holds."""
    if isinstance(column, (str, bytes, bytearray, memoryview, dict)):
        return invalid(*COLUMN_TYPE_ERRORS), None
    try:
        items = list(iter(column))
    except TypeError:
        return invalid(*COLUMN_TYPE_ERRORS), None
    expect = VALID if isinstance(column, (list, tuple)) else debatable(*COLUMN_TYPE_ERRORS)
    if n is not None and len(items) != n:
        return combine(expect, invalid(*COLUMN_LENGTH_ERRORS)), None
    return expect, items


def expect_key_field(record: Any, key_field: Any) -> tuple[Expect, Any]:
    if not isinstance(record, dict):
        return invalid(*KEY_FIELD_ERRORS), None
    missing = object()
    try:
        key = dict.get(record, key_field, missing)
    except TypeError:  # unhashable
        return invalid(*KEY_FIELD_ERRORS), None
    if key is missing:
        return invalid(*KEY_FIELD_ERRORS), None
    # documented: ints become their decimal string
    return VALID, str(key) if isinstance(key, int) and not isinstance(key, bool) else key


class BatchExpect(NamedTuple):
    columns: Expect         # the topic and the columns, checked before the first record
    records: list[Expect]   # one per record


def expect_batch(target: Target, args: tuple[Any, ...], kwargs: dict[str, Any]) -> BatchExpect:
    bound = dict(zip(("topic", "values", "keys", "partitions", "timestamps_ms", "headers"), args))
    bound.update(kwargs)
    topic = bound.pop("topic", None)
    values = bound.pop("values", None)
    if values is None and type(topic) is not str:
        return expect_record_batch(target, topic, bound)
    columns = [expect_topic(topic)]
    expect, value_items = expect_column(values, None)
    columns.append(expect)
    if value_items is None:
        return BatchExpect(combine(*columns), [])
    n = len(value_items)
    key_field, partitions = bound.get("key_field"), bound.get("partitions")
    if key_field is not None and bound.get("keys") is not None:
        columns.append(invalid(*COLUMN_TYPE_ERRORS))
    per_record: dict[str, list[Any]] = {}
    if isinstance(partitions, int):
        per_record["partitions"] = [partitions] * n  # one partition for all
    for name in ("keys", "partitions", "timestamps_ms", "headers"):
        if bound.get(name) is not None and name not in per_record:
            expect, items = expect_column(bound[name], n)
            columns.append(expect)
            per_record[name] = items if items is not None else [None] * n
    records = []
    for i, value in enumerate(value_items):
        item = {name: column[i] for name, column in per_record.items()}
        key_expect, key = VALID, item.get("keys")
        if key_field is not None:
            key_expect, key = expect_key_field(value, key_field)
        record = expect_record(target, topic, value, key, item.get("partitions"),
                               item.get("timestamps_ms"), item.get("headers"))
        records.append(combine(key_expect, record, detail=record.detail))
    return BatchExpect(combine(*columns), records)


def expect_record_batch(target: Target, records: Any, bound: dict[str, Any]) -> BatchExpect:
    columns = [invalid(*RECORD_EXTRA_ARGS_ERRORS)] if any(
        v is not None for v in bound.values()) else []
    expect, items = expect_column(records, None)
    columns.append(expect)
    return BatchExpect(combine(*columns), [
        expect_record(target, r.topic, r.value, r.key, r.partition, r.timestamp_ms, r.headers)
        if isinstance(r, ProducerRecord) else invalid(TypeError) for r in items or ()])


# ---------------------------------------------------------------------------------------------
# Running calls and checking them against the oracle.


def show(obj: Any) -> str:
    """repr, readable for memoryviews, huge values and what holds them: reproducers are copied
    from these."""
    if isinstance(obj, memoryview):
        try:
            return (f"memoryview({show(obj.obj)}, format={obj.format!r}, shape={obj.shape}, "
                    f"strides={obj.strides})")
        except ValueError:
            return "released(...)"
    if isinstance(obj, (str, bytes, bytearray)):
        size = str.__len__(obj) if isinstance(obj, str) else memoryview(obj).nbytes
        if size > 64:
            return f"{obj[:8]!r} * ~{size}"
    if isinstance(obj, (list, tuple)):
        items = [show(i) for i in (list.__iter__(obj) if isinstance(obj, list)
                                   else tuple.__iter__(obj))]
        shown = (f"[{', '.join(items)}]" if isinstance(obj, list)
                 else f"({', '.join(items)}{',' if len(items) == 1 else ''})")
        if type(obj) in (list, tuple):
            return shown
        return f"{type(obj).__name__}({shown}" + (
            f", length={obj.length})" if isinstance(obj, LenList) else ")")
    if isinstance(obj, dict):
        shown = "{" + ", ".join(f"{show(k)}: {show(v)}" for k, v in dict.items(obj)) + "}"
        return shown if type(obj) is dict else f"{type(obj).__name__}({shown})"
    if isinstance(obj, Iterable):
        return f"Iterable({show(obj.items)})"
    if isinstance(obj, ProducerRecord):
        return (f"ProducerRecord({show(obj.topic)}, {show(obj.value)}, key={show(obj.key)}, "
                f"partition={show(obj.partition)}, timestamp_ms={show(obj.timestamp_ms)}, "
                f"headers={show(obj.headers)})")
    if isinstance(obj, (Returns, SendsFirst, AddsHeader)):
        fields = [obj.name, obj.value] if isinstance(obj, AddsHeader) else []
        return f"{type(obj).__name__}({', '.join(show(f) for f in [*fields, obj.payload])})"
    return repr(obj)


@dataclass(repr=False)
class Call(Shown):
    config: str  # which producer
    method: str  # "send" or "send_batch"
    args: tuple[Any, ...]
    kwargs: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        arguments = [show(a) for a in self.args] + [f"{k}={show(v)}" for k, v in self.kwargs.items()]
        return f"<{self.config}>.{self.method}({', '.join(arguments)})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


def names(errors: tuple[type[BaseException], ...]) -> str:
    return ", ".join(e.__name__ for e in errors) or "nothing (a valid call)"


class Checker:
    """Runs calls on one producer, checks each at once and what they queued at the end."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.producer = target.producer
        self.expected_sent = self.producer.stats()["sent"]
        self.nested_seen = target.nested_count()
        self.futures: list[tuple[Any, Sizes, Call]] = []
        self.batches: list[tuple[Any, list[Expect], Call]] = []

    def run(self, call: Call) -> None:
        note(repr(call))
        if self.producer.stats()["buffered_bytes"] > 4 << 20:
            self.flush()  # far from buffer.memory: a full buffer would time out, flakily
        sent_before = self.producer.stats()["sent"]
        if call.method == "send":
            self.send(call, sent_before)
        else:
            self.send_batch(call, sent_before)
        assert self.producer.stats()["sent"] == self.expected_sent, f"{call!r}: sent miscounted"

    def queued_since(self, sent_before: int) -> int:
        """Records the call queued, not counting those its serializers sent themselves."""
        nested = self.target.nested_count() - self.nested_seen
        self.nested_seen += nested
        self.expected_sent += nested
        return self.producer.stats()["sent"] - sent_before - nested

    def send(self, call: Call, sent_before: int) -> None:
        expect = expect_send(self.target, call.args, call.kwargs)
        try:
            future = self.producer.send(*call.args, **call.kwargs)
        except Exception as exc:
            queued = self.queued_since(sent_before)
            assert isinstance(exc, expect.errors), (
                f"{call!r} raised {type(exc).__name__}: {exc}; documented for its arguments: "
                f"{names(expect.errors)}")
            assert queued == 0, f"{call!r} raised {type(exc).__name__} but queued {queued}"
            return self.still_usable(call)
        queued = self.queued_since(sent_before)
        assert expect.ok, f"{call!r} was accepted; documented: {names(expect.errors)}"
        assert queued == 1, f"{call!r} queued {queued} records"
        self.expected_sent += 1
        self.futures.append((future, expect.detail, call))

    def send_batch(self, call: Call, sent_before: int) -> None:
        expect = expect_batch(self.target, call.args, call.kwargs)
        try:
            result = self.producer.send_batch(*call.args, **call.kwargs)
        except Exception as exc:
            queued = self.queued_since(sent_before)
            batch = getattr(exc, "batch_result", None)
            if batch is None:  # refused for its topic or a column
                assert isinstance(exc, expect.columns.errors), (
                    f"{call!r} raised {type(exc).__name__}: {exc} before its first record; "
                    f"documented for its topic and columns: {names(expect.columns.errors)}")
                assert queued == 0, f"{call!r} raised {type(exc).__name__} but queued {queued}"
                return self.still_usable(call)
            index = batch.sent
            assert queued == index, (f"{call!r} raised {type(exc).__name__} with "
                                     f"batch_result.sent {index}, but {queued} were queued")
            self.expected_sent += index
            assert index < len(expect.records), f"{call!r} raised after its last record"
            self.check_queued(call, expect, index)
            record = expect.records[index]
            assert isinstance(exc, record.errors), (
                f"{call!r} raised {type(exc).__name__}: {exc} at record {index}; documented for "
                f"that record: {names(record.errors)}")
            assert any(f"record {index} was not queued" in n for n in exc.__notes__), (
                f"{call!r}: the note does not name record {index}: {exc.__notes__}")
            self.batches.append((batch, expect.records, call))
            return self.still_usable(call)
        queued = self.queued_since(sent_before)
        self.expected_sent += len(expect.records)
        self.check_queued(call, expect, len(expect.records))
        assert result.sent == queued == len(expect.records), (
            f"{call!r}: {len(expect.records)} records, BatchResult.sent {result.sent}, "
            f"{queued} queued")
        self.batches.append((result, expect.records, call))

    def check_queued(self, call: Call, expect: BatchExpect, queued: int) -> None:
        if queued:
            assert expect.columns.ok, (f"{call!r} queued records; documented for its topic and "
                                       f"columns: {names(expect.columns.errors)}")
        for i, record in enumerate(expect.records[:queued]):
            assert record.ok, f"{call!r} queued record {i}; documented: {names(record.errors)}"
        if queued == len(expect.records):
            assert expect.columns.ok, (f"{call!r} was accepted; documented for its topic and "
                                       f"columns: {names(expect.columns.errors)}")

    def still_usable(self, call: Call) -> None:
        future = self.producer.send(WARM_TOPICS[0], None)  # a null record suits any serializer
        self.expected_sent += 1
        self.futures.append((future, Sizes(None, -1, -1, True), Call(
            self.target.name, "send", (WARM_TOPICS[0], None), {"after": call})))

    def flush(self) -> None:
        self.producer.flush(60)
        stats = self.producer.stats()
        assert stats["delivered"] + stats["failed"] == stats["sent"], f"after flush(): {stats}"

    def finish(self) -> None:
        """Everything queued was delivered, to the partition and with the sizes asked for."""
        self.flush()
        for future, sizes, call in self.futures:
            assert future.done(), f"{call!r}: its future is not done after flush()"
            if not sizes.deliverable:
                continue
            assert future.exception(0) is None, f"{call!r}: delivery failed: {future.exception(0)!r}"
            metadata = future.get(0)
            if sizes.partition is not None:
                assert metadata.partition == sizes.partition, (
                    f"{call!r} went to partition {metadata.partition}")
            assert (metadata.serialized_key_size, metadata.serialized_value_size) == (
                sizes.key, sizes.value), (
                f"{call!r} queued a {metadata.serialized_key_size}-byte key and a "
                f"{metadata.serialized_value_size}-byte value; expected {sizes.key} and "
                f"{sizes.value}")
        for batch, records, call in self.batches:
            assert batch.done(), f"{call!r}: its batch is not done after flush()"
            failed = [(i, e) for i, e in batch.failures if records[i].detail.deliverable]
            assert not failed, f"{call!r}: deliveries failed: {failed}"
        for serializer in self.target.serializers:
            assert all(f.done() for f in serializer.nested)


# ---------------------------------------------------------------------------------------------
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


# ---------------------------------------------------------------------------------------------
# The tests.

FAST = settings(deadline=None, suppress_health_check=list(HealthCheck), print_blob=True)
# Hypothesis shrinks a failing sequence of sends for up to 5 minutes: sequences are reported as
# found, their calls noted one by one, and test_one_call shrinks what one call shows.
SEQUENCES = settings(FAST, phases=[Phase.explicit, Phase.reuse, Phase.generate],
                     report_multiple_bugs=False)


# The reproducers of the bugs this test found, each with what it did; see the CONTRACT for what
# is documented.
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
def test_one_call(targets: dict[str, Target], call: Call) -> None:
    checker = Checker(targets[call.config])
    checker.run(call)
    checker.finish()


class CallSequences(RuleBasedStateMachine):
    """Calls on one producer: its counts hold after every step, and at the end everything is
    delivered as asked."""

    targets: dict[str, Target] = {}

    @initialize(config=st.sampled_from(sorted(CONFIGS)))
    def start(self, config: str) -> None:
        self.checker = Checker(self.targets[config])

    @rule(data=st.data(), calls=st.sampled_from([send_calls, record_send_calls, batch_calls,
                                                 record_batch_calls]))
    def call(self, data: st.DataObject, calls: Callable[[str], st.SearchStrategy[Call]]) -> None:
        self.checker.run(data.draw(calls(self.checker.target.name)))

    @rule()
    def flush(self) -> None:
        self.checker.flush()

    @invariant()
    def counts_hold(self) -> None:
        if hasattr(self, "checker"):
            assert self.checker.producer.stats()["sent"] == self.checker.expected_sent

    def teardown(self) -> None:
        if hasattr(self, "checker"):
            self.checker.finish()


def test_call_sequences(targets: dict[str, Target]) -> None:
    CallSequences.targets = targets
    run_state_machine_as_test(CallSequences, settings=settings(
        SEQUENCES, max_examples=int(os.environ.get("FASTPROD_FUZZ_SEQUENCES", 300)),
        stateful_step_count=20))


@pytest.mark.slow
@pytest.mark.timeout(FUZZ_SECONDS + 300)
def test_fuzz_long(targets: dict[str, Target]) -> None:
    CallSequences.targets = targets
    deadline = time.monotonic() + FUZZ_SECONDS
    rounds = 0
    while time.monotonic() < deadline:
        run_state_machine_as_test(CallSequences, settings=settings(
            SEQUENCES, max_examples=50, stateful_step_count=50, database=None))
        rounds += 1
    print(f"\n{rounds} rounds of 50 sequences of up to 50 calls")


# ---------------------------------------------------------------------------------------------
# Hostile arguments that crash the process if mishandled: each runs in a forked grandchild of a
# fresh interpreter (which has no producer threads to fork with) and reports a line of JSON.

HOSTILE = [
    "close:send",           # the value serializer closes the producer during send()
    "close:batch",          # ... during send_batch(), at its second record
    "close:records",        # ... during send_batch(records)
    "clear:values",         # the value serializer empties a list send_batch is reading
    "clear:keys",
    "clear:partitions",
    "clear:timestamps_ms",
    "clear:headers",
    "clear:records",
    "garbage:values",       # ... replaces the items not read yet
    "garbage:headers",
    "interrupt:batch",      # ... raises KeyboardInterrupt
    "lying-len:send",       # headers in a list whose __len__ says 2**31 - 1
    "lying-len:batch",
]


def _hostile(name: str) -> None:
    """One scenario, in this process; an AssertionError says what went wrong."""
    action, _, what = name.partition(":")
    if action == "lying-len":
        return _lying_len(what)
    producer: fastprod.Producer
    calls = 0
    values: list[Any] = [b"a", b"b", b"c", b"d"]
    columns: dict[str, list[Any]] = {
        "keys": [b"k0", b"k1", b"k2", b"k3"], "partitions": [0, 1, 2, 3],
        "timestamps_ms": [1, 2, 3, 4], "headers": [[("h", b"%d" % i)] for i in range(4)]}
    lists = {"values": values, "records": [ProducerRecord("t1", v) for v in values], **columns}

    def serializer(obj: Any) -> bytes:
        nonlocal calls
        calls += 1
        if calls == 2:  # the second record: the first is queued
            if action == "close":
                producer.close(5)
            elif action == "clear":
                lists[what].clear()
            elif action == "garbage":
                lists[what][2:] = [object()] * 2
            elif action == "interrupt":
                raise KeyboardInterrupt
        return obj

    producer = fastprod.Producer(config=MOCK, value_serializer=serializer, max_block_ms=2000)
    try:
        if what == "send":
            calls = 1
            producer.send("t1", b"v")
        elif what == "records":
            producer.send_batch(lists["records"])
        else:
            result = producer.send_batch("t1", values, **columns)
            assert producer.stats()["sent"] == 4 == result.sent, (
                f"returned {result!r} after {producer.stats()['sent']} records were queued")
        assert action not in ("close", "interrupt"), "it returned"
    except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001
        # A closed producer is documented to raise ProducerClosedError. Columns changed under
        # send_batch are not documented: going on with what it was given, or stopping with a
        # FastProdError, TypeError, ValueError or RuntimeError (Python's "changed size during
        # iteration") are all fine.
        expected = {"close": ProducerClosedError, "interrupt": KeyboardInterrupt}.get(
            action, (FastProdError, TypeError, ValueError, RuntimeError))
        if isinstance(exc, AssertionError) or not isinstance(exc, expected):
            raise AssertionError(f"raised {type(exc).__name__}: {exc}") from exc
        batch = getattr(exc, "batch_result", None)
        sent = producer.stats()["sent"]
        assert sent == (batch.sent if batch is not None else 0), (
            f"{type(exc).__name__}: {sent} queued, batch_result.sent "
            f"{None if batch is None else batch.sent}")
        if batch is not None and producer.closed:
            assert batch.done(), "close() left records of the batch unresolved"
    if not producer.closed:
        producer.send("t1", b"still usable").get(30)
        producer.close(30)


def _lying_len(what: str) -> None:
    """The two header pairs in the list are valid, whatever its __len__ says."""
    if not os.path.exists("/proc/self/statm"):
        return  # the address-space limit below is Linux's
    import resource
    producer = fastprod.Producer(config=MOCK, max_block_ms=2000)
    # A capacity of 2**31 headers is 16 GiB: more than small machines can reserve. With 1 GiB
    # above what this process has mapped, this one fails where they would.
    with open("/proc/self/statm") as statm:
        mapped = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    resource.setrlimit(resource.RLIMIT_AS, (mapped + (1 << 30), resource.RLIM_INFINITY))
    lying = LenList([("h", b"0"), ("i", b"1")], INT32_MAX)
    try:
        if what == "send":
            producer.send("t1", b"v", headers=lying)
        else:
            producer.send_batch("t1", [b"v"], headers=[lying])
    except (TypeError, ValueError):
        pass  # documented for headers, if not what the oracle would choose
    producer.send("t1", b"still usable").get(30)
    producer.close(30)


def _hostile_main(scenarios: list[str]) -> None:
    """Forks one grandchild per scenario; prints a line of JSON for each."""
    children = {}
    for name in scenarios:
        read, write = os.pipe()
        stderr = tempfile.TemporaryFile()
        pid = os.fork()
        if pid == 0:  # the grandchild: run, report, leave without the parent's cleanups
            os.close(read)
            os.dup2(stderr.fileno(), 2)
            faulthandler.enable(all_threads=False)  # a crash names its line
            signal.alarm(60)
            try:
                _hostile(name)
                report = {"ok": True, "message": ""}
            except BaseException as exc:  # noqa: BLE001
                report = {"ok": False, "message": f"{type(exc).__name__}: {exc}"}
            os.write(write, json.dumps(report).encode())
            os._exit(0)
        os.close(write)
        children[name] = (pid, read, stderr)
    for name, (pid, read, stderr) in children.items():
        with os.fdopen(read, "rb") as pipe:
            output = pipe.read()
        _, status = os.waitpid(pid, 0)
        if output:
            report = json.loads(output)
        else:
            why = (f"killed by {signal.Signals(os.WTERMSIG(status)).name}"
                   if os.WIFSIGNALED(status) else f"exit status {os.WEXITSTATUS(status)}")
            stderr.seek(0)
            said = [line.strip() for line in stderr.read().decode(errors="replace").splitlines()
                    if line.strip()][:4]
            report = {"ok": False, "message": f"the process died ({why}); its stderr began: "
                                              + " / ".join(said)}
        print(json.dumps({"name": name, **report}), flush=True)


@pytest.fixture(scope="module")
def hostile_reports() -> dict[str, dict[str, Any]]:
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(root), *filter(None, [os.environ.get("PYTHONPATH")])])}
    done = subprocess.run([sys.executable, "-m", "tests.unit.test_fuzz", *HOSTILE], cwd=root,
                          env=env, capture_output=True, text=True, timeout=300)
    reports = {}
    for line in done.stdout.splitlines():
        if line.startswith("{"):
            report = json.loads(line)
            reports[report.pop("name")] = report
    assert reports, f"the hostile runner failed: {done.returncode}\n{done.stderr[-3000:]}"
    return reports


@pytest.mark.skipif(not hasattr(os, "fork"), reason="runs each scenario in a forked process")
@pytest.mark.parametrize("name", HOSTILE)
def test_hostile(hostile_reports: dict[str, dict[str, Any]], name: str) -> None:
    """No crash; ProducerClosedError from a send whose serializer closed the producer (as from any
    send after close()), the records before it resolved; a batch whose lists shrink or change
    under it goes on or stops with a documented error, its batch_result right; KeyboardInterrupt
    goes through; the producer still sends afterwards."""
    report = hostile_reports[name]
    assert report["ok"], f"{name}: {report['message']}"


if __name__ == "__main__":
    _hostile_main(sys.argv[1:])
