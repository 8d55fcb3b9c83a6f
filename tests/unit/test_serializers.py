"""Serializers in the compiled send path: built-ins by name and object, custom ones, errors."""

import dataclasses
import datetime
import decimal
import uuid

import confluent_kafka
import fastavro
import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fastprod
from fastprod import errors, serializers
from tests.support.json_values import JSON_VALUES


class Click(msgspec.Struct):
    user: str
    page: int


@dataclasses.dataclass
class Point:
    x: int
    y: int


AVRO_SCHEMA = {"type": "record", "name": "Click",
               "fields": [{"name": "user", "type": "string"}, {"name": "page", "type": "int"}]}

RICH = {"when": datetime.datetime(2026, 11, 27, 12, 0, tzinfo=datetime.timezone.utc),
        "id": uuid.UUID(int=7), "price": decimal.Decimal("1.25"), "tags": ["a", "b"], "n": None}


def size_of(producer, value, **kwargs):
    return producer.send("t1", value, **kwargs).get(timeout=30).serialized_value_size


@pytest.mark.parametrize("serializer, value, expected", [
    ("json", {"a": 1, "b": [1, 2]}, msgspec.json.encode({"a": 1, "b": [1, 2]})),
    (serializers.JsonSerializer(), RICH, msgspec.json.encode(RICH)),
    ("msgpack", {"a": 1}, msgspec.msgpack.encode({"a": 1})),
    (serializers.StructSerializer(Click), Click("u", 3), msgspec.json.encode(Click("u", 3))),
    (serializers.StructSerializer(Click, format="msgpack"), Click("u", 3),
     msgspec.msgpack.encode(Click("u", 3))),
    ("json", Point(1, 2), b'{"x":1,"y":2}'),
    ("str", "héllo", "héllo".encode()),
    ("bytes", bytearray(b"raw"), b"raw"),
])
def test_builtin_serializers_send_their_encoding(make_producer, serializer, value, expected):
    p = make_producer(value_serializer=serializer)
    assert size_of(p, value) == len(expected)
    assert serializers.from_setting("v", serializer).serialize("t1", [], value) == expected


def test_key_serializer_applies_to_keys_and_partitioning(make_producer):
    p = make_producer(key_serializer="json")
    n = len(p.partitions_for("t1"))
    md = p.send("t1", b"v", key={"id": 5}).get(timeout=30)
    assert md.serialized_key_size == len(b'{"id":5}')
    assert md.partition == confluent_kafka.murmur2(b'{"id":5}', n)


def test_none_is_never_serialized(make_producer):
    p = make_producer(value_serializer="json", key_serializer="json")
    md = p.send("t1", None, key=None).get(timeout=30)
    assert (md.serialized_key_size, md.serialized_value_size) == (-1, -1)


def test_avro_schemaless_and_confluent_wire_format():
    click = {"user": "u1", "page": 3}
    plain = serializers.AvroSerializer(AVRO_SCHEMA).serialize("t", None, click)
    wired = serializers.AvroSerializer(AVRO_SCHEMA, schema_id=258).serialize("t", None, click)
    assert wired[:5] == b"\x00\x00\x00\x01\x02" and wired[5:] == plain
    import io
    assert fastavro.schemaless_reader(io.BytesIO(plain), fastavro.parse_schema(AVRO_SCHEMA)) == click


@pytest.mark.parametrize("serializer, bad, type_name", [
    ("json", object(), "object"),
    ("msgpack", {1j}, "set"),
    (serializers.StructSerializer(Click), {"user": "u", "page": 1}, "dict"),
    (serializers.AvroSerializer(AVRO_SCHEMA), {"user": "u", "page": "not an int"}, "dict"),
    (serializers.AvroSerializer(AVRO_SCHEMA), {"page": 1}, "dict"),
    ("str", b"bytes", "bytes"),
])
def test_rejected_values_raise_serialization_error_and_queue_nothing(make_producer, serializer,
                                                                     bad, type_name):
    p = make_producer(value_serializer=serializer)
    with pytest.raises(errors.SerializationError) as info:
        p.send("t1", bad)
    message = str(info.value)
    assert "'t1'" in message and "value" in message and type_name in message
    assert p.stats()["sent"] == 0 and p._held_bytes() == 0
    good = {"user": "u", "page": 1} if "Avro" in type(serializer).__name__ else None
    assert p.send("t1", good).get(timeout=30).offset >= 0  # the producer keeps working


