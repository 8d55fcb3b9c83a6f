"""The launcher's command line, shared by `fastprod kafka ...` and scripts/kafka-local."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from . import cluster
from .runtime import CACHE, die, fetch

DEFAULT_DIR = CACHE / "kafka-local" / "default"

USAGE = """Run a real Apache Kafka 4.x (KRaft) broker or cluster on 127.0.0.1 from Maven Central jars.

    fetch                                  resolve the jars (cached, reused)
    start [--nodes N] [--port P] [--dir D] format + start, wait until ready, print bootstrap
    stop [--dir D]                         SIGTERM each node by its recorded PID, SIGKILL after 30 s
    status [--dir D]                       one line per node: id, pid, port, up/down
    signal NODE SIG [--dir D]              send SIG (KILL, TERM, STOP, CONT) to one node
    restart-node NODE [--dir D]            start a node again after it was killed or stopped

Needs Java 17+ (JAVA_HOME or PATH), and Maven once to fetch the jars; only Python's standard
library otherwise.

Environment:
    FASTPROD_KAFKA_VERSION   Kafka version (default 4.1.1)
    FASTPROD_CACHE           cache root for jars (default ~/.cache/fastprod)
    FASTPROD_KAFKA_HEAP      broker heap (default 1G)

Node n (1-based) listens for clients on P + 2(n-1) and for its controller on P + 2(n-1) + 1.
"""


def add_arguments(ap: argparse.ArgumentParser) -> None:
    """The launcher's arguments, on its own parser or on `fastprod kafka`'s."""
    ap.add_argument("command", choices=["fetch", "start", "stop", "status", "signal", "restart-node"])
    ap.add_argument("args", nargs="*")
    ap.add_argument("--nodes", type=int, default=1)
    ap.add_argument("--port", type=int, default=9092, help="client port of node 1")
    ap.add_argument("--dir", type=Path, default=DEFAULT_DIR, help="state and data directory")
    ap.add_argument("--secure", action="store_true",
                    help="single node: add SASL_PLAINTEXT (SCRAM-SHA-512) on port+2 and SSL on "
                         "port+3 (certificates made with openssl; details in DIR/cluster.json)")


def run(a: argparse.Namespace) -> int:
    """Carries out the parsed command; the exit status (failures exit 1 with a message)."""
    d = a.dir.resolve()
    if a.command == "fetch":
        print(fetch())
    elif a.command == "start":
        if a.nodes < 1:
            die("--nodes must be >= 1")
        cluster.start(d, a.nodes, a.port, a.secure)
    elif a.command == "stop":
        cluster.stop(d)
    elif a.command == "status":
        return cluster.status(d)
    elif a.command == "signal":
        if len(a.args) != 2:
            die("usage: kafka-local signal NODE SIG")
        cluster.signal_node(d, int(a.args[0]), a.args[1])
    elif a.command == "restart-node":
        if len(a.args) != 1:
            die("usage: kafka-local restart-node NODE")
        cluster.restart_node(d, int(a.args[0]))
    return 0


def main(argv: Sequence[str] | None = None, prog: str = "kafka-local") -> int:
    ap = argparse.ArgumentParser(prog=prog, description=USAGE,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(ap)
    return run(ap.parse_args(argv))
