"""What every benchmark shares: the broker it runs against (a given bootstrap, or the project's
local one), confluent-kafka settings that match fastprod's defaults, and peak RSS."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STATE = Path.home() / ".cache" / "fastprod" / "kafka-local" / "bench"


def confluent_config(bootstrap: str) -> dict[str, object]:
    """confluent-kafka settings equal to fastprod's defaults, for every confluent benchmark client."""
    return {"bootstrap.servers": bootstrap, "enable.idempotence": True, "acks": "all",
            "linger.ms": 5, "partitioner": "murmur2_random",
            "queue.buffering.max.kbytes": 32768}  # the same 32 MiB bound as fastprod's default


def peak_rss_kb() -> int:
    """This process's peak RSS in kB: VmHWM, which exec resets. getrusage's ru_maxrss would keep
    the high-water mark of the (larger) process that forked a benchmark subprocess."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


@contextlib.contextmanager
def broker(bootstrap: str | None, local: bool) -> Iterator[str]:
    """Yields a bootstrap address; with local=True starts scripts/kafka-local and stops it after."""
    if not local:
        if not bootstrap:
            raise SystemExit("give --bootstrap, FASTPROD_BOOTSTRAP or --local")
        yield bootstrap
        return
    kafka_local = [sys.executable, str(ROOT / "scripts" / "kafka-local")]
    started = subprocess.run([*kafka_local, "start", "--dir", str(STATE), "--port", "19092"],
                             stdout=subprocess.PIPE, text=True)
    if started.returncode != 0:
        raise SystemExit(f"the local broker did not start (exit {started.returncode})")
    try:
        yield started.stdout.strip()
    finally:
        subprocess.run([*kafka_local, "stop", "--dir", str(STATE)])
