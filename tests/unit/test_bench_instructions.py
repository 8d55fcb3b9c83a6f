"""bench.instructions (issue 14): the threads of a callgrind profile are told apart by the function
they started in, and a short run of the smallest scenarios under callgrind gives positive counts
of the size the C loop and fastprod have (no timing is checked)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

# bench/ belongs to the checkout, not to the wheel: the installed-wheel run skips this module.
pytestmark = pytest.mark.source_tree
measure = pytest.importorskip("bench.instructions.measure")
report = pytest.importorskip("bench.instructions.report")

ROOT = Path(__file__).resolve().parents[2]


def profile(thread: int, functions: list[str], total: int) -> str:
    """A callgrind profile of one thread, cut down to what measure reads."""
    body = "".join(f"fn=({i}) {name}\n0 1\n" for i, name in enumerate(functions, 1))
    return f"version: 1\npid: 7\nthread: {thread}\n{body}summary: {total}\ntotals: {total}\n"


def test_threads_are_grouped_by_the_function_they_started_in(tmp_path):
    threads = {1: (["main", "rd_kafka_mock_broker_new", "rd_kafka_new"], 1000),
               2: (["start_thread", "rd_kafka_mock_cluster_thread_main"], 30),
               3: (["start_thread", "fp_drain_main", "rd_kafka_producev"], 200),
               4: (["start_thread", "__pyx_pw_8fastprod_5_core_11_Dispatcher_1run"], 40),
               5: (["start_thread", "rd_kafka_broker_thread_main"], 300),
               6: (["start_thread", "rd_kafka_broker_thread_main"], 5),
               7: (["start_thread", "rd_kafka_thread_main"], 9),
               8: (["start_thread", "some_other_thread"], 1)}
    for number, (functions, total) in threads.items():
        (tmp_path / f"callgrind.out-{number:02d}").write_text(profile(number, functions, total))
    assert measure.by_group(tmp_path) == {
        "caller": 1000, "mock broker": 30, "fastprod drain": 200, "fastprod dispatcher": 40,
        "fastprod metadata": 0, "librdkafka main": 9, "librdkafka brokers": 305, "other": 1}


def test_per_record_is_the_difference_over_n_without_the_mock_broker():
    low = dict.fromkeys(measure.GROUPS, 1_000) | {"in send": 10}
    high = {**low, "caller": 3_000, "mock broker": 1_400, "librdkafka brokers": 2_000,
            "in send": 510}
    figures = report.per_record(low, high, records=100)
    assert figures["client_side"] == 30   # caller 20 + brokers 10; the mock broker's 4 left out
    assert figures["all_threads"] == 34
    assert figures["in_send"] == 5


@pytest.mark.skipif(not (shutil.which("valgrind") and shutil.which("callgrind_annotate")),
                    reason="needs valgrind (Debian: apt-get install valgrind)")
def test_a_short_run_under_callgrind_gives_plausible_counts(tmp_path):
    out = tmp_path / "instructions.json"
    done = subprocess.run([sys.executable, "-m", "bench.instructions", "--scenario", "c-producev",
                           "--scenario", "keyless", "--warm-up", "1000", "--records", "2000",
                           "--json", str(out)], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr
    assert "| keyless: fastprod send()" in done.stdout
    figures = json.loads(out.read_text())
    assert (figures["warm_up"], figures["records"]) == (1000, 2000)
    assert figures["versions"]["librdkafka"] and figures["machine"]["cores"] >= 1
    c_loop, keyless = figures["scenarios"]["c-producev"], figures["scenarios"]["keyless"]
    # librdkafka takes a few thousand instructions per record (2,300 to 4,000 in every
    # measurement so far); a Python client more, but not tens of thousands.
    assert 1_500 < c_loop["client_side"] < 8_000
    assert c_loop["client_side"] < keyless["client_side"] < 20_000
    assert c_loop["ratio_to_c_loop"] == 1.0 and keyless["ratio_to_c_loop"] > 1
    for scenario in (c_loop, keyless):
        threads = scenario["threads"]
        # at so few records the broker threads vary most (how requests happen to be batched)
        assert threads["caller"] > 500 and threads["librdkafka brokers"] > 0
        assert 0 < threads["mock broker"] < 1_000
    assert abs(c_loop["threads"]["fastprod drain"]) < 1   # a C program has no fastprod threads
    assert keyless["threads"]["fastprod drain"] > 300
    assert keyless["threads"]["fastprod dispatcher"] > 0
    assert 0 < keyless["in_send"] < keyless["threads"]["caller"]
