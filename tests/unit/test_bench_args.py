"""`fastprod bench` refuses bad arguments before it touches a broker (exit 2, a message naming
the problem); every client is configured from fastprod's defaults; a C loop that cannot be built
here says why."""

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
    (["--local", "--local-port", "0"], "--local-port: must be at least 1, not 0"),
])
def test_bad_arguments_exit_2_with_a_message(args, message):
    done = bench(*args)
    assert done.returncode == 2 and message in done.stderr, done.stderr


def test_other_clients_get_fastprods_defaults():
    """The confluent clients and the C loop get fastprod's defaults, with buffer.memory as
    librdkafka's byte bound (fastprod lifts that bound and keeps its own); Java gets its names."""
    from fastprod.bench import environment
    from fastprod.config import BUFFER_MEMORY_DEFAULT, DEFAULTS

    librdkafka = environment.confluent_config("127.0.0.1:1", "lz4")
    assert librdkafka == {**DEFAULTS, "bootstrap.servers": "127.0.0.1:1", "compression.type": "lz4",
                          "queue.buffering.max.kbytes": str(BUFFER_MEMORY_DEFAULT // 1024)}
    java = environment.java_config("127.0.0.1:1")
    assert java["buffer.memory"] == str(BUFFER_MEMORY_DEFAULT)
    assert {k: java[k] for k in ("acks", "linger.ms", "enable.idempotence")} == {
        k: DEFAULTS[k] for k in ("acks", "linger.ms", "enable.idempotence")}
    assert "compression.type" not in java and "partitioner" not in java


def test_native_client_without_a_compiler_says_so(tmp_path):
    probe = "from fastprod.bench import environment; print(environment.native_missing())"
    env = {**os.environ, "PATH": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", probe], text=True, capture_output=True,
                          timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    expected = ("no C compiler (gcc or cc) on PATH to build the C loop" if sys.platform == "linux"
                else "finds the loaded librdkafka through /proc (Linux only)")
    assert done.stdout.strip() == expected


def test_every_bench_option_is_described():
    import argparse

    from fastprod.bench import run

    ap = argparse.ArgumentParser()
    run.add_arguments(ap)
    undescribed = [a.option_strings for a in ap._actions
                   if a.option_strings and a.help in (None, "", argparse.SUPPRESS)]
    assert undescribed == []


def test_local_broker_port_skips_a_busy_pair():
    import socket

    from fastprod.bench import environment

    first = environment.free_local_port(21092)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", first + 1))  # the controller port of the first free pair
        assert environment.free_local_port(first) == first + 2
