"""What the benchmark clients send. Bytes workloads: distinct random values (incompressible) or,
for the compression scenarios, a pool of text values that compress about as well as JSON logs do.
Record workloads: dicts of 10 fields (~200 B as JSON) keyed by a string field, serialized as JSON,
MessagePack or Avro by each client the way its users would do it.

fastprod serializes in its compiled path (value_serializer=..., send_batch(rows, key_field=...));
confluent-kafka, kafka-python and aiokafka users encode in Python per record (json.dumps,
msgspec, fastavro).
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

from fastprod.serializers import Serializer


AVRO_SCHEMA = {"type": "record", "name": "Event", "fields": [
    {"name": "user", "type": "string"}, {"name": "event", "type": "string"},
    {"name": "ts", "type": "long"}, {"name": "page", "type": "string"},
    {"name": "referrer", "type": ["null", "string"]}, {"name": "ok", "type": "boolean"},
    {"name": "n", "type": "long"}, {"name": "score", "type": "double"},
    {"name": "country", "type": "string"}, {"name": "session", "type": "string"}]}
KEY_FIELD = "user"

Rows = list[dict[str, Any]]


def make_rows(n: int) -> Rows:
    return [{"user": f"user-{i % 50_000}", "event": ("click", "view", "buy")[i % 3],
             "ts": 1_790_000_000_000 + i, "page": f"/catalog/item/{i % 997}",
             "referrer": None if i % 4 else "https://example.com/search?q=shoes",
             "ok": i % 7 != 0, "n": i, "score": i * 0.37,
             "country": ("NL", "DE", "US", "JP")[i % 4], "session": f"{i * 2654435761 % 2**64:016x}"}
            for i in range(n)]


POOL = 1000  # distinct values of a compressible workload, cycled through


def compressible_values(size: int) -> list[bytes]:
    """POOL distinct values of size bytes, each a different stretch of JSON rows run together,
    so that they compress like real text (a few times over, as JSON logs do) and not like one
    repeated byte. The same for every client and for the payload file of the Java and C ones;
    no newline inside (that file is newline-separated)."""
    row_count = POOL * (size // 150 + 2)
    text = b" ".join(json.dumps(row).encode() for row in make_rows(row_count))
    assert len(text) >= POOL * size
    return [text[i * size:(i + 1) * size] for i in range(POOL)]


def encoder(fmt: str) -> Callable[[Any], bytes]:
    """How a confluent-kafka, kafka-python or aiokafka user encodes one row."""
    if fmt in ("json", "table", "parquet"):
        return lambda row: json.dumps(row).encode()
    if fmt == "msgpack":
        import msgspec
        return msgspec.msgpack.encode
    import fastavro
    schema = fastavro.parse_schema(AVRO_SCHEMA)
    write = fastavro.schemaless_writer

    def avro(row: Any) -> bytes:
        out = io.BytesIO()
        write(out, schema, row)
        return out.getvalue()
    return avro


def fastprod_serializer(fmt: str) -> str | Serializer[Any]:
    from fastprod import serializers

    if fmt in ("table", "parquet"):
        return "json"
    return serializers.AvroSerializer(AVRO_SCHEMA) if fmt == "avro" else fmt
