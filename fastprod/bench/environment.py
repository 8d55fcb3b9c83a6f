"""What every benchmark shares: the broker it runs against (a given bootstrap, or a local one
started with fastprod.kafka_local), the producer properties every client is given (fastprod's
defaults), peak RSS, and what the Java client and the C loop need from the machine."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fastprod.config import BUFFER_MEMORY_DEFAULT, DEFAULTS
from fastprod.kafka_local import runtime as kafka_runtime

# The C loop's source ships in the package; `fastprod bench` compiles it into CACHE.
C_LOOP_SOURCE = Path(__file__).resolve().with_name("c_loop.c")
CACHE = kafka_runtime.CACHE
LOCAL_PORT = 19092
# The Java producer's names among fastprod's defaults (the rest are librdkafka's own).
JAVA_DEFAULTS = ("enable.idempotence", "acks", "linger.ms", "delivery.timeout.ms")


def confluent_config(bootstrap: str, compression: str | None = None) -> dict[str, str]:
    """librdkafka properties equal to fastprod's defaults, for every confluent client and the C
    loop. fastprod lifts librdkafka's queue limits and bounds its own buffer by buffer.memory;
    these clients get the same bound as librdkafka's byte limit."""
    config = {**DEFAULTS, "bootstrap.servers": bootstrap,
              "queue.buffering.max.kbytes": str(BUFFER_MEMORY_DEFAULT // 1024)}
    if compression:
        config["compression.type"] = compression
    return config


def java_config(bootstrap: str, compression: str | None = None) -> dict[str, str]:
    """The Java producer's properties for the same defaults."""
    config = {name: DEFAULTS[name] for name in JAVA_DEFAULTS}
    config.update({"bootstrap.servers": bootstrap, "buffer.memory": str(BUFFER_MEMORY_DEFAULT)})
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
    """Kafka jars fastprod.kafka_local fetched (they hold Java's ProducerPerformance)."""
    for libs in sorted(CACHE.glob("kafka-*/libs"), reverse=True):
        if any(libs.glob("kafka-tools-*.jar")):
            return libs
    return None


def java_missing() -> str | None:
    """Why the Java client cannot run here, or None."""
    problem = kafka_runtime.java_problem()
    if problem:
        return problem
    if kafka_libs() is None:
        return f"no Kafka jars under {CACHE} (`fastprod kafka fetch` gets them)"
    return None


def c_compiler() -> str | None:
    """The C compiler that builds the C loop: gcc, else cc."""
    return shutil.which("gcc") or shutil.which("cc")


def native_missing() -> str | None:
    """Why the native C loop cannot run here, or None."""
    if not sys.platform.startswith("linux"):
        return "finds the loaded librdkafka through /proc (Linux only)"
    if c_compiler() is None:
        return "no C compiler (gcc or cc) on PATH to build the C loop"
    return None


def free_local_port(first: int = LOCAL_PORT) -> int:
    """The first port from `first` that is free on 127.0.0.1 with the next one (the local
    broker's client and controller ports)."""
    from fastprod.kafka_local.cluster import port_free

    for port in range(first, first + 200, 2):
        if port_free(port) and port_free(port + 1):
            return port
    raise SystemExit(f"no two free ports in {first}..{first + 199} for the local broker")


@contextlib.contextmanager
def broker(bootstrap: str | None, local: bool, port: int = LOCAL_PORT) -> Iterator[str]:
    """Yields a bootstrap address; with local=True starts a local broker (client port `port`,
    its controller on the next) and stops it after, removing its data (a full run leaves a few
    hundred MB of deleted topics' logs otherwise)."""
    if not local:
        if not bootstrap:
            raise SystemExit("give --bootstrap, FASTPROD_BOOTSTRAP or --local")
        yield bootstrap
        return
    state = CACHE / "kafka-local" / "bench"
    # A subprocess: the launcher prints the bootstrap address on stdout, which is the report's.
    kafka_local = [sys.executable, "-m", "fastprod.kafka_local"]
    started = subprocess.run([*kafka_local, "start", "--dir", str(state), "--port", str(port)],
                             stdout=subprocess.PIPE, text=True)
    if started.returncode != 0:
        raise SystemExit(f"the local broker did not start (exit {started.returncode})")
    try:
        yield started.stdout.strip()
    finally:
        stopped = subprocess.run([*kafka_local, "stop", "--dir", str(state)],
                                 stderr=subprocess.DEVNULL)
        if stopped.returncode == 0:
            shutil.rmtree(state, ignore_errors=True)
