"""Hostile arguments that crash the process if mishandled: serializers that close the producer,
clear or overwrite the lists send_batch() reads, or raise KeyboardInterrupt, and a headers list
whose __len__ lies. Each runs in a forked grandchild of a fresh interpreter (which has no
producer threads to fork with) and reports a line of JSON."""

from __future__ import annotations

import faulthandler
import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

import fastprod
from fastprod import ProducerRecord
from fastprod.errors import FastProdError, ProducerClosedError
from tests.support.fuzz.contract import INT32_MAX
from tests.support.fuzz.user_code import LenList
from tests.support.mock_cluster import MOCK_CONFIG

HOSTILE = [
    "close:send",           # the value serializer closes the producer during send()
    "close:batch",          # ... during send_batch(), at its second record
    "close:records",        # ... during send_batch(records)
    "clear:values",         # the value serializer empties a list send_batch is reading
    "clear:keys",
    "clear:partitions",
    "clear:timestamps_ms",
    "clear:headers",
    "clear:records",
    "garbage:values",       # ... replaces the items not read yet
    "garbage:headers",
    "interrupt:batch",      # ... raises KeyboardInterrupt
    "lying-len:send",       # headers in a list whose __len__ says 2**31 - 1
    "lying-len:batch",
]


def _hostile(name: str) -> None:
    """One scenario, in this process; an AssertionError says what went wrong."""
    action, _, what = name.partition(":")
    if action == "lying-len":
        return _lying_len(what)
    producer: fastprod.Producer
    calls = 0
    values: list[Any] = [b"a", b"b", b"c", b"d"]
    columns: dict[str, list[Any]] = {
        "keys": [b"k0", b"k1", b"k2", b"k3"], "partitions": [0, 1, 2, 3],
        "timestamps_ms": [1, 2, 3, 4], "headers": [[("h", b"%d" % i)] for i in range(4)]}
    lists = {"values": values, "records": [ProducerRecord("t1", v) for v in values], **columns}

    def serializer(obj: Any) -> bytes:
        nonlocal calls
        calls += 1
        if calls == 2:  # the second record: the first is queued
            if action == "close":
                producer.close(5)
            elif action == "clear":
                lists[what].clear()
            elif action == "garbage":
                lists[what][2:] = [object()] * 2
            elif action == "interrupt":
                raise KeyboardInterrupt
        return obj

    producer = fastprod.Producer(config=MOCK_CONFIG, value_serializer=serializer, max_block_ms=2000)
    try:
        if what == "send":
            calls = 1
            producer.send("t1", b"v")
        elif what == "records":
            producer.send_batch(lists["records"])
        else:
            result = producer.send_batch("t1", values, **columns)
            assert producer.stats()["sent"] == 4 == result.sent, (
                f"returned {result!r} after {producer.stats()['sent']} records were queued")
        assert action not in ("close", "interrupt"), "it returned"
    except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001
        # A closed producer is documented to raise ProducerClosedError. Columns changed under
        # send_batch are not documented: going on with what it was given, or stopping with a
        # FastProdError, TypeError, ValueError or RuntimeError (Python's "changed size during
        # iteration") are all fine.
        expected = {"close": ProducerClosedError, "interrupt": KeyboardInterrupt}.get(
            action, (FastProdError, TypeError, ValueError, RuntimeError))
        if isinstance(exc, AssertionError) or not isinstance(exc, expected):
            raise AssertionError(f"raised {type(exc).__name__}: {exc}") from exc
        batch = getattr(exc, "batch_result", None)
        sent = producer.stats()["sent"]
        assert sent == (batch.sent if batch is not None else 0), (
            f"{type(exc).__name__}: {sent} queued, batch_result.sent "
            f"{None if batch is None else batch.sent}")
        if batch is not None and producer.closed:
            assert batch.done(), "close() left records of the batch unresolved"
    if not producer.closed:
        producer.send("t1", b"still usable").get(30)
        producer.close(30)


