"""What `fastprod bench` reports: the JSON document, the terminal table and the progress line.

JSON (``--json FILE``), schema "fastprod-bench/1"::

    {"schema", "created", "machine": {"arch", "cpus", "cpu_model", "memory_gib", "os"},
     "versions": {"python", "fastprod", "librdkafka", "confluent_kafka", "kafka_python",
                  "aiokafka", "java"},              # null: not installed
     "records", "runs", "partitions", "bootstrap",
     "scenarios": {NAME: {"title", "value_bytes", "keyed", "compression", "format", "records",
                          "clients": {CLIENT: {"label", "status": "ok" | "skipped" | "failed",
                                               "reason"?,            # skipped or failed
                                               ...figures, "runs": [...]}}}}}

Figures of an "ok" client: msgs_per_s {median, min, max}, mb_per_s (median), cpu_s_per_million
{median, min, max} (Java: its whole process, JVM start included), peak_rss_mb (largest run),
vs_best_other_python (median rate over the best median of the other family's Python clients:
fastprod's against the others, theirs against fastprod's), vs_native (over the C loop's).
"""

from __future__ import annotations

import datetime
import importlib.metadata
import os
import platform
import shutil
import statistics
import subprocess
import sys
from typing import Any

from fastprod.bench.scenarios import LABELS, PYTHON_CLIENTS, Scenario, family

SCHEMA = "fastprod-bench/1"


def _version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def _java_version() -> str | None:
    if shutil.which("java") is None:
        return None
    done = subprocess.run(["java", "-version"], capture_output=True, text=True)
    return (done.stderr or done.stdout).splitlines()[0] if done.returncode == 0 else None


def _machine() -> dict[str, Any]:
    model, memory = platform.processor() or None, None
    try:
        with open("/proc/cpuinfo") as f:
            model = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")),
                         model)
        with open("/proc/meminfo") as f:
            memory = round(int(f.readline().split()[1]) / 2**20, 1)
    except OSError:
        pass
    return {"arch": platform.machine(), "cpus": os.cpu_count(), "cpu_model": model,
            "memory_gib": memory, "os": platform.platform()}


def new(records: int, runs: int, partitions: int, bootstrap: str) -> dict[str, Any]:
    import fastprod

    return {
        "schema": SCHEMA, "created": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "machine": _machine(),
        "versions": {"python": platform.python_version(), "fastprod": fastprod.__version__,
                     "librdkafka": fastprod.librdkafka_version()[0],
                     "confluent_kafka": _version("confluent-kafka"),
                     "kafka_python": _version("kafka-python"), "aiokafka": _version("aiokafka"),
                     "java": _java_version()},
        "records": records, "runs": runs, "partitions": partitions, "bootstrap": bootstrap,
        "scenarios": {},
    }


def header(result: dict[str, Any]) -> str:
    m, v = result["machine"], result["versions"]
    versions = ", ".join(f"{k} {val}" for k, val in v.items() if val)
    return (f"{m['arch']}, {m['cpus']} CPUs ({m['cpu_model']}), {m['memory_gib']} GiB; {m['os']}\n"
            f"{versions}\nbroker {result['bootstrap']}; {result['runs']} runs per client, "
            f"medians (min-max)")


def _spread(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def scenario_entry(name: str, s: Scenario, records: int, runs: dict[str, list[dict[str, Any]]],
                   skipped: dict[str, str], failed: dict[str, str]) -> dict[str, Any]:
    clients: dict[str, dict[str, Any]] = {}
    for client in s.clients:
        if client in skipped:
            clients[client] = {"label": LABELS[client], "status": "skipped",
                               "reason": skipped[client]}
        elif client in failed:
            clients[client] = {"label": LABELS[client], "status": "failed",
                               "reason": failed[client], "runs": runs.get(client, [])}
        elif runs.get(client):
            rs = runs[client]
            rates = [records / r["seconds"] for r in rs]
            cpu = [r["cpu_seconds"] / records * 1e6 for r in rs]
            clients[client] = {
                "label": LABELS[client], "status": "ok", "msgs_per_s": _spread(rates),
                "mb_per_s": statistics.median(rates) * s.value_bytes / 1e6,
                "cpu_s_per_million": _spread(cpu),
                "peak_rss_mb": max(r["max_rss_kb"] for r in rs) / 1024, "runs": rs}
    ok = {c: e["msgs_per_s"]["median"] for c, e in clients.items() if e["status"] == "ok"}
    for client, entry in clients.items():
        if entry["status"] != "ok":
            continue
        rivals = [rate for c, rate in ok.items() if c in PYTHON_CLIENTS
                  and family(c) != family(client)]
        entry["vs_best_other_python"] = ok[client] / max(rivals) if rivals else None
        entry["vs_native"] = ok[client] / ok["native"] if "native" in ok else None
    return {"title": s.title, "value_bytes": s.value_bytes, "keyed": s.keyed,
            "compression": s.compression, "format": s.fmt, "records": records,
            "clients": clients}


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def table(name: str, entry: dict[str, Any]) -> str:
    lines = [f"\n{name}: {entry['title']}; {entry['records']:,} records of {entry['value_bytes']} B",
             f"{'client':<28}{'msgs/s':>11}{'(min-max)':>23}{'MB/s':>8}{'CPU s/M':>9}"
             f"{'RSS MB':>8}{'vs best other Python':>22}{'vs C loop':>11}"]
    for client, e in entry["clients"].items():
        if e["status"] != "ok":
            lines.append(f"{e['label']:<28}{e['status']}: {e['reason']}")
            continue
        rate = e["msgs_per_s"]
        cpu = f"{e['cpu_s_per_million']['median']:.2f}" + ("*" if client == "java" else "")
        lines.append(f"{e['label']:<28}{rate['median']:>11,.0f}"
                     f"{'(' + format(rate['min'], ',.0f') + '-' + format(rate['max'], ',.0f') + ')':>23}"
                     f"{e['mb_per_s']:>8.1f}{cpu:>9}{e['peak_rss_mb']:>8.0f}"
                     f"{_ratio(e['vs_best_other_python']):>22}{_ratio(e['vs_native']):>11}")
    if "java" in entry["clients"] and entry["clients"]["java"]["status"] == "ok":
        lines.append("* whole JVM process, start-up and JIT included")
    return "\n".join(lines)


def progress_line(label: str, done: int, total: int, rate: float, elapsed: float) -> None:
    width = 24
    filled = int(width * done / total) if total else width
    sys.stderr.write(f"\r  {label:<52} [{'#' * filled}{'.' * (width - filled)}] "
                     f"{100 * done / total:3.0f}% {rate:>11,.0f} msgs/s {elapsed:5.1f} s ")
    sys.stderr.flush()


def progress_done() -> None:
    sys.stderr.write("\r" + " " * 120 + "\r")
    sys.stderr.flush()
