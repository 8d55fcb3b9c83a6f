"""Every serializer against the real broker: records consumed back decode to the originals."""

import io

import fastavro
import msgspec
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

import fastprod
from fastprod import serializers
from tests.support.json_values import JSON_VALUES
from tests.support.topics import consume, create_topic, unique_topic


class Order(msgspec.Struct):
    id: int
    item: str
    qty: float


AVRO = {"type": "record", "name": "Order", "fields": [
    {"name": "id", "type": "long"}, {"name": "item", "type": "string"},
    {"name": "qty", "type": "double"}, {"name": "note", "type": ["null", "string"]}]}


def roundtrip(bootstrap, serializer, values, **send_batch_kwargs):
    topic = create_topic(bootstrap, unique_topic("ser"), 1)
    with fastprod.Producer(bootstrap, value_serializer=serializer) as producer:
        result = producer.send_batch(topic, values, partitions=0, **send_batch_kwargs)
        assert result.wait(60).delivered == len(values)
    consumed = consume(bootstrap, topic, 1, len(values))
    assert len(consumed) == len(values)
    return sorted(consumed, key=lambda c: c.offset)


def test_json_dicts_with_key_field(bootstrap):
    rows = [{"user": f"u{i}", "n": i, "tags": ["a"] * (i % 3), "ok": i % 2 == 0} for i in range(300)]
    consumed = roundtrip(bootstrap, "json", rows, key_field="user")
    assert [msgspec.json.decode(c.value) for c in consumed] == rows
    assert [c.key for c in consumed] == [r["user"].encode() for r in rows]


def test_msgpack_and_structs(bootstrap):
    rows = [{"i": i, "b": b"\x00\xff" * i} for i in range(200)]
    assert [msgspec.msgpack.decode(c.value) for c in roundtrip(bootstrap, "msgpack", rows)] == rows
    orders = [Order(i, f"item-{i}", i / 4) for i in range(200)]
    consumed = roundtrip(bootstrap, serializers.StructSerializer(Order), orders)
    assert [msgspec.json.decode(c.value, type=Order) for c in consumed] == orders


def test_avro_with_wire_format(bootstrap):
    rows = [{"id": i, "item": f"item-{i}", "qty": i * 1.5, "note": None if i % 2 else "n"}
            for i in range(200)]
    consumed = roundtrip(bootstrap, serializers.AvroSerializer(AVRO, schema_id=42), rows)
    parsed = fastavro.parse_schema(AVRO)
    for c, row in zip(consumed, rows):
        assert c.value[:5] == b"\x00\x00\x00\x00\x2a"  # magic byte 0, schema id 42 big-endian
        assert fastavro.schemaless_reader(io.BytesIO(c.value[5:]), parsed) == row


def test_custom_serializer_headers_are_sent(bootstrap):
    class Versioned(serializers.Serializer):
        def serialize(self, topic, headers, obj):
            headers.append(("schema-version", b"3"))
            return repr(obj).encode()

    topic = create_topic(bootstrap, unique_topic("hdr"), 1)
    with fastprod.Producer(bootstrap, value_serializer=Versioned()) as producer:
        producer.send(topic, (1, 2), headers=[("trace", b"t1")]).get(30)
        producer.send(topic, "x").get(30)
    consumed = sorted(consume(bootstrap, topic, 1, 2), key=lambda c: c.offset)
    assert [(c.value, c.headers) for c in consumed] == [
        (b"(1, 2)", [("trace", b"t1"), ("schema-version", b"3")]),
        (b"'x'", [("schema-version", b"3")])]


def test_arrow_column_values(bootstrap):
    values = [f"row-{i}" if i % 10 else None for i in range(500)]
    consumed = roundtrip(bootstrap, None, pa.chunked_array([pa.array(values[:123]),
                                                            pa.array(values[123:])]))
    assert [c.value for c in consumed] == [None if v is None else v.encode() for v in values]




@settings(max_examples=3, deadline=None)
@given(st.lists(JSON_VALUES, min_size=100, max_size=100),
       st.sampled_from(["json", "msgpack"]))
def test_generated_values_round_trip_through_the_broker(bootstrap, values, fmt):
    decode = msgspec.json.decode if fmt == "json" else msgspec.msgpack.decode
    consumed = roundtrip(bootstrap, fmt, [{"v": v} for v in values])
    assert [decode(c.value)["v"] for c in consumed] == values
