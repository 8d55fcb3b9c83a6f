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


def _free_port_pair() -> int:
    """A client port whose successor (the controller port) is free as well."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise RuntimeError("no two adjacent free ports on 127.0.0.1")


@pytest.fixture(scope="session")
def bootstrap() -> Iterator[str]:
    given = os.environ.get("FASTPROD_BOOTSTRAP")
    if given:
        yield given
        return
    state = Path(tempfile.mkdtemp(prefix="fastprod-kafka-"))
    cmd = [sys.executable, str(KAFKA_LOCAL)]
    started = subprocess.run([*cmd, "start", "--dir", str(state), "--port", str(_free_port_pair())],
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
