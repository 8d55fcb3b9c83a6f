"""fastprod against confluent-kafka and a native C librdkafka loop, end to end on one broker.

    python -m bench.e2e --local [--scenario keyed-futures] [--records N] [--runs 5] [--json FILE]

Each (client, run) is its own subprocess on a fresh 6-partition topic; runs are interleaved
(client order rotates every round) so drifts of a shared 2-core machine hit every client alike.
Reported: medians of msgs/s and CPU s per million records (min-max in brackets), peak RSS, and
ratios of medians. Every record must be acknowledged for a run to count.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import uuid
from pathlib import Path

from bench._broker import broker

ROOT = Path(__file__).resolve().parent.parent
NATIVE_SRC = ROOT / "bench" / "native" / "producer.c"

# scenario -> (value bytes, keyed, clients; the first confluent client is the ratio's baseline)
SCENARIOS = {
    "keyless": (100, False, ["fastprod-drop", "confluent", "native"]),
    "keyed-futures": (100, True, ["fastprod", "fastprod-cb", "confluent", "confluent-cb", "native"]),
    "batch": (100, False, ["fastprod-batch", "confluent-batch", "native"]),
    # 10-field dicts (~200 B as JSON; bench/records.py), keyed by a string field
    "json": (200, False, ["fastprod-json", "fastprod-batch-json", "confluent-cb-json",
                          "kafka-python-json"]),
    "msgpack": (160, False, ["fastprod-msgpack", "fastprod-batch-msgpack", "confluent-cb-msgpack"]),
    "avro": (110, False, ["fastprod-avro", "fastprod-batch-avro", "confluent-cb-avro"]),
}


def build_native() -> Path:
    out = Path.home() / ".cache" / "fastprod" / "bench" / "native-producer"
    out.parent.mkdir(parents=True, exist_ok=True)
    if not out.exists() or out.stat().st_mtime < NATIVE_SRC.stat().st_mtime:
        subprocess.run(["gcc", "-O2", "-std=gnu11", "-I", str(ROOT / "src_ext" / "includes"),
                        "-o", str(out), str(NATIVE_SRC), "-ldl", "-lpthread"], check=True)
    return out


def loaded_librdkafka() -> str:
    """The librdkafka file fastprod resolved in this process (the native loop must use the same)."""
    import fastprod._core  # noqa: F401  (loads it)

    for line in Path("/proc/self/maps").read_text().splitlines():
        if "librdkafka" in line:
            return line.split(maxsplit=5)[5]
    raise RuntimeError("librdkafka is not mapped into this process")


def create_topic(bootstrap: str, partitions: int) -> str:
    from confluent_kafka.admin import AdminClient, NewTopic

    topic = f"bench-{uuid.uuid4().hex[:10]}"
    admin = AdminClient({"bootstrap.servers": bootstrap})  # must outlive the result
    admin.create_topics([NewTopic(topic, partitions, 1)])[topic].result(60)
    return topic


def run_one(client: str, bootstrap: str, records: int, size: int, keyed: bool,
            partitions: int) -> dict:
    topic = create_topic(bootstrap, partitions)
    if client == "native":
        cmd = [str(build_native()), loaded_librdkafka(), bootstrap, topic,
               str(records), str(size), "1" if keyed else "0"]
    else:
        cmd = [sys.executable, "-m", "bench.clients", client, "--bootstrap", bootstrap,
               "--topic", topic, "--records", str(records), "--size", str(size)]
        if keyed:
            cmd.append("--keyed")
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if r.returncode != 0:
        raise RuntimeError(f"{client} failed ({r.returncode}):\n{r.stderr[-2000:]}")
    result = json.loads(r.stdout.strip().splitlines()[-1])
    if result["delivered"] != records:
        raise RuntimeError(f"{client} delivered {result['delivered']} of {records}")
    return result


def summarize(runs: dict[str, list[dict]], records: int) -> dict[str, dict]:
    out = {}
    for client, rs in runs.items():
        rates = [records / r["seconds"] for r in rs]
        cpu = [r["cpu_seconds"] / records * 1e6 for r in rs]
        out[client] = {
            "msgs_per_s": statistics.median(rates), "msgs_per_s_min": min(rates),
            "msgs_per_s_max": max(rates), "cpu_s_per_million": statistics.median(cpu),
            "cpu_min": min(cpu), "cpu_max": max(cpu),
            "enqueue_us_per_record": statistics.median(r["enqueue_seconds"] for r in rs) / records * 1e6,
            "max_rss_mb": max(r["max_rss_kb"] for r in rs) / 1024, "runs": len(rs),
        }
    return out


def print_table(scenario: str, summary: dict[str, dict], size: int) -> None:
    baseline = next((c for c in summary if c.startswith("confluent")), None)
    base = summary[baseline]["msgs_per_s"] if baseline else None
    native = summary.get("native", {}).get("msgs_per_s")
    print(f"\nscenario {scenario}: medians of {next(iter(summary.values()))['runs']} runs")
    print(f"{'client':<18}{'msgs/s':>11}{'(min-max)':>22}{'MB/s':>8}{'CPU s/M':>9}"
          f"{'send us':>9}{'RSS MB':>8}{'vs ' + (baseline or '-'):>18}{'vs native':>11}")
    for client, s in summary.items():
        ratio = f"{s['msgs_per_s'] / base:.2f}x" if base else "-"
        of_native = f"{s['msgs_per_s'] / native:.2f}x" if native else "-"
        spread = f"({s['msgs_per_s_min']:,.0f}-{s['msgs_per_s_max']:,.0f})"
        print(f"{client:<18}{s['msgs_per_s']:>11,.0f}{spread:>22}"
              f"{s['msgs_per_s'] * size / 1e6:>8.1f}{s['cpu_s_per_million']:>9.2f}"
              f"{s['enqueue_us_per_record']:>9.2f}{s['max_rss_mb']:>8.0f}{ratio:>18}{of_native:>11}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bootstrap", default=os.environ.get("FASTPROD_BOOTSTRAP"))
    ap.add_argument("--local", action="store_true", help="start (and stop) the local broker")
    ap.add_argument("--scenario", action="append", choices=sorted(SCENARIOS))
    ap.add_argument("--clients", help="comma-separated subset of the scenario's clients")
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--partitions", type=int, default=6)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    report = {"machine": f"{platform.machine()}, {os.cpu_count()} cpus, {platform.platform()}",
              "python": platform.python_version(), "records": args.records, "scenarios": {}}
    with broker(args.bootstrap, args.local) as bootstrap:
        import confluent_kafka

        import fastprod
        report["versions"] = {"fastprod": fastprod.__version__,
                              "confluent_kafka": confluent_kafka.__version__,
                              "librdkafka": fastprod.librdkafka_version()[0]}
        print(f"{report['machine']}; Python {report['python']}; {report['versions']}")
        for scenario in args.scenario or ["keyed-futures"]:
            size, keyed, clients = SCENARIOS[scenario]
            if args.clients:
                clients = [c for c in clients if c in args.clients.split(",")]
            runs: dict[str, list[dict]] = {c: [] for c in clients}
            for i in range(args.runs):
                order = clients[i % len(clients):] + clients[:i % len(clients)]
                for client in order:
                    r = run_one(client, bootstrap, args.records, size, keyed, args.partitions)
                    runs[client].append(r)
                    print(f"  run {i + 1} {client:<16} {args.records / r['seconds']:>11,.0f} msgs/s",
                          file=sys.stderr)
            summary = summarize(runs, args.records)
            report["scenarios"][scenario] = {"summary": summary, "runs": runs}
            print_table(scenario, summary, size)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
