"""Record workloads for bench.clients: dicts of 10 fields (~200 B as JSON), keyed by a string field,
serialized as JSON, MessagePack or Avro by each client the way its users would do it.

fastprod serializes in its compiled path (value_serializer=..., send_batch(rows, key_field=...));
confluent-kafka and kafka-python users encode in Python per record (json.dumps, msgspec, fastavro).
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

from bench._broker import confluent_config

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


def _encoder(fmt: str) -> Callable[[Any], bytes]:
    """How a confluent-kafka or kafka-python user encodes one row."""
    if fmt == "json":
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


def _serializer(fmt: str) -> object:
    from fastprod import serializers
    return serializers.AvroSerializer(AVRO_SCHEMA) if fmt == "avro" else fmt


def fastprod_rows(bootstrap: str, fmt: str, batch: bool, marks: Any) -> Callable[[Any], int]:
    import fastprod

    def run(w: Any) -> int:
        topic, rows, _ = w
        with fastprod.Producer(bootstrap, value_serializer=_serializer(fmt)) as p:
            p.send(topic, None).get(60)  # warm-up: a null value needs no serializer
            marks.start()
            if batch:
                result = p.send_batch(topic, rows, key_field=KEY_FIELD)
                marks.enqueued()
                result.wait()
                delivered = result.delivered
            else:
                send = p.send
                futures = [send(topic, row, key=row[KEY_FIELD]) for row in rows]
                marks.enqueued()
                p.flush()
                delivered = sum(f.succeeded() for f in futures)
            marks.end()
        return delivered
    return run


def confluent_rows(bootstrap: str, fmt: str, marks: Any) -> Callable[[Any], int]:
    import confluent_kafka

    encode = _encoder(fmt)

    def run(w: Any) -> int:
        topic, rows, _ = w
        p = confluent_kafka.Producer(confluent_config(bootstrap))
        p.produce(topic, b"warm-up")
        p.flush(60)
        counts = [0]

        def on_delivery(err: Any, msg: Any) -> None:
            if err is None:
                counts[0] += 1

        marks.start()
        produce, poll = p.produce, p.poll
        for i, row in enumerate(rows):
            value, key = encode(row), row[KEY_FIELD].encode()
            while True:
                try:
                    produce(topic, value, key, on_delivery=on_delivery)
                    break
                except BufferError:
                    poll(0.01)
            if i % 1000 == 0:
                poll(0)
        marks.enqueued()
        p.flush(600)
        marks.end()
        return counts[0]
    return run


def kafka_python_rows(bootstrap: str, fmt: str, marks: Any) -> Callable[[Any], int]:
    import kafka

    encode = _encoder(fmt)

    def run(w: Any) -> int:
        topic, rows, _ = w
        p = kafka.KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5,
                                value_serializer=encode, key_serializer=str.encode)
        p.send(topic, {"warm": "up"}, key="w").get(60)
        marks.start()
        futures = [p.send(topic, row, key=row[KEY_FIELD]) for row in rows]
        marks.enqueued()
        p.flush()
        marks.end()
        delivered = sum(f.succeeded() for f in futures)
        p.close()
        return delivered
    return run