def test_custom_callable_and_serializer_object_with_headers(make_producer):
    class Tagging(serializers.Serializer):
        def serialize(self, topic, headers, obj):
            headers.append(("content-type", b"text/plain"))
            return f"{topic}:{obj}".encode()

    p = make_producer(value_serializer=Tagging(), key_serializer=lambda k: k.upper().encode())
    md = p.send("t1", 42, key="k", headers={"x": b"1"}).get(timeout=30)
    assert (md.serialized_key_size, md.serialized_value_size) == (1, len(b"t1:42"))


def test_custom_serializer_errors_are_wrapped(make_producer):
    def boom(obj):
        raise RuntimeError("nope")

    p = make_producer(value_serializer=boom)
    with pytest.raises(errors.SerializationError, match="nope") as info:
        p.send("t1", 1)
    assert isinstance(info.value.__cause__, RuntimeError)


def test_unknown_serializer_name_is_config_error(make_producer):
    with pytest.raises(errors.ConfigError, match="yaml"):
        make_producer(value_serializer="yaml")


def test_producer_record_in_send_and_send_batch(make_producer):
    p = make_producer(value_serializer="json")
    md = p.send(fastprod.ProducerRecord("t1", {"a": 1}, key=b"k", partition=1)).get(timeout=30)
    assert (md.topic, md.partition, md.serialized_value_size) == ("t1", 1, 7)
    with pytest.raises(TypeError, match="no other arguments"):
        p.send(fastprod.ProducerRecord("t1", 1), b"v")
    records = [fastprod.ProducerRecord("t1" if i % 2 else "t2", {"i": i}, partition=0)
               for i in range(100)]
    result = p.send_batch(records).wait(30)
    assert result.delivered == 100 and result.topic is None


def test_send_batch_of_dicts_with_key_field(make_producer):
    p = make_producer(value_serializer="json")
    n = len(p.partitions_for("t1"))
    rows = [{"user": f"u{i}", "n": i} for i in range(500)] + [{"user": 7, "n": 0}]
    result = p.send_batch("t1", rows, key_field="user").wait(30)
    assert result.delivered == 501
    futures = [p.send("t1", b"v", key=f"u{i}".encode()) for i in range(5)]
    p.flush(30)
    assert [f.get().partition for f in futures] == \
        [confluent_kafka.murmur2(f"u{i}".encode(), n) for i in range(5)]
    with pytest.raises(errors.SerializationError, match="no key field 'user'") as info:
        p.send_batch("t1", [{"user": "a"}, {"other": 1}], key_field="user")
    assert any("record 1" in note for note in info.value.__notes__)


def test_send_batch_error_names_the_index(make_producer):
    p = make_producer(value_serializer="json")
    with pytest.raises(errors.SerializationError) as info:
        p.send_batch("t1", [{"ok": 1}, {"ok": 2}, object()])
    assert any("record 2 was not queued" in note for note in info.value.__notes__)
    assert info.value.batch_result.wait(30).delivered == 2


@settings(max_examples=200, deadline=None)
@given(JSON_VALUES)
def test_json_and_msgpack_encodings_round_trip(value):
    assert msgspec.json.decode(serializers.JsonSerializer().serialize("t", [], value)) == value
    assert msgspec.msgpack.decode(serializers.MsgpackSerializer().serialize("t", [], value)) == value
