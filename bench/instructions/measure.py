"""One scenario, one record count, under valgrind's callgrind: the instructions each group of
threads executed, from the per-thread profiles of --separate-threads=yes.

A thread is told apart by the function it was started in, which callgrind's profile of that thread
names (and no other thread's: a thread function is passed to pthread_create, never called by the
creating thread). Thread 1 is the process's main thread: the caller of the API.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.instructions.scenarios import Scenario, mock_properties, python_program

CALLER = "caller"
MOCK_BROKER = "mock broker"
# (group, the thread function that starts its threads), looked for in this order.
THREAD_GROUPS = [
    (MOCK_BROKER, re.compile(r"\brd_kafka_mock_cluster_thread_main\b")),
    ("fastprod drain", re.compile(r"\bfp_drain_main\b")),
    ("fastprod dispatcher", re.compile(r"_Dispatcher_\d*run\b")),
    ("fastprod metadata", re.compile(r"\bfp_metadata_main\b")),
    ("librdkafka main", re.compile(r"\brd_kafka_thread_main\b")),
    ("librdkafka brokers", re.compile(r"\brd_kafka_broker_thread_main\b")),
]
OTHER = "other"
GROUPS = [CALLER, *(name for name, _ in THREAD_GROUPS), OTHER]

TOTALS = re.compile(r"^(?:summary|totals): (\d+)", re.MULTILINE)
# callgrind_annotate's inclusive line for the send()/send_and_forget()/send_batch() wrappers Cython generates (the
# link-time optimizer may suffix their names, e.g. ".lto_priv.0").
SEND_CALLS = re.compile(r"^\s*([\d,]+) \([^)]*\)\s+\S*:__pyx_pw_\w*ProducerCore_\d+send"
                        r"(?:_batch|_and_forget)?(?:\.\w+)*\s", re.MULTILINE)


def thread_group(number: int, profile: str) -> str:
    """The group of the thread whose callgrind profile this is."""
    if number == 1:
        return CALLER
    for name, entry in THREAD_GROUPS:
        if entry.search(profile):
            return name
    return OTHER


def by_group(out_dir: Path) -> dict[str, int]:
    """Instructions per group of threads in one run's profiles (callgrind.out-NN, NN the
    thread)."""
    counts = dict.fromkeys(GROUPS, 0)
    for part in sorted(out_dir.glob("callgrind.out-*")):
        profile = part.read_text(errors="replace")
        totals = TOTALS.search(profile)
        thread = int(part.name.rsplit("-", 1)[1])
        counts[thread_group(thread, profile)] += int(totals[1]) if totals else 0
    return counts


def inside_send(main_thread_profile: Path) -> int:
    """Inclusive instructions of the send()/send_and_forget()/send_batch() calls in the caller's profile."""
    report = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100",
                             str(main_thread_profile)],
                            capture_output=True, text=True, check=True).stdout
    return sum(int(m[1].replace(",", "")) for m in SEND_CALLS.finditer(report))


def c_loop_command(s: Scenario, records: int) -> list[str]:
    """c_loop as `fastprod bench` builds it, on the librdkafka fastprod loads."""
    import fastprod._core  # noqa: F401  (maps librdkafka into this process)
    from fastprod.bench.run import _c_loop_binary, _loaded_librdkafka

    batch = [f"--batch={s.batch}"] if s.batch else []
    return [str(_c_loop_binary()), *batch, _loaded_librdkafka(), "t", str(records), str(s.size),
            "1" if s.keyed else "0", "-",
            *(f"{name}={value}" for name, value in mock_properties().items())]


def run(name: str, s: Scenario, records: int, tree: Path | None) -> dict[str, int]:
    """Instructions per group of threads (and "in send" for fastprod) of one run of `records`."""
    if s.client == "c":
        program = c_loop_command(s, records)
    else:
        program = [sys.executable, "-c", python_program(s), str(records)]
    # --tree: the child imports that checkout's fastprod (built in place there).
    env = dict(os.environ, PYTHONPATH=str(tree) if tree else "")
    with tempfile.TemporaryDirectory(prefix="bench-instructions-") as tmp:
        out = Path(tmp) / "callgrind.out"  # callgrind adds -NN per thread, 01 the main one
        done = subprocess.run(["valgrind", "--tool=callgrind", "--separate-threads=yes",
                               f"--callgrind-out-file={out}", *program],
                              capture_output=True, text=True, env=env, cwd=tree or Path.cwd())
        if done.returncode != 0:
            raise RuntimeError(f"{name} with {records} records failed (exit {done.returncode}):\n"
                               f"{done.stderr[-2000:]}")
        counts = by_group(Path(tmp))
        if s.client == "fastprod":
            said = check_fastprod_child(done.stdout, records + 1, tree)
            counts["in send"] = inside_send(Path(tmp) / "callgrind.out-01")
            counts["batched"] = said["batched"]
    return counts


def check_fastprod_child(stdout: str, sent: int, tree: Path | None) -> dict[str, Any]:
    """What the child said, once it is checked: every record acknowledged, by the fastprod
    asked for."""
    said = json.loads(stdout.strip().splitlines()[-1])
    if said["delivered"] != sent:
        raise RuntimeError(f"{said['delivered']} of {sent} records acknowledged")
    if tree is not None and not said["fastprod"].startswith(str(tree)):
        raise RuntimeError(f"imported {said['fastprod']}, not the fastprod in {tree}")
    return said
