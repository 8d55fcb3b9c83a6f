"""One benchmark run of one Python client, in this process:

    python -m fastprod.bench.clients CLIENT --bootstrap B --topic T --records N --size BYTES
                                     [--keyed] [--compression lz4] [--format json|msgpack|avro]

fastprod.bench.run starts this once per (scenario, client, run), so clients never share a process.
Each client creates its producer, delivers one warm-up record (metadata, producer id), then is
timed from its first send to its last acknowledgement. Prints one JSON line: delivered, failed,
seconds, enqueue_seconds (the send loop), cpu_seconds (whole process, all threads), max_rss_kb.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastprod.bench.environment import confluent_config, peak_rss_kb
from fastprod.bench.workloads import (KEY_FIELD, compressible_values, encoder, fastprod_serializer,
                                      make_rows)


@dataclass
class Workload:
    topic: str
    values: Any                  # bytes or row dicts (fmt set) in a list; a pyarrow Table (table);
    #                              a Parquet file's path (parquet)
    keys: list[Any] | None       # bytes, str (rows), or None: keyless
    compression: str | None
    fmt: str | None              # json | msgpack | avro: values are rows the client encodes


class Clock:
    """The timing marks every client sets: start, enqueued (send loop done), end (all acked)."""

    def __init__(self) -> None:
        self.marks: dict[str, float] = {}

    def start(self) -> None:
        self.marks["cpu0"], self.marks["t0"] = time.process_time(), time.perf_counter()

    def enqueued(self) -> None:
        self.marks["enqueued"] = time.perf_counter()

    def end(self) -> None:
        self.marks["cpu1"], self.marks["t1"] = time.process_time(), time.perf_counter()


Client = Callable[[str, Workload, Clock], int]  # returns the number of records acknowledged


def _rows(w: Workload) -> tuple[list[Any], list[Any] | None]:
    """The values and keys to send: a table (or Parquet file) workload's rows as dicts (read and
    to_pylist, the steps its users take before send_batch or produce; call it inside the
    timing)."""
    if w.fmt == "parquet":
        import pyarrow.parquet

        rows = pyarrow.parquet.read_table(w.values).to_pylist()
    elif w.fmt == "table":
        rows = w.values.to_pylist()
    else:
        return w.values, w.keys
    return rows, [row[KEY_FIELD] for row in rows]


def _fastprod(mode: str) -> Client:
    """mode: drop (fire and forget), futures (kept, read after flush), callback, batch, table."""
    def run(bootstrap: str, w: Workload, clock: Clock) -> int:
        import fastprod

        counts = [0]

        def on_delivery(md: Any) -> None:
            counts[0] += 1

        serializer = fastprod_serializer(w.fmt) if w.fmt else None
        topic, values, keys = w.topic, w.values, w.keys
        with fastprod.Producer(bootstrap, compression_type=w.compression,
                               value_serializer=serializer) as p:
            p.send(topic, None).get(60)  # warm-up; a null value needs no serializer
            clock.start()
            send = p.send
            kept: list[Any] = []
            if mode == "table":
                if w.fmt == "parquet":
                    import pyarrow.dataset

                    values = pyarrow.dataset.dataset(values)
                result = p.send_table(topic, values, key=KEY_FIELD)
                clock.enqueued()
                result.wait()
                clock.end()
                return result.delivered
            values, keys = _rows(w)
            if mode == "batch":
                result = (p.send_batch(topic, values, key_field=KEY_FIELD) if w.fmt
                          else p.send_batch(topic, values, keys=keys))
                clock.enqueued()
                result.wait()
                clock.end()
                return result.delivered
            if mode == "drop":
                if keys is None:
                    for v in values:
                        send(topic, v)
                else:
                    for v, k in zip(values, keys):
                        send(topic, v, key=k)
            elif mode == "futures":
                kept = ([send(topic, v) for v in values] if keys is None
                        else [send(topic, v, key=k) for v, k in zip(values, keys)])
            else:
                for i, v in enumerate(values):
                    send(topic, v, key=None if keys is None else keys[i]).add_callback(on_delivery)
            clock.enqueued()
            p.flush()
            clock.end()
            if mode == "drop":
                return p.stats()["delivered"] - 1  # minus the warm-up record
        return counts[0] if mode == "callback" else sum(f.succeeded() for f in kept)
    return run


def _confluent(callback: bool, batch: bool) -> Client:
    def run(bootstrap: str, w: Workload, clock: Clock) -> int:
        import confluent_kafka

        encode = encoder(w.fmt) if w.fmt else None
        topic, values, keys = w.topic, w.values, w.keys
        p = confluent_kafka.Producer(confluent_config(bootstrap, w.compression))
        p.produce(topic, b"warm-up")
        p.flush(60)
        counts = [0]

        def on_delivery(err: Any, msg: Any) -> None:
            if err is None:
                counts[0] += 1

        clock.start()
        values, keys = _rows(w)
        if batch:
            step = 10_000
            for i in range(0, len(values), step):
                part = values[i:i + step]
                chunk = [{"value": encode(v) if encode else v} for v in part]
                if keys is not None:
                    for message, key in zip(chunk, keys[i:i + step]):
                        message["key"] = key
                while chunk:
                    p.produce_batch(topic, chunk)
                    chunk = [m for m in chunk if "_error" in m]
                    for m in chunk:
                        del m["_error"]
                    if chunk:
                        p.poll(0.01)
        else:
            produce, poll = p.produce, p.poll
            kw: dict[str, Any] = {"on_delivery": on_delivery} if callback else {}
            for i, v in enumerate(values):
                value = encode(v) if encode else v
                key = None if keys is None else keys[i]
                while True:
                    try:
                        produce(topic, value, key, **kw)
                        break
                    except BufferError:
                        poll(0.01)
                if i % 1000 == 0:
                    poll(0)
        clock.enqueued()
        left = p.flush(600)
        clock.end()
        return counts[0] if callback else len(values) - left
    return run


def _warm_up(w: Workload) -> tuple[Any, Any]:
    """A (value, key) that this workload's serializers take."""
    return ({"warm": "up"}, "warm-up") if w.fmt else (b"warm-up", None)


