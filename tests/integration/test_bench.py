"""`fastprod bench` end to end on the real broker, tiny: every chosen client runs in its own
process and is measured, a client that is not installed is reported as skipped with the reason,
the JSON follows its schema, the chart is a PNG and no run's topic is left behind. The C loop
takes its whole producer configuration from its command line."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import time

import pytest
from confluent_kafka.admin import AdminClient

from fastprod import cli
from fastprod.bench import environment, report, run, scenarios
from tests.support.topics import create_topic, unique_topic


@pytest.fixture
def no_aiokafka(monkeypatch):
    """As on a machine without aiokafka."""
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(scenarios.importlib.util, "find_spec",
                        lambda name, *a: None if name == "aiokafka" else find_spec(name, *a))


def test_tiny_run_writes_table_json_and_png(bootstrap, tmp_path, capsys, no_aiokafka):
    out_json, out_png = tmp_path / "bench.json", tmp_path / "charts" / "bench.png"
    status = cli.main(["bench", "--bootstrap", bootstrap, "--scenario", "keyless",
                       "--scenario", "json", "--clients",
                       "fastprod-drop,fastprod,fastprod-batch,confluent,confluent-cb,aiokafka,java,native",
                       "--records", "3000", "--runs", "2", "--json", str(out_json),
                       "--plot", str(out_png), "--progress"])
    printed = capsys.readouterr()
    assert status == 0, printed.err
    result = json.loads(out_json.read_text())
    assert result["schema"] == report.SCHEMA
    assert set(result) >= {"created", "machine", "versions", "records", "runs", "partitions",
                           "bootstrap", "scenarios"}
    assert result["versions"]["fastprod"] and result["versions"]["librdkafka"]
    assert list(result["scenarios"]) == ["keyless", "json"]
    expected = {"keyless": {"fastprod-drop", "confluent", "aiokafka", "java", "native"},
                "json": {"fastprod", "fastprod-batch", "confluent-cb", "aiokafka"}}
    for name, entry in result["scenarios"].items():
        assert set(entry["clients"]) == expected[name]
        assert entry["records"] == 3000
        for client, e in entry["clients"].items():
            if client == "aiokafka":
                assert e["status"] == "skipped"
                assert e["reason"] == "aiokafka is not installed (pip install aiokafka)"
                assert "aiokafka send()" in printed.out and "skipped: aiokafka is not" in printed.out
                continue
            assert e["status"] == "ok", e
            assert len(e["runs"]) == 2 and all(r["delivered"] == 3000 for r in e["runs"])
            rate = e["msgs_per_s"]
            assert 0 < rate["min"] <= rate["median"] <= rate["max"]
            assert e["mb_per_s"] == pytest.approx(rate["median"] * entry["value_bytes"] / 1e6)
            assert e["cpu_s_per_million"]["median"] > 0 and e["peak_rss_mb"] > 1
            assert e["label"] in printed.out
    keyless = result["scenarios"]["keyless"]["clients"]
    assert keyless["native"]["vs_native"] == 1.0
    assert keyless["fastprod-drop"]["vs_best_other_python"] == pytest.approx(
        keyless["fastprod-drop"]["msgs_per_s"]["median"] / keyless["confluent"]["msgs_per_s"]["median"])
    assert "msgs/s" in printed.err and "%" in printed.err  # the live progress line
    admin = AdminClient({"bootstrap.servers": bootstrap})
    deadline = time.monotonic() + 15  # deletion reaches every broker's metadata soon after
    while leftovers := [t for t in admin.list_topics(timeout=30).topics
                        if t.startswith("fastprod-bench-")]:
        assert time.monotonic() < deadline, f"topics left behind: {leftovers}"
        time.sleep(0.5)
    png = out_png.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000


def test_c_loop_is_configured_only_by_its_arguments(bootstrap):
    """Built from the shipped source as `fastprod bench` builds it; it refuses a property
    librdkafka rejects, naming it, and delivers with the properties the bench gives it."""
    if environment.native_missing():
        pytest.skip(environment.native_missing())
    loop, librdkafka = str(run._c_loop_binary()), run._loaded_librdkafka()
    topic = create_topic(bootstrap, unique_topic("c-loop"), 2)
    properties = [f"{k}={v}" for k, v in environment.confluent_config(bootstrap).items()]

    def c_loop(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([loop, librdkafka, topic, "500", "100", "1", "-", *args],
                              capture_output=True, text=True, timeout=120)

    rejected = c_loop(*properties, "linger.ms=soon")
    assert rejected.returncode == 2 and "linger.ms" in rejected.stderr, rejected.stderr
    assert c_loop().returncode == 2  # no properties: nothing defaults to a broker
    done = c_loop(*properties)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["delivered"] == 500 and result["failed"] == 0 and result["seconds"] > 0
