"""`fastprod produce`: lines and files of rows to a topic, consumed back; argument and input
errors; exit codes.
`fastprod kafka`: a local broker started, watched and stopped."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time

import pytest

from tests.integration.conftest import free_port_block
from tests.support.topics import consume, create_topic, unique_topic


def fastprod(*args: str, stdin: bytes = b"", env: dict[str, str] | None = None):
    return subprocess.run([sys.executable, "-m", "fastprod", *args], input=stdin,
                          capture_output=True, timeout=120, env={**os.environ, **(env or {})})


def test_json_lines_from_a_file_with_key_field(bootstrap, tmp_path):
    topic = create_topic(bootstrap, unique_topic("cli"), 3)
    rows = [{"user": f"u{i % 17}", "n": i, "tags": ["x"] * (i % 3)} for i in range(25_000)]
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    done = fastprod("produce", topic, "--bootstrap", bootstrap, "--file", str(path),
                    "--value-format", "json", "--key-field", "user", "--no-progress")
    assert done.returncode == 0, done.stderr
    assert b"sent 25,000  delivered 25,000  failed 0" in done.stdout
    consumed = consume(bootstrap, topic, 3, len(rows))
    assert sorted((json.loads(c.value)["n"], c.key) for c in consumed) == \
        [(r["n"], r["user"].encode()) for r in rows]


def test_parquet_rows_with_key_and_timestamp_columns(bootstrap, tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    topic = create_topic(bootstrap, unique_topic("cli"), 3)
    table = pa.table({"user": [f"u{i % 13}" for i in range(30_000)], "n": list(range(30_000)),
                      "at": pa.array([1_700_000_000_000 + i for i in range(30_000)],
                                     pa.timestamp("ms")),
                      "tags": [["x"] * (i % 3) for i in range(30_000)]})
    pq.write_table(table, tmp_path / "rows.parquet", row_group_size=7_000)
    done = fastprod("produce", topic, "--bootstrap", bootstrap, "--file",
                    str(tmp_path / "rows.parquet"), "--key-column", "user",
                    "--timestamp-column", "at", "--no-progress")
    assert done.returncode == 0, done.stderr
    assert re.search(rb"sent 30,000  delivered 30,000  failed 0  [\d,]+ rows/s  [\d.]+ MB/s  "
                     rb"\([\d.]+ s, 1 file, [\d,]+ bytes of keys and values\)", done.stdout), done.stdout
    consumed = consume(bootstrap, topic, 3, 30_000)
    got = sorted((json.loads(c.value)["n"], c.key, c.timestamp, json.loads(c.value)["tags"])
                 for c in consumed)
    assert got == [(i, f"u{i % 13}".encode(), 1_700_000_000_000 + i, ["x"] * (i % 3))
                   for i in range(30_000)]


def test_globs_directories_csv_and_raw_columns(bootstrap, tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    topic = create_topic(bootstrap, unique_topic("cli"), 1)
    (tmp_path / "dir").mkdir()
    for name, start in [("a.parquet", 0), ("b.parquet", 10), ("dir/c.parquet", 20)]:
        pq.write_table(pa.table({"id": list(range(start, start + 10)),
                                 "body": [f"row {i}" for i in range(start, start + 10)]}),
                       tmp_path / name)
    done = fastprod("produce", topic, "--bootstrap", bootstrap, "--file", str(tmp_path / "*.parquet"),
                    str(tmp_path / "dir"), "--value-format", "raw:body", "--header-column", "id",
                    "--no-progress")
    assert done.returncode == 0, done.stderr
    assert b"sent 30  delivered 30" in done.stdout and b"3 files" in done.stdout
    consumed = sorted(consume(bootstrap, topic, 1, 30), key=lambda c: c.offset)
    assert [(c.value, c.headers) for c in consumed] == [
        (f"row {i}".encode(), [("id", str(i).encode())]) for i in range(30)]
    pcsv.write_csv(pa.table({"city": ["Paris", "Lyon"], "pop": [2.1, 0.5]}), tmp_path / "c.csv")
    done = fastprod("produce", topic, "--bootstrap", bootstrap, "--file", str(tmp_path / "c.csv"),
                    "--columns", "pop", "--key-column", "city", "--no-progress")
    assert done.returncode == 0, done.stderr
    consumed = sorted(consume(bootstrap, topic, 1, 32), key=lambda c: c.offset)[30:]
    assert [(c.key, c.value) for c in consumed] == [(b"Paris", b'{"pop":2.1}'),
                                                     (b"Lyon", b'{"pop":0.5}')]


@pytest.mark.parametrize("args, message", [
    (["--file", "{dir}/rows.parquet", "{dir}/rows.csv"], b"several formats (csv, parquet)"),
    (["--file", "{dir}/rows.parquet", "--key-column", "nope"], b"no column 'nope'"),
    (["--file", "{dir}/*.avro"], b"No file matches"),
    (["--key-column", "user"], b"need files of rows"),
    (["--file", "{dir}/rows.parquet", "--value-format", "str"], b"files of rows take"),
])
def test_file_of_rows_errors_exit_2(bootstrap, tmp_path, args, message):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"user": ["a"]}), tmp_path / "rows.parquet")
    pcsv.write_csv(pa.table({"user": ["a"]}), tmp_path / "rows.csv")
    done = fastprod("produce", unique_topic("cli"), "--bootstrap", bootstrap, "--no-progress",
                    *[a.format(dir=tmp_path) for a in args])
    assert done.returncode == 2 and message in done.stderr, done.stderr


def test_str_lines_from_stdin_with_env_bootstrap(bootstrap):
    topic = create_topic(bootstrap, unique_topic("cli"), 1)
    lines = ["héllo", "", "wörld"]
    done = fastprod("produce", topic, "--value-format", "str", "--progress",
                    stdin="\n".join(lines).encode() + b"\n", env={"FASTPROD_BOOTSTRAP": bootstrap})
    assert done.returncode == 0, done.stderr
    consumed = sorted(consume(bootstrap, topic, 1, 3), key=lambda c: c.offset)
    assert [c.value.decode() for c in consumed] == lines


@pytest.mark.parametrize("args, message", [
    (["produce", "t"], b"FASTPROD_BOOTSTRAP"),
    (["produce", "t", "--bootstrap", "h:1", "--key-field", "k"], b"--value-format json"),
    (["produce", "t", "--bootstrap", "h:1", "--config", "novalue"], b"NAME=VALUE"),
    (["produce", "t", "--bootstrap", "h:1", "--value-format", "xml"], b"invalid choice"),
    (["produce", "t", "--bootstrap", "h:1", "--config", "no.such.property=1"], b"no.such.property"),
])
def test_argument_errors_exit_2(args, message):
    done = fastprod(*args, env={"FASTPROD_BOOTSTRAP": ""})
    assert done.returncode == 2 and message in done.stderr, done.stderr


def test_bad_input_line_exits_2_naming_the_line(bootstrap):
    topic = create_topic(bootstrap, unique_topic("cli"), 1)
    done = fastprod("produce", topic, "--bootstrap", bootstrap, "--value-format", "json",
                    "--key-field", "k", stdin=b'{"k": "a"}\n{"k": "b"}\n{"nokey": 1}\n')
    assert done.returncode == 2 and b"line 3" in done.stderr and b"'k'" in done.stderr
    done = fastprod("produce", topic, "--bootstrap", bootstrap, "--value-format", "json",
                    stdin=b'{"ok": 1}\n{broken\n')
    assert done.returncode == 2 and b"line 2 is not JSON" in done.stderr


def test_bad_line_in_the_middle_still_reports_what_was_sent(bootstrap, tmp_path):
    topic = create_topic(bootstrap, unique_topic("cli"), 2)
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(f'{{"n": {i}}}\n' for i in range(25_000)) + "{broken\n{}\n")
    done = fastprod("produce", topic, "--bootstrap", bootstrap, "--file", str(path),
                    "--value-format", "json", "--no-progress")
    assert done.returncode == 2, done.stderr
    assert b"sent 25,000  delivered 25,000  failed 0" in done.stdout
    assert b"line 25001 is not JSON" in done.stderr
    assert b"the 25,000 records before it were sent" in done.stderr
    assert sorted(json.loads(c.value)["n"] for c in consume(bootstrap, topic, 2, 25_000)) == \
        list(range(25_000))


def test_missing_file_exits_2_with_the_reason():
    done = fastprod("produce", "t", "--bootstrap", "127.0.0.1:1", "--file", "/nonexistent.jsonl")
    assert done.returncode == 2, done.stderr
    assert done.stderr == b"fastprod: cannot read /nonexistent.jsonl: No such file or directory\n"


def test_unreachable_broker_exits_3_after_the_connect_timeout():
    started = time.monotonic()
    done = fastprod("produce", "t", "--bootstrap", "127.0.0.1:1", "--connect-timeout", "2",
                    stdin=b"a\n")
    elapsed = time.monotonic() - started
    assert done.returncode == 3, done.stderr
    lines = done.stderr.decode().splitlines()
    assert lines[-1] == ("fastprod: no broker at 127.0.0.1:1 answered within 2 s "
                         "(--connect-timeout)")
    assert len(lines) <= 5, lines  # librdkafka's repeated "Connection refused" lines folded
    # the timeout, interpreter start-up and close(0): 2.2-2.4 s measured (it hung for 122 s)
    assert elapsed < 2 + 2


def test_version():
    done = fastprod("--version")
    assert done.returncode == 0
    assert re.fullmatch(rb"fastprod \S+ \(librdkafka 2\.\d+\.\d+\)\n", done.stdout), done.stdout


def test_failed_records_exit_1(bootstrap):
    done = fastprod("produce", unique_topic("never-created"), "--bootstrap", bootstrap,
                    "--connect-timeout", "1",
                    "--config", "allow.auto.create.topics=false",
                    "--config", "topic.metadata.propagation.max.ms=1000", "--config", "log_level=0",
                    stdin=b"a\nb\n")
    assert done.returncode == 1, done.stderr
    assert b"sent 2  delivered 0  failed 2" in done.stdout


def test_kafka_start_status_stop(tmp_path):
    state, port = tmp_path / "kafka", free_port_block()
    started = fastprod("kafka", "start", "--dir", str(state), "--port", str(port))
    try:
        assert started.returncode == 0, started.stderr
        assert started.stdout.decode() == f"127.0.0.1:{port}\n"
        assert b"1 node(s) ready" in started.stderr
        pid = json.loads((state / "cluster.json").read_text())["nodes"][0]["pid"]
        status = fastprod("kafka", "status", "--dir", str(state))
        assert status.returncode == 0, status.stderr
        assert status.stdout.decode() == f"node 1 pid {pid} 127.0.0.1:{port} up\n"
        topic = create_topic(started.stdout.decode().strip(), unique_topic("cli-kafka"), 1)
        assert fastprod("produce", topic, "--bootstrap", f"127.0.0.1:{port}",
                        stdin=b"a\nb\n").returncode == 0
    finally:
        stopped = fastprod("kafka", "stop", "--dir", str(state))
    assert stopped.returncode == 0 and b"stopped 1 node(s)" in stopped.stderr, stopped.stderr
    status = fastprod("kafka", "status", "--dir", str(state))
    assert status.returncode == 1 and status.stdout == b"no cluster\n"
