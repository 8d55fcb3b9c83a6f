"""Serializers: how keys and values become bytes before they are queued.

Pass one to ``Producer(key_serializer=..., value_serializer=...)`` as an object or by name
(``"bytes"``, ``"str"``, ``"json"``, ``"msgpack"``), or pass your own: a callable ``obj -> bytes``
or an object with ``serialize(topic, headers, obj) -> bytes`` (kafka-python 3.0's Serializer;
headers it appends to the list it is given are sent with the record).

JSON, MessagePack and Struct serializers encode with msgspec straight into a buffer the producer
reuses, so the compiled send path makes no bytes object per record. A null key or value (None) is
never serialized: it stays null (a tombstone), as with the Java client's built-in serializers.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

import msgspec

from fastprod.errors import ConfigError, SerializationError

T = TypeVar("T")

# Headers as a serializer sees and extends them.
HeaderList = list[tuple[str, "bytes | str | None"]]


class Serializer(Generic[T]):
    """Base of fastprod's serializers: ``serialize(topic, headers, obj) -> bytes``.

    The producer takes a faster route when ``encode_into`` is set: ``encode_into(obj, buffer)``
    writes the encoding into a reused bytearray; or when ``encode`` is set: ``encode(obj)``
    returns the bytes, for serializers that never add headers. ``accepts`` (a type or tuple of
    types, or None for any) is checked before encoding.
    """

    encode_into: Callable[[Any, bytearray], None] | None = None
    encode: Callable[[Any], bytes] | None = None
    accepts: type | tuple[type, ...] | None = None

    def serialize(self, topic: str, headers: HeaderList | None, obj: T) -> bytes:
        """The bytes to send for ``obj`` (a record to ``topic``); may append to ``headers``.
        Raises SerializationError for an object it cannot encode."""
        raise NotImplementedError

    def __call__(self, obj: T) -> bytes:
        return self.serialize("", None, obj)


class BytesSerializer(Serializer[Any]):
    """bytes, bytearray or memoryview as they are (copied once, at send())."""

    accepts = (bytes, bytearray, memoryview)

    def serialize(self, topic: str, headers: HeaderList | None, obj: Any) -> bytes:
        return bytes(obj)


class StrSerializer(Serializer[str]):
    """str as UTF-8 (``"str"``)."""

    accepts = str

    def serialize(self, topic: str, headers: HeaderList | None, obj: str) -> bytes:
        return obj.encode()


class _MsgspecSerializer(Serializer[Any]):
    _module: Any  # msgspec.json or msgspec.msgpack

    def __init__(self, *, enc_hook: Callable[[Any], Any] | None = None,
                 order: str | None = None) -> None:
        self._encoder = self._module.Encoder(enc_hook=enc_hook, order=order)
        self.encode_into = self._encoder.encode_into

    def serialize(self, topic: str, headers: HeaderList | None, obj: Any) -> bytes:
        return self._encoder.encode(obj)  # type: ignore[no-any-return]


class JsonSerializer(_MsgspecSerializer):
    """JSON by msgspec (``"json"``): dicts, lists, str, numbers, bool, None, dataclasses,
    msgspec Structs, datetime, date, time, UUID, Decimal, enums… as msgspec encodes them.
    ``order="sorted"`` sorts dict keys (deterministic bytes); ``enc_hook`` handles other types."""

    _module = msgspec.json


class MsgpackSerializer(_MsgspecSerializer):
    """MessagePack by msgspec (``"msgpack"``); accepts what JsonSerializer does, and bytes."""

    _module = msgspec.msgpack


class StructSerializer(Serializer[T]):
    """Instances of one msgspec.Struct type (or dataclass), as JSON (default) or MessagePack;
    anything else is a SerializationError. One encoder per serializer, reused."""

    def __init__(self, type_: type[T], *, format: str = "json") -> None:  # noqa: A002
        if format not in ("json", "msgpack"):
            raise ConfigError(f"StructSerializer format must be 'json' or 'msgpack', not {format!r}")
        self.type = type_
        self.accepts = type_
        module = msgspec.json if format == "json" else msgspec.msgpack
        self._encoder = module.Encoder()
        self.encode_into = self._encoder.encode_into

    def serialize(self, topic: str, headers: HeaderList | None, obj: T) -> bytes:
        if not isinstance(obj, self.type):
            raise SerializationError(f"expected {self.type.__name__}, not {type(obj).__name__}")
        encoded: bytes = self._encoder.encode(obj)
        return encoded


class AvroSerializer(Serializer[Any]):
    """Avro binary (schemaless) by fastavro, the schema parsed once. With ``schema_id``, each
    payload gets the Confluent wire format: magic byte 0 and the 4-byte big-endian schema id.
    Data that does not match the schema is a SerializationError. Needs ``pip install fastavro``."""

    def __init__(self, schema: Mapping[str, Any] | str, schema_id: int | None = None) -> None:
        try:
            import fastavro
        except ImportError as exc:
            raise ConfigError(f"AvroSerializer needs fastavro: pip install fastavro ({exc})") from None
        parsed: Any = msgspec.json.decode(schema) if isinstance(schema, str) else dict(schema)
        try:
            self.schema = fastavro.parse_schema(parsed)
        except Exception as exc:  # fastavro raises several types for bad schemas
            raise ConfigError(f"invalid Avro schema: {exc}") from exc
        if schema_id is not None and not 0 <= schema_id < 2**31:
            raise ConfigError(f"schema_id must be between 0 and 2**31 - 1, not {schema_id}")
        self.schema_id = schema_id
        self._prefix = b"" if schema_id is None else b"\0" + schema_id.to_bytes(4, "big")
        self._write = fastavro.schemaless_writer
        self.encode = self._encode

    def serialize(self, topic: str, headers: HeaderList | None, obj: Any) -> bytes:
        return self._encode(obj)

    def _encode(self, obj: Any) -> bytes:
        # A stream per call: fastavro runs Python code while it writes, so other threads' send()
        # interleave, and a shared stream gave records each other's bytes.
        out = io.BytesIO()
        out.write(self._prefix)
        try:
            self._write(out, self.schema, obj)
        except Exception as exc:
            raise SerializationError(f"does not match the Avro schema: {exc}") from exc
        return out.getvalue()


_BY_NAME: dict[str, Callable[[], Serializer[Any]]] = {
    "bytes": BytesSerializer, "str": StrSerializer, "json": JsonSerializer,
    "msgpack": MsgpackSerializer,
}


def from_setting(name: str, value: object) -> object:
    """A serializer from what the user gave for ``name`` (key/value_serializer): None, a name,
    a Serializer, an object with serialize(topic, headers, obj), or a callable obj -> bytes."""
    if value is None:
        return None
    if isinstance(value, str):
        factory = _BY_NAME.get(value)
        if factory is None:
            raise ConfigError(f"{name} {value!r} is not one of {sorted(_BY_NAME)}; pass a "
                              "Serializer object or a callable for anything else")
        return factory()
    if callable(getattr(value, "serialize", None)) or callable(value):
        return value
    raise ConfigError(f"{name} must be a name, a Serializer or a callable, not {value!r}")
