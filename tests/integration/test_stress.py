"""Issue 12: eight threads share one producer, under every serializer, with a buffer small enough
that send() waits, and with the producer closed under the senders' feet.

A record's key names it ("t<thread>-<seq>") and its value is derived from the key, padded to a
length that varies from record to record, so a record that carries another one's value, or a
value overwritten while send() held it, shows when the topic is read back. A scenario does not stop
at the first wrong record; it reports counts (tests/support/stress/report.py says which).

Every scenario (tests/support/stress/scenarios.py) runs in a child interpreter, which prints its
report as JSON: a crash must fail the test, not the session.

FASTPROD_STRESS_RECORDS (default 160,000) is how many records the CI stress sends in all, split
over the serializers; the `slow` case sends 1,000,000.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka.admin import AdminClient

from tests.support.stress.records import CODECS
from tests.support.stress.report import LOG_FAULTS
from tests.support.stress.scenarios import BUFFER_MEMORY, THREADS
from tests.support.topics import unique_topic

ROOT = Path(__file__).resolve().parents[2]
# A record here charges less than this against buffer.memory (key, value, header, 232 B overhead):
# a peak within it of buffer.memory means a send() found no room and waited.
RECORD_CHARGE_BOUND = 1024
CI_RECORDS = int(os.environ.get("FASTPROD_STRESS_RECORDS", "160000"))
FULL_RECORDS = 1_000_000
CLOSE_AFTER = 20_000  # records accepted before close() in the close-mid-run scenario


def _isolated(scenario: str, bootstrap: str, timeout_s: float = 240,
              **arguments: Any) -> dict[str, Any]:
    """Runs a scenario in a child interpreter on a topic of its own and returns its report; a
    crash or a hang fails the test with the child's stderr (faulthandler prints the Python stack
    of a segfault). The topic is deleted here, so a crashed child leaves none behind."""
    topic = unique_topic(f"stress-{scenario}")
    child = [sys.executable, "-X", "faulthandler", "-m", "tests.support.stress.scenarios", scenario,
             json.dumps({"bootstrap": bootstrap, "topic": topic, **arguments})]
    try:
        done = subprocess.run(child, cwd=ROOT, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired as exc:
        stderr = exc.stderr or b""
        if isinstance(stderr, bytes):  # TimeoutExpired may keep bytes even with text=True
            stderr = stderr.decode(errors="replace")
        pytest.fail(f"{scenario}{arguments} hung for {timeout_s} s:\n{stderr[-4000:]}",
                    pytrace=False)
    finally:
        admin = AdminClient({"bootstrap.servers": bootstrap})  # alive until the answer
        with contextlib.suppress(Exception):  # cleanup only; never created if the child died early
            admin.delete_topics([topic], operation_timeout=30)[topic].result(60)
    if done.returncode != 0:
        how = (f"died of {signal.Signals(-done.returncode).name}" if done.returncode < 0
               else f"exited with {done.returncode}")
        pytest.fail(f"{scenario}{arguments} {how}:\n{done.stderr[-4000:]}", pytrace=False)
    report = json.loads(done.stdout.splitlines()[-1])
    print(f"\n{scenario}{arguments}: {report}")
    return report


def _faults(report: dict[str, Any]) -> dict[str, int]:
    """Futures left pending and what the log shows wrong: all must be 0 in every scenario."""
    return {kind: report[kind] for kind in ("unresolved", *LOG_FAULTS)}


NO_FAULTS = dict.fromkeys(("unresolved", *LOG_FAULTS), 0)


def _assert_clean_stress(report: dict[str, Any]) -> None:
    assert report["refused"] == {} and report["failed"] == {}, report["refusal_messages"]
    assert _faults(report) == NO_FAULTS, report["examples"]
    assert report["acked"] == report["consumed"] == report["records"]
    assert report["buffer_peak"] > BUFFER_MEMORY - RECORD_CHARGE_BOUND, "send() never waited"


@pytest.mark.parametrize("codec", CODECS)
def test_eight_threads_share_one_producer(bootstrap, codec):
    _assert_clean_stress(_isolated("stress", bootstrap, codec=codec,
                                   records=CI_RECORDS // len(CODECS)))


@pytest.mark.slow
@pytest.mark.parametrize("codec", CODECS)
def test_a_million_records_through_eight_threads(bootstrap, codec):
    _assert_clean_stress(_isolated("stress", bootstrap, codec=codec,
                                   records=-(-FULL_RECORDS // len(CODECS))))


@pytest.mark.parametrize("codec", CODECS)
def test_a_refused_record_leaves_the_others_alone(bootstrap, codec):
    report = _isolated("stress", bootstrap, codec=codec, records=8000, poison=True)
    assert report["refused"].get("SerializationError", 0) > 0  # the poison was there
    assert report["wrong_refusals"] == 0, report["refusal_messages"]
    assert report["failed"] == {}
    assert _faults(report) == NO_FAULTS, report["examples"]
    assert report["acked"] == report["consumed"] == report["records"] - sum(
        report["refused"].values())


@pytest.mark.parametrize(("codec", "timeout"),
                         [(codec, None) for codec in CODECS] + [("json", 0), ("callable", 0)])
def test_close_while_eight_threads_send(bootstrap, codec, timeout):
    report = _isolated("close_mid_run", bootstrap, codec=codec, close_after=CLOSE_AFTER,
                       timeout=timeout)
    assert report["close_raised"] is None
    assert report["refused"] == {"ProducerClosedError": THREADS}, report["refusal_messages"]
    assert report["unresolved_at_close"] == 0
    assert _faults(report) == NO_FAULTS, report["examples"]
    if timeout is None:
        assert report["failed"] == {}
    else:  # close(0) fails what it cannot deliver at once
        assert set(report["failed"]) <= {"PurgeQueueError", "PurgeInflightError"}
    assert report["acked"] + sum(report["failed"].values()) == report["sent"] >= CLOSE_AFTER


@pytest.mark.parametrize("api", ["send", "send_batch"])
@pytest.mark.parametrize("where", ["serializer", "partitioner"])
def test_a_serializer_or_partitioner_closes_its_producer(bootstrap, where, api):
    report = _isolated("close_inside", bootstrap, where=where, api=api)
    assert report["refused"] == {"ProducerClosedError": 1}, report["refusal_messages"]
    assert report["wrong_refusals"] == 0
    assert report["send_after_close"] == "ProducerClosedError"
    assert _faults(report) == NO_FAULTS, report["examples"]
    assert (report["sent"], report["acked"], report["failed"]) == (50, 50, {})


@pytest.mark.parametrize("variant", ["serializer-clears", "partitioner-clears",
                                     "serializer-pops"])
def test_a_serializer_or_partitioner_mutates_its_input(bootstrap, variant):
    report = _isolated("mutation", bootstrap, variant=variant)
    if variant == "serializer-pops":
        assert report["raised"] is None and report["queued"] == 100
    else:  # the records it had, or Python's error for a list that changed size while iterated
        assert report["raised"] in (None, "RuntimeError"), report["message"]
        assert report["queued"] is not None and 50 <= report["queued"] <= 100
    assert _faults(report) == NO_FAULTS, report["examples"]
    assert report["acked"] == report["consumed"] == report["queued"]
