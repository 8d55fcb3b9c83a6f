"""How fast does fastprod deliver N records to a broker? (end to end: every record acknowledged)

    python -m bench.throughput --bootstrap HOST:PORT [--records N] [--size BYTES] [--keyed]
    python -m bench.throughput --local ...      start the project's local broker, stop it after

Times from the first send() to the last acknowledgement; CPU is this process's (all threads).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import uuid

from bench._broker import broker


def run(bootstrap: str, records: int, size: int, keyed: bool, partitions: int) -> dict:
    from confluent_kafka.admin import AdminClient, NewTopic

    import fastprod

    topic = f"bench-{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(topic, partitions, 1)])[topic].result(60)
    value = os.urandom(size)
    keys = [b"key-%d" % i for i in range(records)] if keyed else None
    with fastprod.Producer(bootstrap) as producer:
        producer.send(topic, b"warm-up").get(60)  # metadata and producer id before timing
        cpu0, t0 = time.process_time(), time.perf_counter()
        if keys is None:
            futures = [producer.send(topic, value) for _ in range(records)]
        else:
            futures = [producer.send(topic, value, key=k) for k in keys]
        enqueued = time.perf_counter()
        producer.flush()
        elapsed = time.perf_counter() - t0
        cpu = time.process_time() - cpu0
    delivered = sum(f.succeeded() for f in futures)
    return {
        "records": records, "delivered": delivered, "failed": records - delivered,
        "value_bytes": size, "keyed": keyed, "seconds": elapsed,
        "enqueue_seconds": enqueued - t0,
        "msgs_per_s": delivered / elapsed, "mb_per_s": delivered * size / elapsed / 1e6,
        "cpu_s_per_million": cpu / records * 1e6,
        "fastprod": fastprod.__version__, "librdkafka": fastprod.librdkafka_version()[0],
        "python": platform.python_version(), "machine": f"{platform.machine()}, {os.cpu_count()} cpus",
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bootstrap", default=os.environ.get("FASTPROD_BOOTSTRAP"))
    ap.add_argument("--local", action="store_true", help="start (and stop) the local broker")
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--size", type=int, default=100, help="value bytes")
    ap.add_argument("--keyed", action="store_true")
    ap.add_argument("--partitions", type=int, default=6)
    args = ap.parse_args()
    with broker(args.bootstrap, args.local) as bootstrap:
        r = run(bootstrap, args.records, args.size, args.keyed, args.partitions)
    print(f"fastprod {r['fastprod']} on librdkafka {r['librdkafka']}, Python {r['python']}, {r['machine']}")
    print(f"records    {r['records']:>12,} x {r['value_bytes']} B {'keyed' if r['keyed'] else 'keyless'}, "
          f"futures kept")
    print(f"delivered  {r['delivered']:>12,}   failed {r['failed']:,}")
    print(f"msgs/s     {r['msgs_per_s']:>12,.0f}")
    print(f"MB/s       {r['mb_per_s']:>12.1f}")
    print(f"seconds    {r['seconds']:>12.2f}   (send() loop {r['enqueue_seconds']:.2f} s)")
    print(f"CPU s / 1M {r['cpu_s_per_million']:>12.2f}")
    return 0 if r["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
