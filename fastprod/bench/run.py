"""`fastprod bench`: fastprod against the Python clients people use today, the Java producer and a
C loop on the same librdkafka, end to end on one broker.

Each (scenario, client, run) is its own subprocess on a fresh topic (6 partitions, replication
as the cluster allows up to 3); runs are interleaved, the client order rotating every round, so
that drifts of a shared machine hit every client alike. Every record of a run must be
acknowledged for it to count. While a run goes, the topic's end offsets show the live rate.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import fastprod
from fastprod.bench import environment, report
from fastprod.bench.scenarios import LABELS, MAIN_SCENARIOS, SCENARIOS, Scenario, missing
from fastprod.bench.workloads import compressible_values
from fastprod.kafka_local.runtime import java

PACKAGE_PARENT = Path(fastprod.__file__).resolve().parents[1]
PROGRESS_EVERY_S = 0.25


def add_arguments(ap: argparse.ArgumentParser) -> None:
    """The options of `fastprod bench`."""
    ap.add_argument("--bootstrap", default=os.environ.get("FASTPROD_BOOTSTRAP"),
                    help="host:port of the cluster to measure (default: $FASTPROD_BOOTSTRAP)")
    ap.add_argument("--local", action="store_true",
                    help="start a local Kafka broker (fastprod kafka) for the run, stop it after")
    ap.add_argument("--local-port", type=positive_int, default=None,
                    metavar="PORT", help="with --local: its client port; it also takes PORT+1 "
                                         f"(default: the first free pair from "
                                         f"{environment.LOCAL_PORT})")
    ap.add_argument("--scenario", action="append", choices=sorted(SCENARIOS), metavar="NAME",
                    help=f"a workload to run, repeatable (default: {', '.join(MAIN_SCENARIOS)}; "
                         f"all: {', '.join(sorted(SCENARIOS))})")
    ap.add_argument("--clients", help="comma-separated subset, e.g. fastprod,confluent "
                                      f"(of: {', '.join(LABELS)})")
    ap.add_argument("--records", type=positive_int, default=1_000_000,
                    help="records per run of the 100-byte scenarios; larger values send "
                         "proportionally fewer (default: 1,000,000)")
    ap.add_argument("--runs", type=positive_int, default=3, help="runs per client (default: 3)")
    ap.add_argument("--partitions", type=positive_int, default=6,
                    help="partitions of each topic the benchmark creates (default: 6)")
    ap.add_argument("--json", type=Path, metavar="FILE", help="write every figure as JSON")
    ap.add_argument("--plot", type=Path, metavar="FILE.png", help="write a bar chart (matplotlib)")
    ap.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                    help="live progress bar on stderr (default: when stderr is a terminal)")


def argument_error(args: argparse.Namespace) -> str | None:
    """What is wrong with the arguments, before anything runs."""
    if not (args.bootstrap or args.local):
        return "give --bootstrap, FASTPROD_BOOTSTRAP or --local"
    unknown = set(args.clients.split(",")) - set(LABELS) if args.clients else set()
    if unknown:
        return f"unknown client(s): {', '.join(sorted(unknown))} (known: {', '.join(LABELS)})"
    return None


def positive_int(text: str) -> int:
    """argparse type: an int of at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


class Session:
    """The broker and what every run of a benchmark needs from it."""

    def __init__(self, bootstrap: str, partitions: int, progress: bool) -> None:
        from confluent_kafka import Consumer
        from confluent_kafka.admin import AdminClient

        self.bootstrap = bootstrap
        self.partitions = partitions
        self.progress = progress
        self.admin = AdminClient({"bootstrap.servers": bootstrap})
        # Reads end offsets: the live rate, and afterwards what each run really wrote.
        self.offsets = Consumer({"bootstrap.servers": bootstrap, "group.id": "fastprod-bench"})
        brokers = len(self.admin.list_topics(timeout=30).brokers)
        self.replication = min(3, brokers)
        self.scratch = Path(tempfile.mkdtemp(prefix="fastprod-bench-"))

    def close(self) -> None:
        """Drops the clients before the broker goes (they would log the disconnect)."""
        self.offsets.close()
        del self.admin, self.offsets
        shutil.rmtree(self.scratch, ignore_errors=True)

    def topic(self) -> str:
        """A fresh topic for one run (its name)."""
        from confluent_kafka.cimpl import NewTopic

        name = f"fastprod-bench-{uuid.uuid4().hex[:10]}"
        self.admin.create_topics([NewTopic(name, self.partitions, self.replication)])[name].result(60)
        return name

    def drop(self, topic: str) -> None:
        """Deletes a finished run's topic: the cluster should not carry the partitions of every
        earlier run into the next one (one broker slowed down by half over a full default run)."""
        try:
            self.admin.delete_topics([topic], operation_timeout=30)[topic].result(60)
        except Exception as exc:  # noqa: BLE001 - a leftover topic must not fail the benchmark
            print(f"  (could not delete topic {topic}: {exc})", file=sys.stderr)

    def written(self, topic: str, timeout: float = 10) -> int:
        """Records written to topic so far: the sum of its partitions' end offsets."""
        from confluent_kafka import KafkaError, KafkaException, TopicPartition

        deadline = time.monotonic() + timeout
        while True:
            try:
                return sum(self.offsets.get_watermark_offsets(TopicPartition(topic, p),
                                                              timeout=timeout)[1]
                           for p in range(self.partitions))
            except KafkaException as exc:
                # A topic created moments ago (a fast run ends within a second): this consumer
                # may not know its partitions yet. Ask, then look again.
                if (exc.args[0].code() != KafkaError._UNKNOWN_PARTITION
                        or time.monotonic() > deadline):
                    raise
                self.offsets.list_topics(topic, timeout=1)
                time.sleep(0.05)


