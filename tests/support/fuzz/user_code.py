"""The fuzzer's own user code: subclasses whose dunders lie, the instructions its serializers
obey (return this, raise, add a header, send a record first), the serializers of each kind, and
show(), which prints all of them readably (reproducers are copied from its output)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import fastprod
from fastprod import ProducerRecord
from fastprod.serializers import Serializer


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
        self.nested_topic = ""  # both set by make_target, with the producer
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
            self.nested.append(self.producer.send(self.nested_topic, None, key=self.nested_key))
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
