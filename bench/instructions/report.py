"""The figures of a run: per record from the two record counts, the human table (Markdown, as it
goes into docs/benchmarks.md) and the JSON record with the machine and the versions."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path
from typing import Any

from bench.instructions.measure import GROUPS, MOCK_BROKER, OTHER
from bench.instructions.scenarios import SCENARIOS

IN_SEND = "in send"
BATCHED = "batched"
# The table's thread columns, in order: short names for GROUPS, the broker's server work last.
COLUMNS = {"caller": "caller", "fastprod drain": "drain", "fastprod dispatcher": "dispatcher",
           "fastprod metadata": "metadata", "librdkafka main": "rdk main",
           "librdkafka brokers": "rdk brokers", OTHER: "other", MOCK_BROKER: "mock broker"}
assert set(COLUMNS) == set(GROUPS)


def per_record(low: dict[str, int], high: dict[str, int], records: int) -> dict[str, Any]:
    """One scenario's figures from its runs at W and W + N records."""
    threads = {g: (high[g] - low[g]) / records for g in GROUPS}
    figures: dict[str, Any] = {
        "client_side": sum(v for g, v in threads.items() if g != MOCK_BROKER),
        "all_threads": sum(threads.values()),
        "threads": threads,
    }
    if IN_SEND in high:
        figures[IN_SEND.replace(" ", "_")] = (high[IN_SEND] - low[IN_SEND]) / records
    if BATCHED in high:  # the share of records the drain thread gave to produce_batch
        figures["batched_share"] = (high[BATCHED] - low[BATCHED]) / records
    return figures


def add_ratios(results: dict[str, dict[str, Any]]) -> None:
    """Each scenario's client side over its C loop's (None when that loop did not run)."""
    for name, figures in results.items():
        base = results.get(SCENARIOS[name].baseline)
        figures["c_loop"] = SCENARIOS[name].baseline
        figures["ratio_to_c_loop"] = (figures["client_side"] / base["client_side"]
                                      if base else None)


def table(results: dict[str, dict[str, Any]]) -> str:
    """Markdown: client side, ratio, the split by thread, and "in send" for fastprod."""
    shown = [g for g in COLUMNS
             if g != OTHER or any(abs(f["threads"][OTHER]) >= 0.5 for f in results.values())]
    head = ["scenario", "client side", "× C loop", *(COLUMNS[g] for g in shown), IN_SEND,
            "produce_batch"]
    lines = ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    for name, f in results.items():
        ratio = f["ratio_to_c_loop"]
        cells = [f"{name}: {SCENARIOS[name].label}", _count(f["client_side"]),
                 f"{ratio:.2f}" if ratio is not None else "–",
                 *(_count(f["threads"][g]) for g in shown),
                 _count(f["in_send"]) if "in_send" in f else "",
                 f"{f['batched_share']:.0%}".replace("-0%", "0%")
                 if "batched_share" in f else ""]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _count(per_record: float) -> str:
    """Rounded to whole instructions (an int: no "-0" for a thread that idles)."""
    return f"{round(per_record):,}"


def _output(cmd: list[str]) -> str | None:
    """A command's stripped output, or None when it cannot run or fails."""
    try:
        done = subprocess.run(cmd, capture_output=True, text=True)
    except OSError:
        return None
    return (done.stdout or done.stderr).strip() if done.returncode == 0 else None


def _first_line(cmd: list[str]) -> str:
    out = _output(cmd)
    return out.splitlines()[0] if out else "?"


def machine() -> dict[str, Any]:
    model = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": model, "cores": os.cpu_count(), "system": platform.platform(),
            "valgrind": _first_line(["valgrind", "--version"]),
            "cc": _first_line(["gcc", "--version"])}


def versions(tree: Path | None) -> dict[str, Any]:
    from importlib.metadata import version

    import confluent_kafka

    checkout = tree or Path(__file__).resolve().parents[2]
    commit = _first_line(["git", "-C", str(checkout), "rev-parse", "HEAD"])
    dirty = _output(["git", "-C", str(checkout), "status", "--porcelain", "-uno"])
    return {"python": platform.python_version(), "librdkafka": confluent_kafka.libversion()[0],
            "confluent_kafka": version("confluent-kafka"),
            "fastprod_commit": commit + (" (with uncommitted changes)" if dirty else ""),
            "fastprod_tree": str(checkout)}


def machine_line(info: dict[str, Any]) -> str:
    m, v = info["machine"], info["versions"]
    dirty = " (uncommitted changes)" if "uncommitted" in v["fastprod_commit"] else ""
    return (f"{m['cpu']}, {m['cores']} cores, {m['system']}; {m['valgrind']}; "
            f"Python {v['python']}, librdkafka {v['librdkafka']}, confluent-kafka "
            f"{v['confluent_kafka']}, fastprod {v['fastprod_commit'][:12]}{dirty}")