def _command(client: str, s: Scenario, session: Session, topic: str, records: int) -> list[str]:
    if client == "native":
        payloads = str(_payload_file(session, s)) if s.compression else "-"
        properties = environment.confluent_config(session.bootstrap, s.compression)
        return [str(_c_loop_binary()), _loaded_librdkafka(), topic, str(records),
                str(s.value_bytes), "1" if s.keyed else "0", payloads,
                *(f"{name}={value}" for name, value in properties.items())]
    if client == "java":
        properties = environment.java_config(session.bootstrap, s.compression)
        payload = (["--payload-file", str(_payload_file(session, s))] if s.compression
                   else ["--record-size", str(s.value_bytes)])
        return [java(), "-cp", f"{environment.kafka_libs()}/*",
                "org.apache.kafka.tools.ProducerPerformance", "--topic", topic,
                "--num-records", str(records), "--throughput", "-1", *payload,
                "--producer-props", *(f"{name}={value}" for name, value in properties.items())]
    cmd = [sys.executable, "-m", "fastprod.bench.clients", client, "--bootstrap",
           session.bootstrap, "--topic", topic, "--records", str(records),
           "--size", str(s.value_bytes)]
    if s.keyed:
        cmd.append("--keyed")
    if s.compression:
        cmd += ["--compression", s.compression]
    if s.fmt:
        cmd += ["--format", s.fmt]
    return cmd


def _c_loop_binary() -> Path:
    """The C loop compiled from the shipped source, cached under the source's hash (installs of
    different fastprod versions share the cache)."""
    source = environment.C_LOOP_SOURCE.read_bytes()
    out = environment.CACHE / "bench" / f"c-loop-{hashlib.sha256(source).hexdigest()[:16]}"
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    compiler = environment.c_compiler() or "cc"
    # Built beside its final name, then renamed: two benchmarks never run a half-written binary.
    partial = out.with_name(f"{out.name}.{os.getpid()}")
    subprocess.run([compiler, "-O2", "-std=gnu11", "-o", str(partial),
                    str(environment.C_LOOP_SOURCE), "-ldl"], check=True)
    partial.replace(out)
    return out


def _loaded_librdkafka() -> str:
    """The librdkafka file fastprod resolved in this process (the C loop must use the same; not
    the confluent_kafka extension fastprod loads it through, which needs Python's symbols)."""
    for line in Path("/proc/self/maps").read_text().splitlines():
        if "librdkafka" in line:
            return line.split(maxsplit=5)[5]
    raise RuntimeError("librdkafka is not mapped into this process")


def _payload_file(session: Session, s: Scenario) -> Path:
    path = session.scratch / f"payloads-{s.value_bytes}"
    if not path.exists():
        path.write_bytes(b"\n".join(compressible_values(s.value_bytes)) + b"\n")
    return path


def run_one(client: str, s: Scenario, session: Session, records: int, label: str) -> dict[str, Any]:
    """One run in a subprocess; its figures, or a RuntimeError saying why it failed."""
    topic = session.topic()
    try:
        return _run_on(topic, client, s, session, records, label)
    finally:
        session.drop(topic)


def _run_on(topic: str, client: str, s: Scenario, session: Session, records: int,
            label: str) -> dict[str, Any]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(PACKAGE_PARENT), *filter(None, [os.environ.get("PYTHONPATH")])]))
    with (session.scratch / "out").open("w+") as out, (session.scratch / "err").open("w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(_command(client, s, session, topic, records), stdout=out,
                                stderr=err, env=env)
        try:
            status, usage, peak_kb = _watch(proc, session, topic, records, label, started)
        except BaseException:
            proc.kill()  # Ctrl-C or a broken watch: no client may outlive its run
            proc.wait()
            raise
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode != 0:
        raise RuntimeError(f"exit {proc.returncode}: {stderr.strip()[-1500:]}")
    if client == "java":
        result = _java_result(stdout, records, usage.ru_utime + usage.ru_stime,
                              peak_kb or environment.maxrss_kb(usage))
    else:
        result = json.loads(stdout.strip().splitlines()[-1])
    if result["delivered"] != records:
        raise RuntimeError(f"delivered {result['delivered']:,} of {records:,}")
    # What the client says it delivered, checked against the log: every client but Java's sends
    # one warm-up record first.
    expected = records + (0 if client == "java" else 1)
    written = session.written(topic)
    if written != expected:
        raise RuntimeError(f"the topic holds {written:,} records, {expected:,} expected")
    return result


