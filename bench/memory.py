"""Does fastprod's memory stay bounded over a long run? RSS over N records, end to end.

    python -m bench.memory --local [--records 10000000] [--mode drop|kept|batch|callback]

One process sends N records of 100 B (one value object reused, so the workload itself holds no
memory). After every million records it flushes and samples RSS, so that samples compare like
with like (nothing queued); growth per million records is the Theil-Sen slope of those
samples after a two-million-record warm-up. Peak RSS (VmHWM) is compared with buffer.memory;
the baseline is the RSS with the producer created and one record delivered. Every record must be
acknowledged.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import statistics
import sys
import time
import uuid

from fastprod.bench.environment import broker, peak_rss_kb

MILLION = 1_000_000
WARM_UP = 2 * MILLION


def rss_mb() -> float:
    """Resident MB after handing freed heap back to the OS (glibc), so that samples track live
    memory rather than the allocator's high-water mark."""
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):
        pass
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def slope(points: list[tuple[float, float]]) -> float:
    """Theil-Sen: the median of the slopes between every pair of samples. Unlike least squares it
    is not swung by the allocator's level shifts (RSS steps of several MB when arenas are pinned
    or released), which a leak, rising steadily, survives."""
    pairs = [(y2 - y1) / (x2 - x1) for i, (x1, y1) in enumerate(points)
             for x2, y2 in points[i + 1:] if x2 != x1]
    return statistics.median(pairs) if pairs else 0.0


def run(bootstrap: str, records: int, mode: str, buffer_memory: int) -> dict:
    from confluent_kafka.admin import AdminClient, NewTopic

    import fastprod

    topic = f"memory-{uuid.uuid4().hex[:10]}"
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(topic, 6, 1)])[topic].result(60)
    value = os.urandom(100)
    acked = [0]

    def on_delivery(md):
        acked[0] += 1

    samples = []
    blocks: list[int] = []  # pymalloc blocks in use: flat while RSS moves means the allocator, not a leak
    with fastprod.Producer(bootstrap, buffer_memory=buffer_memory) as p:
        p.send(topic, value).get(60)
        baseline = rss_mb()
        t0 = time.perf_counter()
        send = p.send
        chunk = [value] * 10_000
        for m in range(records // MILLION):
            if mode == "batch":
                for _ in range(MILLION // len(chunk)):
                    p.send_batch(topic, chunk)
            elif mode == "callback":
                for _ in range(MILLION):
                    send(topic, value).add_callback(on_delivery)
            elif mode == "kept":  # every future of the million held until all resolved
                kept = [send(topic, value) for _ in range(MILLION)]
                p.flush()
                acked[0] += sum(f.succeeded() for f in kept)
                del kept
            else:
                for _ in range(MILLION):
                    send(topic, value)
            p.flush()
            samples.append(((m + 1) * MILLION, rss_mb()))
            blocks.append(sys.getallocatedblocks())
            print(f"  {(m + 1):>3} M records  RSS {samples[-1][1]:7.1f} MB  "
                  f"live Python blocks {blocks[-1]:,}", file=sys.stderr)
        p.flush()
        stats = p.stats()
    seconds = time.perf_counter() - t0
    after_warm_up = [(x / MILLION, y) for x, y in samples if x > WARM_UP]
    return {
        "mode": mode, "records": records, "delivered": stats["delivered"] - 1,
        "failed": stats["failed"], "baseline_rss_mb": baseline,
        "seconds": seconds, "buffer_memory_mb": buffer_memory / 2**20,
        "peak_rss_mb": peak_rss_kb() / 1024,
        "rss_samples_mb": [y for _, y in samples],
        "allocated_blocks": blocks,
        "growth_mb_per_million": slope(after_warm_up),
        "live_blocks_per_million": slope([(x / MILLION, float(b)) for (x, _), b in zip(samples, blocks)
                                          if x > WARM_UP]),
        "callbacks": acked[0] if mode in ("callback", "kept") else None,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bootstrap", default=os.environ.get("FASTPROD_BOOTSTRAP"))
    ap.add_argument("--local", action="store_true", help="start (and stop) the local broker")
    ap.add_argument("--records", type=int, default=10 * MILLION)
    ap.add_argument("--mode", choices=["drop", "kept", "batch", "callback"], default="drop")
    ap.add_argument("--buffer-memory", type=int, default=32 * 2**20)
    args = ap.parse_args()
    with broker(args.bootstrap, args.local) as bootstrap:
        r = run(bootstrap, args.records, args.mode, args.buffer_memory)
    print(json.dumps(r))
    ok = r["delivered"] == r["records"] and (r["callbacks"] in (None, r["records"]))
    print(f"{r['mode']}: {r['delivered']:,}/{r['records']:,} delivered in {r['seconds']:.1f} s; "
          f"peak RSS {r['peak_rss_mb']:.0f} MB (baseline {r['baseline_rss_mb']:.0f} MB, buffer.memory {r['buffer_memory_mb']:.0f} MB, "
          f"bound {r['buffer_memory_mb'] + 64:.0f} MB); growth after warm-up "
          f"{r['growth_mb_per_million']:+.2f} MB per million; live Python blocks "
          f"{r['live_blocks_per_million']:+.0f} per million")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