def _lying_len(what: str) -> None:
    """The two header pairs in the list are valid, whatever its __len__ says."""
    if not os.path.exists("/proc/self/statm"):
        return  # the address-space limit below is Linux's
    import resource
    producer = fastprod.Producer(config=MOCK_CONFIG, max_block_ms=2000)
    # A capacity of 2**31 headers is 16 GiB: more than small machines can reserve. With 1 GiB
    # above what this process has mapped, this one fails where they would.
    with open("/proc/self/statm") as statm:
        mapped = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    resource.setrlimit(resource.RLIMIT_AS, (mapped + (1 << 30), resource.RLIM_INFINITY))
    lying = LenList([("h", b"0"), ("i", b"1")], INT32_MAX)
    try:
        if what == "send":
            producer.send("t1", b"v", headers=lying)
        else:
            producer.send_batch("t1", [b"v"], headers=[lying])
    except (TypeError, ValueError):
        pass  # documented for headers, if not what the oracle would choose
    producer.send("t1", b"still usable").get(30)
    producer.close(30)


def _hostile_main(scenarios: list[str]) -> None:
    """Forks one grandchild per scenario; prints a line of JSON for each."""
    children = {}
    for name in scenarios:
        read, write = os.pipe()
        stderr = tempfile.TemporaryFile()
        pid = os.fork()
        if pid == 0:  # the grandchild: run, report, leave without the parent's cleanups
            os.close(read)
            os.dup2(stderr.fileno(), 2)
            faulthandler.enable(all_threads=False)  # a crash names its line
            signal.alarm(60)
            try:
                _hostile(name)
                report = {"ok": True, "message": ""}
            except BaseException as exc:  # noqa: BLE001
                report = {"ok": False, "message": f"{type(exc).__name__}: {exc}"}
            os.write(write, json.dumps(report).encode())
            os._exit(0)
        os.close(write)
        children[name] = (pid, read, stderr)
    for name, (pid, read, stderr) in children.items():
        with os.fdopen(read, "rb") as pipe:
            output = pipe.read()
        _, status = os.waitpid(pid, 0)
        if output:
            report = json.loads(output)
        else:
            why = (f"killed by {signal.Signals(os.WTERMSIG(status)).name}"
                   if os.WIFSIGNALED(status) else f"exit status {os.WEXITSTATUS(status)}")
            stderr.seek(0)
            said = [line.strip() for line in stderr.read().decode(errors="replace").splitlines()
                    if line.strip()][:4]
            report = {"ok": False, "message": f"the process died ({why}); its stderr began: "
                                              + " / ".join(said)}
        print(json.dumps({"name": name, **report}), flush=True)


@pytest.fixture(scope="module")
def hostile_reports() -> dict[str, dict[str, Any]]:
    root = Path(__file__).resolve().parents[3]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(root), *filter(None, [os.environ.get("PYTHONPATH")])])}
    done = subprocess.run([sys.executable, "-m", "tests.unit.fuzz.test_hostile", *HOSTILE],
                          cwd=root, env=env, capture_output=True, text=True, timeout=300)
    reports = {}
    for line in done.stdout.splitlines():
        if line.startswith("{"):
            report = json.loads(line)
            reports[report.pop("name")] = report
    assert reports, f"the hostile runner failed: {done.returncode}\n{done.stderr[-3000:]}"
    return reports


@pytest.mark.skipif(not hasattr(os, "fork"), reason="runs each scenario in a forked process")
@pytest.mark.parametrize("name", HOSTILE)
def test_hostile(hostile_reports: dict[str, dict[str, Any]], name: str) -> None:
    """No crash; ProducerClosedError from a send whose serializer closed the producer (as from any
    send after close()), the records before it resolved; a batch whose lists shrink or change
    under it goes on or stops with a documented error, its batch_result right; KeyboardInterrupt
    goes through; the producer still sends afterwards."""
    report = hostile_reports[name]
    assert report["ok"], f"{name}: {report['message']}"


if __name__ == "__main__":
    _hostile_main(sys.argv[1:])
