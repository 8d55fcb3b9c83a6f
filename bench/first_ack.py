"""How long after a producer is created does its first record come back acknowledged?

    python -m bench.first_ack --local [--runs 50] [--json PATH]
    python -m bench.first_ack --bootstrap HOST:PORT

Each run creates a producer (fastprod, then confluent-kafka, alternating; both idempotent with
acks=all as fastprod's defaults), sends one 1-byte record to a topic that already exists and
waits for its acknowledgement; the time from before the constructor to the acknowledgement is
the figure. The producer is then closed, so every run pays the whole start-up: bootstrap
connection, metadata, the idempotent producer's id, the first produce request. This is what a
job that sends more than buffer.memory holds waits for before send() stops blocking (issue 14).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import uuid

from fastprod.bench.environment import broker, confluent_config

TOPIC = f"first-ack-{uuid.uuid4().hex[:8]}"


def fastprod_first_ack(bootstrap: str) -> float:
    import fastprod

    started = time.perf_counter()
    producer = fastprod.Producer(bootstrap_servers=bootstrap)
    try:
        producer.send(TOPIC, b"x").get(timeout=30)
        return time.perf_counter() - started
    finally:
        producer.close()


def confluent_first_ack(bootstrap: str) -> float:
    import confluent_kafka

    started = time.perf_counter()
    producer = confluent_kafka.Producer(confluent_config(bootstrap))
    outcome: list[object] = []
    producer.produce(TOPIC, b"x", on_delivery=lambda err, msg: outcome.append(err))
    deadline = started + 30
    while not outcome and time.perf_counter() < deadline:
        producer.poll(0.001)
    elapsed = time.perf_counter() - started
    producer.flush(10)
    if outcome != [None]:
        raise SystemExit(f"confluent-kafka: the record was not acknowledged: {outcome}")
    return elapsed


CLIENTS = {"fastprod": fastprod_first_ack, "confluent-kafka": confluent_first_ack}


def summary(ms: list[float]) -> dict[str, float]:
    ordered = sorted(ms)
    return {"runs": len(ordered), "min": ordered[0], "median": statistics.median(ordered),
            "p90": ordered[max(0, int(len(ordered) * 0.9) - 1)], "max": ordered[-1],
            "over_100_ms": sum(t > 100 for t in ordered)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.first_ack", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bootstrap", default=os.environ.get("FASTPROD_BOOTSTRAP"),
                        help="an existing broker (default: $FASTPROD_BOOTSTRAP)")
    parser.add_argument("--local", action="store_true", help="start a local broker and stop it")
    parser.add_argument("--runs", type=int, default=50, help="producers created per client")
    parser.add_argument("--json", metavar="PATH", help="write every time and the summary here")
    args = parser.parse_args(argv)
    with broker(args.bootstrap, args.local) as bootstrap:
        fastprod_first_ack(bootstrap)  # creates the topic, so that no run pays for that
        times: dict[str, list[float]] = {name: [] for name in CLIENTS}
        for _ in range(args.runs):
            for name, first_ack in CLIENTS.items():
                times[name].append(first_ack(bootstrap) * 1000)
    report = {name: summary(ms) for name, ms in times.items()}
    print(f"first acknowledgement after the producer is created, ms ({args.runs} runs each)")
    print(f"{'client':16} {'min':>6} {'median':>7} {'p90':>6} {'max':>6} {'>100 ms':>8}")
    for name, s in report.items():
        print(f"{name:16} {s['min']:6.0f} {s['median']:7.0f} {s['p90']:6.0f} {s['max']:6.0f} "
              f"{s['over_100_ms']:8d}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"summary": report, "ms": times}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
