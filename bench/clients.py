"""One benchmark run of one client, in this process: `python -m bench.clients CLIENT SCENARIO ...`.

bench/e2e.py starts this once per (client, scenario, run), so clients never share a process.
Prints one JSON line: delivered, failed, seconds (first send to last acknowledgement),
enqueue_seconds (the send loop), cpu_seconds (whole process, all threads), max_rss_kb.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable

from bench import records
from bench._broker import confluent_config, peak_rss_kb

# What a scenario hands a client: topic, values, keys (or None).
Workload = tuple[str, list[bytes], list[bytes] | None]


def _fastprod(bootstrap: str, mode: str) -> Callable[[Workload], int]:
    """mode: "drop" (fire and forget), "futures" (kept; all resolved by flush), "callback"."""
    import fastprod

    def run(w: Workload) -> int:
        topic, values, keys = w
        counts = [0]

        def on_delivery(md):
            counts[0] += 1

        with fastprod.Producer(bootstrap) as p:
            p.send(topic, b"warm-up").get(60)
            _start()
            send = p.send
            if mode == "drop":
                if keys is None:
                    for v in values:
                        send(topic, v)
                else:
                    for v, k in zip(values, keys):
                        send(topic, v, key=k)
                kept = []
            elif mode == "futures":
                if keys is None:
                    kept = [send(topic, v) for v in values]
                else:
                    kept = [send(topic, v, key=k) for v, k in zip(values, keys)]
            else:
                kept = []
                for i, v in enumerate(values):
                    send(topic, v, key=None if keys is None else keys[i]).add_callback(on_delivery)
            _enqueued()
            p.flush()
            _end()
        if mode == "drop":
            return p.stats()["delivered"] - 1  # minus the warm-up record
        if mode == "callback":
            return counts[0]
        return sum(f.succeeded() for f in kept)
    return run


def _fastprod_batch(bootstrap: str) -> Callable[[Workload], int]:
    """send_batch() of every record at once, then wait for the BatchResult."""
    import fastprod

    def run(w: Workload) -> int:
        topic, values, keys = w
        with fastprod.Producer(bootstrap) as p:
            p.send(topic, b"warm-up").get(60)
            _start()
            result = p.send_batch(topic, values, keys=keys)
            _enqueued()
            result.wait()
            _end()
        return result.delivered
    return run


def _confluent(bootstrap: str, callback: bool, batch: bool) -> Callable[[Workload], int]:
    import confluent_kafka

    def run(w: Workload) -> int:
        topic, values, keys = w
        p = confluent_kafka.Producer(confluent_config(bootstrap))
        p.produce(topic, b"warm-up")
        p.flush(60)
        counts = [0, 0]

        def on_delivery(err, msg):
            counts[err is not None] += 1

        _start()
        if batch:
            step = 10_000
            for i in range(0, len(values), step):
                chunk = [{"value": v} for v in values[i:i + step]] if keys is None else \
                    [{"value": v, "key": k} for v, k in zip(values[i:i + step], keys[i:i + step])]
                while chunk:
                    p.produce_batch(topic, chunk)
                    chunk = [m for m in chunk if "_error" in m]
                    for m in chunk:
                        del m["_error"]
                    if chunk:
                        p.poll(0.01)
        else:
            produce, poll = p.produce, p.poll
            kw = {"on_delivery": on_delivery} if callback else {}
            for i, v in enumerate(values):
                k = None if keys is None else keys[i]
                while True:
                    try:
                        produce(topic, v, k, **kw)
                        break
                    except BufferError:
                        poll(0.01)
                if i % 1000 == 0:
                    poll(0)
        _enqueued()
        left = p.flush(600)
        _end()
        if callback:
            return counts[0]
        return len(values) - left
    return run


_marks: dict[str, float] = {}


class _Marks:
    """The timing marks, for clients defined in other modules."""

    start = staticmethod(lambda: _start())
    enqueued = staticmethod(lambda: _enqueued())
    end = staticmethod(lambda: _end())


def _start() -> None:
    _marks["cpu0"] = time.process_time()
    _marks["t0"] = time.perf_counter()


def _enqueued() -> None:
    _marks["enqueued"] = time.perf_counter()


def _end() -> None:
    _marks["cpu1"] = time.process_time()
    _marks["t1"] = time.perf_counter()


# Clients of the records workload (bench/records.py): 10-field dicts, serialized per format.
RECORD_CLIENTS: dict[str, Callable[[str], Callable[[Workload], int]]] = {
    f"{client}-{fmt}": make
    for fmt in ("json", "msgpack", "avro")
    for client, make in (
        ("fastprod", lambda b, f=fmt: records.fastprod_rows(b, f, False, _Marks)),
        ("fastprod-batch", lambda b, f=fmt: records.fastprod_rows(b, f, True, _Marks)),
        ("confluent-cb", lambda b, f=fmt: records.confluent_rows(b, f, _Marks)),
        ("kafka-python", lambda b, f=fmt: records.kafka_python_rows(b, f, _Marks)),
    )
}

CLIENTS: dict[str, Callable[[str], Callable[[Workload], int]]] = {
    "fastprod": lambda b: _fastprod(b, "futures"),
    "fastprod-drop": lambda b: _fastprod(b, "drop"),
    "fastprod-cb": lambda b: _fastprod(b, "callback"),
    "fastprod-batch": _fastprod_batch,
    "confluent": lambda b: _confluent(b, callback=False, batch=False),
    "confluent-cb": lambda b: _confluent(b, callback=True, batch=False),
    "confluent-batch": lambda b: _confluent(b, callback=False, batch=True),
    **RECORD_CLIENTS,
}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("client", choices=sorted(CLIENTS))
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--topic", required=True)
    ap.add_argument("--records", type=int, required=True)
    ap.add_argument("--size", type=int, default=100)
    ap.add_argument("--keyed", action="store_true")
    args = ap.parse_args()
    # Distinct values, built before timing, as a real job would already hold its data.
    if args.client in RECORD_CLIENTS:
        values, keys = records.make_rows(args.records), None
    else:
        values = [os.urandom(args.size) for _ in range(args.records)]
        keys = [b"key-%d" % i for i in range(args.records)] if args.keyed else None
    delivered = CLIENTS[args.client](args.bootstrap)((args.topic, values, keys))
    cpu = _marks["cpu1"] - _marks["cpu0"]
    print(json.dumps({
        "delivered": delivered, "failed": args.records - delivered,
        "seconds": _marks["t1"] - _marks["t0"], "enqueue_seconds": _marks["enqueued"] - _marks["t0"],
        "cpu_seconds": cpu, "max_rss_kb": peak_rss_kb(),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
