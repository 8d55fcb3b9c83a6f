"""Start, watch and stop the nodes of a local KRaft cluster. Everything about a cluster lives in
its directory: cluster.json (bootstrap, node PIDs and ports, --secure details) and one nodeN/
per node (server.properties, kafka.pid, logs/, data/), so any process can stop what another
started."""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from .node_config import (JVM_FLAGS, LOG4J2_XML, SCRAM_PASSWORD, SCRAM_USER, make_tls, node_dir,
                          ports, secure_ports, server_properties)
from .runtime import HEAP, KAFKA_VERSION, die, fetch, java, require_java, require_openssl

READY_TIMEOUT_S = 120.0
STOP_GRACE_S = 30.0
READY_LINE = "Kafka Server started"


def cluster_id() -> str:
    # Same format as Kafka's Uuid.randomUuid: URL-safe base64 without padding, never starting with '-'.
    while True:
        s = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not s.startswith("-"):
            return s


def state_file(d: Path) -> Path:
    return d / "cluster.json"


def load_state(d: Path) -> dict[str, Any]:
    try:
        state: dict[str, Any] = json.loads(state_file(d).read_text())
    except FileNotFoundError:
        die(f"no cluster in {d} (run start first)")
    return state


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # An exited broker stays a zombie until its parent reaps it; that parent may be us, or an init
    # that does not reap. Either way it is not running.
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def port_free(port: int) -> bool:
    with socket.socket() as s:
        # As the broker binds: connections of a stopped broker left in TIME-WAIT do not count.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def launch(libs: Path, d: Path, node: int) -> int:
    nd = node_dir(d, node)
    logs = nd / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    cmd = [java(), f"-Xmx{HEAP}", f"-Xms{HEAP}", *JVM_FLAGS,
           f"-Dkafka.logs.dir={logs}", f"-Dlog4j2.configurationFile={d / 'log4j2.xml'}",
           "-cp", f"{libs}/*", "kafka.Kafka", str(nd / "server.properties")]
    # A new session: a Ctrl-C in the terminal that started us does not reach the broker.
    with open(logs / "kafkaServer.out", "ab") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    (nd / "kafka.pid").write_text(f"{proc.pid}\n")
    return proc.pid