def _watch(proc: subprocess.Popen[bytes], session: Session, topic: str, records: int, label: str,
           started: float) -> tuple[int, Any, int]:
    """Waits for proc to exit, drawing the live rate if asked. Returns its wait status, its
    rusage and its last seen VmHWM in kB (0 without /proc), since wait4's ru_maxrss can carry a
    forking parent's high-water mark."""
    peak_kb, last = 0, (started, 0)
    try:
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid != 0:
                return status, usage, peak_kb
            peak_kb = max(peak_kb, environment.vm_hwm_kb(proc.pid))
            time.sleep(PROGRESS_EVERY_S)
            if session.progress:
                try:
                    acked = session.written(topic, timeout=1)
                except Exception:  # noqa: BLE001 - a missed sample only skips one redraw
                    continue
                now = time.perf_counter()
                rate = (acked - last[1]) / (now - last[0])
                last = (now, acked)
                report.progress_line(label, min(acked, records), records, rate, now - started)
    finally:
        if session.progress:
            report.progress_done()


def _java_result(stdout: str, records: int, cpu_seconds: float, peak_kb: int) -> dict[str, Any]:
    """ProducerPerformance's summary line: 'N records sent, R records/sec (M MB/sec), ...'."""
    line = next((l for l in reversed(stdout.splitlines()) if "records sent" in l), None)
    if line is None:
        raise RuntimeError(f"no summary in ProducerPerformance's output: {stdout[-500:]!r}")
    sent = int(line.split(" records sent")[0].strip())
    rate = float(line.split("records sent,")[1].split("records/sec")[0])
    if sent != records:
        raise RuntimeError(f"ProducerPerformance sent {sent:,} of {records:,}")
    # Its error count is not printed: records it failed to send end its run with an exception.
    return {"delivered": sent, "failed": 0, "seconds": sent / rate, "enqueue_seconds": None,
            "cpu_seconds": cpu_seconds, "cpu_whole_process": True, "max_rss_kb": peak_kb}


def bench(args: argparse.Namespace) -> int:
    """Runs the benchmark `args` describe (see add_arguments); the exit status."""
    scenarios = args.scenario or list(MAIN_SCENARIOS)
    chosen = set(args.clients.split(",")) if args.clients else None
    if args.plot:
        from fastprod.bench import plot

        plot.check_available()
    progress = sys.stderr.isatty() if args.progress is None else args.progress
    port = (args.local_port or environment.free_local_port()) if args.local else 0
    with environment.broker(args.bootstrap, args.local, port) as bootstrap:
        session = Session(bootstrap, args.partitions, progress)
        result = report.new(args.records, args.runs, args.partitions, bootstrap)
        print(report.header(result))
        try:
            failures = _scenarios(session, scenarios, chosen, args, result)
        finally:
            session.close()
    for path in filter(None, [args.json, args.plot]):
        path.parent.mkdir(parents=True, exist_ok=True)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    if args.plot:
        plot.write(result, args.plot)
    return 1 if failures else 0


def _scenarios(session: Session, scenarios: list[str], chosen: set[str] | None,
               args: argparse.Namespace, result: dict[str, Any]) -> int:
    """Runs every scenario, printing its table; the number of clients whose runs failed."""
    failures = 0
    for name in scenarios:
        s = SCENARIOS[name]
        clients = [c for c in s.clients if chosen is None or c in chosen]
        skipped = {c: why for c in clients if (why := missing(c, s))}
        runnable = [c for c in clients if c not in skipped]
        runs: dict[str, list[dict[str, Any]]] = {c: [] for c in runnable}
        failed: dict[str, str] = {}
        records = s.records(args.records)
        for i in range(args.runs):
            order = runnable[i % len(runnable):] + runnable[:i % len(runnable)] if runnable else []
            for client in order:
                if client in failed:
                    continue
                label = f"{name} {i + 1}/{args.runs} {LABELS[client]}"
                try:
                    r = run_one(client, s, session, records, label)
                except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
                    failed[client] = str(exc)
                    print(f"  {label}: FAILED {exc}", file=sys.stderr)
                    continue
                runs[client].append(r)
                print(f"  {label:<52} {records / r['seconds']:>11,.0f} msgs/s",
                      file=sys.stderr)
        failures += len(failed)
        entry = report.scenario_entry(name, s, records, runs, skipped, failed)
        result["scenarios"][name] = entry
        print(report.table(name, entry), flush=True)
    return failures
