"""The CONTRACT the fuzzer checks calls against: what a bad value of each kind of argument to
send(), send_batch() and ProducerRecord may raise, read from the documentation.

README "send()": keys and values are bytes, str (UTF-8), bytearray, memoryview or None; anything
else raises SerializationError unless a serializer makes it bytes. errors.py: SerializationError
is "a key, value or header could not be turned into bytes", so also a str that UTF-8 cannot
encode (a lone surrogate), a released memoryview, and whatever a serializer raised or returned
instead of bytes. README "Errors": InvalidTopicError for a name Kafka refuses. send()'s
docstring and messages: TypeError for a wrong type of topic, partition, timestamp_ms or headers;
ValueError for an int out of range (partition 0..2**31-1; timestamp_ms from 0, and a timestamp
past int64 is out of range too) and for an empty or NUL-carrying header name; "send(record)
takes no other arguments" (TypeError). README "Partitioning": UnknownPartitionError for a
partition the topic lacks. send_batch's docstring: columns are sequences as long as values; a
record send() would refuse stops the loop with send()'s exception, its index in a note and
exc.batch_result holding the records queued before it.

Anything else escaping (BufferError, SystemError, AttributeError, IndexError, KeyError,
OverflowError, UnicodeEncodeError for a value...) is a bug: callers cannot catch what the
documentation does not name. Where the documentation does not decide (a str subclass for a
str, an iterable that is not a list, a strided memoryview), taking the value and refusing it
with the error listed are both accepted.

The oracle below applies these rules to one call: per argument, whether it is valid and which
exceptions a bad one may raise.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from fastprod import ProducerRecord
from fastprod.errors import (InvalidTimestampError, InvalidTopicError, KafkaTimeoutError,
                             MessageSizeTooLargeError, SerializationError, UnknownPartitionError)
from tests.support.fuzz.producers import ENCODERS, WARM_TOPICS, Target
from tests.support.fuzz.user_code import AddsHeader, Raises, Returns, SendsFirst

MAX_RECORD_BYTES = 1_000_000  # max_request_size's default: key + value + header names and values
INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1

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