def format_node(libs: Path, d: Path, node: int, cid: str, secure: bool = False) -> None:
    nd = node_dir(d, node)
    cmd = [java(), "-Xmx256M", *JVM_FLAGS, f"-Dkafka.logs.dir={nd / 'logs'}",
           f"-Dlog4j2.configurationFile={d / 'log4j2.xml'}", "-cp", f"{libs}/*",
           "kafka.tools.StorageTool", "format", "-t", cid, "-c", str(nd / "server.properties")]
    if secure:
        cmd += ["--add-scram", f"SCRAM-SHA-512=[name={SCRAM_USER},password={SCRAM_PASSWORD}]"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        die(f"formatting node {node} failed:\n{r.stdout}{r.stderr}")


def wait_ready(d: Path, node: int, pid: int, port: int, deadline: float) -> None:
    log = node_dir(d, node) / "logs" / "server.log"
    while True:
        if not alive(pid):
            tail = (node_dir(d, node) / "logs" / "kafkaServer.out").read_text(errors="replace")[-3000:]
            die(f"node {node} (pid {pid}) exited during start-up:\n{tail}")
        try:
            started = READY_LINE in log.read_text(errors="replace")
        except FileNotFoundError:
            started = False
        if started and port_open(port):
            return
        if time.monotonic() > deadline:
            die(f"node {node} not ready after {READY_TIMEOUT_S:.0f} s (see {log})")
        time.sleep(0.25)


def start(d: Path, nodes: int, base: int, secure: bool = False) -> None:
    if state_file(d).exists():
        st = json.loads(state_file(d).read_text())
        if any(alive(n["pid"]) for n in st["nodes"]):
            die(f"a cluster from {d} is already running: {st['bootstrap']} (stop it first)")
    if secure and nodes != 1:
        die("--secure runs a single node")
    for n in range(1, nodes + 1):
        for p in (*ports(base, n), *(secure_ports(base) if secure else ())):
            if not port_free(p):
                die(f"port {p} on 127.0.0.1 is in use")
    # Before the jars: a missing tool is said before a Maven download, not after it.
    require_java()
    if secure:
        require_openssl()
    libs = fetch()
    t0 = time.monotonic()
    if d.exists():
        # A data dir from an earlier run belongs to another cluster id; start clean.
        state_file(d).unlink(missing_ok=True)
        subprocess.call(["rm", "-rf", *[str(node_dir(d, n)) for n in range(1, 10)]])
    d.mkdir(parents=True, exist_ok=True)
    (d / "log4j2.xml").write_text(LOG4J2_XML)
    cid = cluster_id()
    if secure:
        make_tls(d)
    for n in range(1, nodes + 1):
        node_dir(d, n).mkdir(parents=True, exist_ok=True)
        (node_dir(d, n) / "server.properties").write_text(
            server_properties(d, n, nodes, base, secure))
        format_node(libs, d, n, cid, secure)
    state: dict[str, Any] = {
        "version": KAFKA_VERSION, "cluster_id": cid, "base_port": base, "nodes": [],
        "bootstrap": ",".join(f"127.0.0.1:{ports(base, n)[0]}" for n in range(1, nodes + 1))}
    if secure:
        sasl, ssl = secure_ports(base)
        state["secure"] = {"sasl_bootstrap": f"127.0.0.1:{sasl}", "ssl_bootstrap": f"127.0.0.1:{ssl}",
                           "scram_user": SCRAM_USER, "scram_password": SCRAM_PASSWORD,
                           "ca": str(d / "tls" / "ca.pem"), "other_ca": str(d / "tls" / "other-ca.pem")}
    for n in range(1, nodes + 1):
        state["nodes"].append({"id": n, "pid": launch(libs, d, n), "port": ports(base, n)[0]})
    state_file(d).write_text(json.dumps(state, indent=1))
    deadline = time.monotonic() + READY_TIMEOUT_S
    for node in state["nodes"]:
        wait_ready(d, node["id"], node["pid"], node["port"], deadline)
    print(f"kafka-local: Kafka {KAFKA_VERSION}, {nodes} node(s) ready in {time.monotonic() - t0:.1f} s",
          file=sys.stderr)
    print(state["bootstrap"])


def stop_pid(pid: int) -> None:
    if not alive(pid):
        return
    os.kill(pid, signal.SIGCONT)  # a SIGSTOPped node cannot handle SIGTERM
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_S
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    if alive(pid):
        os.kill(pid, signal.SIGKILL)
        while alive(pid):
            time.sleep(0.1)


def stop(d: Path) -> None:
    if not state_file(d).exists():
        return
    st = load_state(d)
    # Stop all nodes at once: a node whose quorum peers are gone waits for them before it exits.
    for node in st["nodes"]:
        if alive(node["pid"]):
            os.kill(node["pid"], signal.SIGCONT)
            os.kill(node["pid"], signal.SIGTERM)
    for node in st["nodes"]:
        stop_pid(node["pid"])
    state_file(d).unlink(missing_ok=True)
    print(f"kafka-local: stopped {len(st['nodes'])} node(s)", file=sys.stderr)


def status(d: Path) -> int:
    if not state_file(d).exists():
        print("no cluster")
        return 1
    st = load_state(d)
    up = 0
    for node in st["nodes"]:
        ok = alive(node["pid"]) and port_open(node["port"])
        up += ok
        print(f"node {node['id']} pid {node['pid']} 127.0.0.1:{node['port']} {'up' if ok else 'down'}")
    return 0 if up == len(st["nodes"]) else 1


def signal_node(d: Path, node: int, sig: str) -> None:
    st = load_state(d)
    pid = st["nodes"][node - 1]["pid"]
    os.kill(pid, getattr(signal, "SIG" + sig.upper().removeprefix("SIG")))


def restart_node(d: Path, node: int) -> None:
    st = load_state(d)
    entry = st["nodes"][node - 1]
    if alive(entry["pid"]):
        die(f"node {node} is still running (pid {entry['pid']})")
    require_java()
    log = node_dir(d, node) / "logs" / "server.log"
    log.rename(log.with_suffix(f".log.{int(time.time())}"))
    entry["pid"] = launch(fetch(), d, node)
    state_file(d).write_text(json.dumps(st, indent=1))
    wait_ready(d, node, entry["pid"], entry["port"], time.monotonic() + READY_TIMEOUT_S)
    print(st["bootstrap"])
