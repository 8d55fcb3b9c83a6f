"""The real broker for integration tests: FASTPROD_BOOTSTRAP, or one this session starts and stops.

A broker that was asked for and cannot start fails the run; nothing here skips.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
KAFKA_LOCAL = ROOT / "scripts" / "kafka-local"


def free_port_block(count: int = 2) -> int:
    """A port P such that P .. P+count-1 are free (kafka-local gives each node two ports)."""
    for _ in range(100):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port + count > 65535:
            continue
        for extra in range(1, count):
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", port + extra))
                except OSError:
                    break
        else:
            return port
    raise RuntimeError(f"no {count} adjacent free ports on 127.0.0.1")


@pytest.fixture(scope="session")
def bootstrap() -> Iterator[str]:
    given = os.environ.get("FASTPROD_BOOTSTRAP")
    if given:
        yield given
        return
    state = Path(tempfile.mkdtemp(prefix="fastprod-kafka-"))
    cmd = [sys.executable, str(KAFKA_LOCAL)]
    started = subprocess.run([*cmd, "start", "--dir", str(state), "--port", str(free_port_block())],
                             capture_output=True, text=True)
    try:
        if started.returncode != 0:
            pytest.fail(f"the local Kafka broker did not start:\n{started.stderr}", pytrace=False)
        sys.stderr.write(started.stderr)
        yield started.stdout.strip().splitlines()[-1]
    finally:
        # Stops by the PIDs the script recorded, also when tests failed.
        subprocess.run([*cmd, "stop", "--dir", str(state)], capture_output=True, text=True)
        shutil.rmtree(state, ignore_errors=True)


def _pids(state: Path) -> list[int]:
    import json
    return [n["pid"] for n in json.loads((state / "cluster.json").read_text())["nodes"]]


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.fixture(scope="session")
def three_nodes() -> Iterator[tuple[list[str], Path, str]]:
    """A 3-node KRaft cluster (kafka-local command, state dir, bootstrap) for tests that kill
    nodes; each such test leaves every node running again."""
    state = Path(tempfile.mkdtemp(prefix="fastprod-kafka3-"))
    cmd = [sys.executable, str(KAFKA_LOCAL)]
    started = subprocess.run([*cmd, "start", "--nodes", "3", "--dir", str(state),
                              "--port", str(free_port_block(6))], capture_output=True, text=True)
    try:
        assert started.returncode == 0, started.stderr
        yield cmd, state, started.stdout.strip().splitlines()[-1]
    finally:
        pids = _pids(state) if (state / "cluster.json").exists() else []
        subprocess.run([*cmd, "stop", "--dir", str(state)], capture_output=True, text=True)
        assert not any(_alive(p) for p in pids), "a node outlived stop"
        shutil.rmtree(state, ignore_errors=True)
