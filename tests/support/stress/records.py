"""The stress scenarios' records: everything about a record follows from its key ("t<thread>-
<seq>"): its value, padded to a length that varies from record to record, whether it is poisoned,
its partition; and the codecs, one per serializer under test, that say how a record is sent and
how a consumed one is read back and judged."""

from __future__ import annotations

import io
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import confluent_kafka
import fastavro
import msgspec

from fastprod import serializers
from tests.support.topics import Consumed

PARTITIONS = 6


def crc(data: str | bytes) -> int:
    return zlib.crc32(data.encode() if isinstance(data, str) else data)


def padding(key: str) -> str:
    # Lengths differ from one record to the next: a value longer than the shared buffer's last one
    # made msgspec resize a buffer send() still held ("cannot be re-sized"); one that fitted was
    # overwritten in place.
    n = crc(key) % 301
    return chr(ord("a") + n % 26) * n


def fields(key: str) -> dict[str, str]:
    return {"key": key, "pad": padding(key)}


def text(key: str) -> str:
    return f"{key}|{padding(key)}"


def nap(seed: int) -> None:
    """Sleeps, GIL released, for one record in 32: other threads run send() meanwhile."""
    if seed % 32 == 0:
        time.sleep(0.0002)


def value_poisoned(key: str) -> bool:
    return crc(key) % 50 == 7


def partition_poisoned(key_bytes: bytes) -> bool:
    return crc(key_bytes) % 50 == 11


class Unencodable:
    """A value no serializer takes: every one of them must refuse it with SerializationError."""


class Payload(msgspec.Struct):
    key: str
    pad: str


AVRO_SCHEMA = {"type": "record", "name": "Payload",
               "fields": [{"name": "key", "type": "string"}, {"name": "pad", "type": "string"}]}
AVRO_SCHEMA_ID = 12
AVRO_PARSED = fastavro.parse_schema(AVRO_SCHEMA)
AVRO_HEADER = b"\0" + AVRO_SCHEMA_ID.to_bytes(4, "big")  # Confluent wire format


def read_avro(record: Consumed) -> object:
    if record.value[:5] != AVRO_HEADER:
        return ("bad header", record.value[:5])
    return fastavro.schemaless_reader(io.BytesIO(record.value[5:]), AVRO_PARSED)


def sleepy_json(obj: Any) -> bytes:
    """A plain callable serializer that sometimes sleeps inside send()."""
    if isinstance(obj, dict):
        nap(crc(obj["key"]))
    return msgspec.json.encode(obj)


class HeaderStamping(serializers.Serializer[Any]):
    """kafka-python's Serializer: MessagePack, plus a header naming the key; sometimes sleeps."""

    def serialize(self, topic: str, headers: Any, obj: Any) -> bytes:
        data = msgspec.msgpack.encode(obj)
        nap(crc(obj["key"]))
        headers.append(("key", obj["key"].encode()))
        return data


class CrcPartitioner:
    """kafka-python's partitioner(key_bytes, all_partitions, available_partitions): crc32 of the
    key bytes. It sometimes sleeps, while send() holds the record's serialized bytes; with
    poison, it raises LookupError for one key in 50."""

    def __init__(self, poison: bool = False) -> None:
        self.poison = poison

    def __call__(self, key: bytes, all_partitions: tuple[int, ...],
                 available_partitions: tuple[int, ...]) -> int:
        if self.poison and partition_poisoned(key):
            raise LookupError(f"no partition for {key!r}")
        nap(crc(key))
        return crc(key) % len(all_partitions)


@dataclass(frozen=True)
class Codec:
    """One serializer under test: what send() gets for a key, the producer's settings, and how a
    consumed record is read back and judged."""
    settings: Callable[[], dict[str, Any]]  # fresh serializer objects for each producer
    value: Callable[[str], Any]
    read: Callable[[Consumed], Any]
    expect: Callable[[str], Any]  # what read() gives for the key's record
    key: Callable[[str], Any] = str  # what send() gets as the key
    key_bytes: Callable[[str], bytes] = str.encode  # the key as the key serializer makes it
    key_text: Callable[[bytes], str] = bytes.decode
    # CrcPartitioner (a Python call inside send()) instead of murmur2: the GIL is released between
    # serializing a record and queueing it, not only while send() waits for buffer space.
    python_partitioner: bool = False

    def expected_partition(self, key_bytes: bytes) -> int:
        if self.python_partitioner:
            return crc(key_bytes) % PARTITIONS
        return confluent_kafka.murmur2(key_bytes, PARTITIONS)


def decode_json(record: Consumed) -> Any:
    return msgspec.json.decode(record.value)


CODECS: dict[str, Codec] = {
    "bytes": Codec(lambda: {"value_serializer": "bytes"},
                   value=lambda k: text(k).encode(), read=lambda r: r.value,
                   expect=lambda k: text(k).encode(), key=str.encode),
    "str": Codec(lambda: {"key_serializer": "str", "value_serializer": "str"},
                 value=text, read=lambda r: r.value.decode(), expect=text),
    "json": Codec(lambda: {"key_serializer": "json", "value_serializer": "json"},
                  value=fields, read=decode_json, expect=fields,
                  key_bytes=msgspec.json.encode, key_text=msgspec.json.decode,
                  python_partitioner=True),
    "msgpack": Codec(lambda: {"key_serializer": "msgpack", "value_serializer": "msgpack"},
                     value=fields, read=lambda r: msgspec.msgpack.decode(r.value), expect=fields,
                     key_bytes=msgspec.msgpack.encode, key_text=msgspec.msgpack.decode),
    "struct": Codec(lambda: {"value_serializer": serializers.StructSerializer(Payload,
                                                                              format="msgpack")},
                    value=lambda k: Payload(**fields(k)),
                    read=lambda r: msgspec.msgpack.decode(r.value, type=Payload),
                    expect=lambda k: Payload(**fields(k)), python_partitioner=True),
    "avro": Codec(lambda: {"value_serializer": serializers.AvroSerializer(
                      AVRO_SCHEMA, schema_id=AVRO_SCHEMA_ID)},
                  value=fields, read=read_avro, expect=fields, python_partitioner=True),
    "callable": Codec(lambda: {"key_serializer": str.encode, "value_serializer": sleepy_json},
                      value=fields, read=decode_json, expect=fields, python_partitioner=True),
    "object": Codec(lambda: {"value_serializer": HeaderStamping()},
                    value=fields, read=lambda r: (msgspec.msgpack.decode(r.value), r.headers),
                    expect=lambda k: (fields(k), [("key", k.encode())])),
}
