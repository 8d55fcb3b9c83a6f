"""What every benchmark shares: the broker it runs against (a given bootstrap, or the project's
local one), confluent-kafka settings equal to fastprod's defaults, peak RSS, and where the parts
that only a source checkout has (the local broker script, the native C loop) are."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# A source checkout: fastprod/bench/ is two levels below it. An installed wheel has neither the
# scripts/ nor the bench/ directory, and says so when they are asked for.
CHECKOUT = Path(__file__).resolve().parents[2]
KAFKA_LOCAL = CHECKOUT / "scripts" / "kafka-local"
NATIVE_SOURCE = CHECKOUT / "bench" / "native" / "producer.c"
RDK_INCLUDES = CHECKOUT / "src_ext" / "includes"
CACHE = Path(os.environ.get("FASTPROD_CACHE", Path.home() / ".cache" / "fastprod"))
LOCAL_PORT = 19092


def confluent_config(bootstrap: str, compression: str | None = None) -> dict[str, object]:
    """confluent-kafka settings equal to fastprod's defaults, for every confluent client."""
    config: dict[str, object] = {
        "bootstrap.servers": bootstrap, "enable.idempotence": True, "acks": "all",
        "linger.ms": 5, "partitioner": "murmur2_random",
        # the same 32 MiB bound as fastprod's default, and no count limit (fastprod has none)
        "queue.buffering.max.kbytes": 32768, "queue.buffering.max.messages": 2147483647}
    if compression:
        config["compression.type"] = compression
    return config


def vm_hwm_kb(pid: int | str = "self") -> int:
    """A process's peak RSS in kB from /proc (VmHWM, which exec resets); 0 without /proc."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def maxrss_kb(usage: Any) -> int:
    """A struct rusage's ru_maxrss in kB (macOS reports bytes). It can keep the high-water mark
    of the larger process that forked a benchmark subprocess, so VmHWM comes first."""
    return int(usage.ru_maxrss) // (1024 if sys.platform == "darwin" else 1)


def peak_rss_kb() -> int:
    """This process's peak RSS in kB: VmHWM, or getrusage's where there is no /proc (macOS)."""
    import resource

    return vm_hwm_kb() or maxrss_kb(resource.getrusage(resource.RUSAGE_SELF))


def kafka_libs() -> Path | None:
    """The Kafka jars scripts/kafka-local fetched (they hold Java's ProducerPerformance)."""
    for libs in sorted(CACHE.glob("kafka-*/libs"), reverse=True):
        if any(libs.glob("kafka-tools-*.jar")):
            return libs
    return None


def java_missing() -> str | None:
    """Why the Java client cannot run here, or None."""
    if shutil.which("java") is None:
        return "no java on PATH"
    if kafka_libs() is None:
        return f"no Kafka jars under {CACHE} (scripts/kafka-local fetch gets them)"
    return None


def native_missing() -> str | None:
    """Why the native C loop cannot run here, or None."""
    if not sys.platform.startswith("linux"):
        return "finds the loaded librdkafka through /proc (Linux only)"
    if not NATIVE_SOURCE.exists():
        return "needs a source checkout (bench/native/producer.c)"
    if shutil.which("gcc") is None:
        return "no gcc on PATH"
    return None


@contextlib.contextmanager
def broker(bootstrap: str | None, local: bool) -> Iterator[str]:
    """Yields a bootstrap address; with local=True starts scripts/kafka-local and stops it after."""
    if not local:
        if not bootstrap:
            raise SystemExit("give --bootstrap, FASTPROD_BOOTSTRAP or --local")
        yield bootstrap
        return
    if not KAFKA_LOCAL.exists():
        raise SystemExit("--local needs a source checkout of fastprod (scripts/kafka-local); "
                         "give --bootstrap instead")
    state = CACHE / "kafka-local" / "bench"
    kafka_local = [sys.executable, str(KAFKA_LOCAL)]
    started = subprocess.run([*kafka_local, "start", "--dir", str(state), "--port", str(LOCAL_PORT)],
                             stdout=subprocess.PIPE, text=True)
    if started.returncode != 0:
        raise SystemExit(f"the local broker did not start (exit {started.returncode})")
    try:
        yield started.stdout.strip()
    finally:
        subprocess.run([*kafka_local, "stop", "--dir", str(state)], stderr=subprocess.DEVNULL)
