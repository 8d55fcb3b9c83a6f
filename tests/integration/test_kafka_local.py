"""scripts/kafka-local: a 3-node KRaft cluster that tests can kill nodes of."""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from confluent_kafka.admin import AdminClient

import fastprod
from tests.integration.conftest import KAFKA_LOCAL, free_port_block
from tests.kafka_helpers import consume, create_topic, unique_topic


def _pids(state: Path) -> list[int]:
    import json
    return [n["pid"] for n in json.loads((state / "cluster.json").read_text())["nodes"]]


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.fixture
def three_nodes():
    state = Path(tempfile.mkdtemp(prefix="fastprod-kafka3-"))
    cmd = [sys.executable, str(KAFKA_LOCAL)]
    started = subprocess.run([*cmd, "start", "--nodes", "3", "--dir", str(state),
                              "--port", str(free_port_block(6))], capture_output=True, text=True)
    try:
        assert started.returncode == 0, started.stderr
        yield cmd, state, started.stdout.strip().splitlines()[-1]
    finally:
        pids = _pids(state) if (state / "cluster.json").exists() else []
        subprocess.run([*cmd, "stop", "--dir", str(state)], capture_output=True, text=True)
        assert not any(_alive(p) for p in pids), "a node outlived stop"
        shutil.rmtree(state, ignore_errors=True)


def test_three_node_cluster_survives_a_killed_node(three_nodes):
    cmd, state, bootstrap = three_nodes
    assert len(bootstrap.split(",")) == 3
    brokers = AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=30).brokers
    assert len(brokers) == 3
    topic = create_topic(bootstrap, unique_topic("rf3"), 3, replication=3,
                         config={"min.insync.replicas": "2"})

    killed = subprocess.run([*cmd, "signal", "2", "KILL", "--dir", str(state)])
    assert killed.returncode == 0
    status = subprocess.run([*cmd, "status", "--dir", str(state)], capture_output=True, text=True)
    assert status.returncode == 1 and "node 2" in status.stdout and "down" in status.stdout

    # acks=all with min.insync.replicas=2 still succeeds with one node of three down
    with fastprod.Producer(bootstrap) as producer:
        futures = [producer.send(topic, b"%d" % i, key=b"%d" % i) for i in range(300)]
        producer.flush(120)
    assert all(f.succeeded() for f in futures)

    restarted = subprocess.run([*cmd, "restart-node", "2", "--dir", str(state)],
                               capture_output=True, text=True)
    assert restarted.returncode == 0, restarted.stderr
    status = subprocess.run([*cmd, "status", "--dir", str(state)], capture_output=True, text=True)
    assert status.returncode == 0, status.stdout
    assert sorted(int(c.value) for c in consume(bootstrap, topic, 3, 300)) == list(range(300))