def _kafka_python(bootstrap: str, w: Workload, clock: Clock) -> int:
    import kafka  # type: ignore[import-untyped]

    p = kafka.KafkaProducer(
        bootstrap_servers=bootstrap, acks="all", linger_ms=5, compression_type=w.compression,
        value_serializer=encoder(w.fmt) if w.fmt else None,
        key_serializer=str.encode if w.fmt else None)
    p.send(w.topic, *_warm_up(w)).get(60)
    topic, values, keys = w.topic, w.values, w.keys
    clock.start()
    send = p.send
    futures = ([send(topic, v) for v in values] if keys is None
               else [send(topic, v, key=k) for v, k in zip(values, keys)])
    clock.enqueued()
    p.flush()
    clock.end()
    delivered = sum(bool(f.succeeded()) for f in futures)
    p.close()
    return delivered


def _aiokafka(bootstrap: str, w: Workload, clock: Clock) -> int:
    import asyncio

    import aiokafka  # type: ignore[import-untyped]

    async def produce() -> int:
        p = aiokafka.AIOKafkaProducer(
            bootstrap_servers=bootstrap, acks="all", linger_ms=5, enable_idempotence=True,
            compression_type=w.compression,
            value_serializer=encoder(w.fmt) if w.fmt else None,
            key_serializer=str.encode if w.fmt else None)
        await p.start()
        try:
            await p.send_and_wait(w.topic, *_warm_up(w))
            topic, values, keys = w.topic, w.values, w.keys
            clock.start()
            send = p.send  # awaits only while its buffer is full; returns the record's future
            futures = ([await send(topic, v) for v in values] if keys is None
                       else [await send(topic, v, key=k) for v, k in zip(values, keys)])
            clock.enqueued()
            outcomes = await asyncio.gather(*futures, return_exceptions=True)
            clock.end()
            return sum(not isinstance(o, BaseException) for o in outcomes)
        finally:
            await p.stop()
    return asyncio.run(produce())


CLIENTS: dict[str, Client] = {
    "fastprod": _fastprod("futures"),
    "fastprod-drop": _fastprod("drop"),
    "fastprod-cb": _fastprod("callback"),
    "fastprod-batch": _fastprod("batch"),
    "fastprod-table": _fastprod("table"),
    "confluent": _confluent(callback=False, batch=False),
    "confluent-cb": _confluent(callback=True, batch=False),
    "confluent-batch": _confluent(callback=False, batch=True),
    "kafka-python": _kafka_python,
    "aiokafka": _aiokafka,
}


def workload(topic: str, records: int, size: int, keyed: bool, compression: str | None,
             fmt: str | None) -> Workload:
    """Built before timing, as a real job would already hold its data."""
    if fmt in ("table", "parquet"):
        import pyarrow

        table = pyarrow.Table.from_pylist(make_rows(records))
        if fmt == "table":
            return Workload(topic, table, None, compression, fmt)
        import atexit
        import tempfile

        import pyarrow.parquet

        path = tempfile.mkstemp(prefix="fastprod-bench-", suffix=".parquet")[1]
        atexit.register(os.unlink, path)
        pyarrow.parquet.write_table(table, path)
        return Workload(topic, path, None, compression, fmt)
    if fmt:
        rows = make_rows(records)
        return Workload(topic, rows, [row[KEY_FIELD] for row in rows], compression, fmt)
    if compression:
        pool = compressible_values(size)
        values = [pool[i % len(pool)] for i in range(records)]
    else:
        values = [os.urandom(size) for _ in range(records)]
    keys = [b"key-%d" % i for i in range(records)] if keyed else None
    return Workload(topic, values, keys, compression, None)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("client", choices=sorted(CLIENTS))
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--topic", required=True)
    ap.add_argument("--records", type=int, required=True)
    ap.add_argument("--size", type=int, default=100)
    ap.add_argument("--keyed", action="store_true")
    ap.add_argument("--compression")
    ap.add_argument("--format", choices=["json", "msgpack", "avro", "table", "parquet"])
    args = ap.parse_args()
    w = workload(args.topic, args.records, args.size, args.keyed, args.compression, args.format)
    clock = Clock()
    delivered = CLIENTS[args.client](args.bootstrap, w, clock)
    m = clock.marks
    print(json.dumps({
        "delivered": delivered, "failed": args.records - delivered,
        "seconds": m["t1"] - m["t0"], "enqueue_seconds": m["enqueued"] - m["t0"],
        "cpu_seconds": m["cpu1"] - m["cpu0"], "max_rss_kb": peak_rss_kb(),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
