"""`fastprod bench` refuses bad arguments before it touches a broker (exit 2, a message naming
the problem)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def bench(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "FASTPROD_BOOTSTRAP"}
    return subprocess.run([sys.executable, "-m", "fastprod", "bench", *args], text=True,
                          capture_output=True, timeout=60, env=env)


@pytest.mark.parametrize("args, message", [
    (["--records", "0", "--bootstrap", "127.0.0.1:1"], "--records: must be at least 1, not 0"),
    (["--runs", "x", "--bootstrap", "127.0.0.1:1"], "--runs: invalid positive_int value: 'x'"),
    (["--scenario", "huge", "--bootstrap", "127.0.0.1:1"], "argument --scenario: invalid choice"),
    (["--clients", "fastprod,kafka-go", "--bootstrap", "127.0.0.1:1"],
     "unknown client(s): kafka-go"),
    ([], "give --bootstrap, FASTPROD_BOOTSTRAP or --local"),
])
def test_bad_arguments_exit_2_with_a_message(args, message):
    done = bench(*args)
    assert done.returncode == 2 and message in done.stderr, done.stderr
