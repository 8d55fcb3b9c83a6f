"""The local Kafka launcher (fastprod/kafka_local, run by scripts/kafka-local): a 3-node KRaft
cluster that tests can kill nodes of; it runs without fastprod's compiled core; a missing or old
Java or a missing Maven is said plainly."""

import os
import subprocess
import sys

import pytest
from confluent_kafka.admin import AdminClient

import fastprod
from tests.integration.conftest import KAFKA_LOCAL, free_port_block
from tests.support.topics import consume, create_topic, unique_topic


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


def test_script_runs_the_launcher_without_importing_fastprod(tmp_path):
    """scripts/kafka-local must work before fastprod._core is built: it loads fastprod/kafka_local
    by path and nothing of fastprod itself."""
    probe = ("import runpy, sys\n"
             f"sys.argv = ['kafka-local', 'status', '--dir', {str(tmp_path)!r}]\n"
             "try:\n"
             f"    runpy.run_path({str(KAFKA_LOCAL)!r}, run_name='__main__')\n"
             "except SystemExit as exc:\n"
             "    print('exit', exc.code)\n"
             "print(sorted(m for m in sys.modules if m.split('.')[0] == 'fastprod'))\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=60)
    assert done.stdout.splitlines() == ["no cluster", "exit 1", "[]"], done.stderr


def launcher(*args, env, cwd=None):
    """The launcher as the checkout's script and as `fastprod kafka`, with env as the whole
    environment."""
    return [subprocess.run([*command, *args], capture_output=True, text=True, timeout=120, env=env,
                           cwd=cwd)
            for command in ([sys.executable, str(KAFKA_LOCAL)],
                            [sys.executable, "-m", "fastprod", "kafka"])]


def plain_env(tmp_path, **extra):
    env = {k: v for k, v in os.environ.items() if k not in ("JAVA_HOME", "FASTPROD_CACHE")}
    return {**env, "FASTPROD_CACHE": str(tmp_path / "cache"), **extra}


def fake_java(tmp_path, version_line):
    """A JAVA_HOME whose java only answers -version, as an old JDK would."""
    java = tmp_path / "jdk" / "bin" / "java"
    java.parent.mkdir(parents=True)
    java.write_text(f"#!/bin/sh\necho '{version_line}' >&2\n")
    java.chmod(0o755)
    return str(tmp_path / "jdk")


@pytest.mark.parametrize("case", ["no java", "java 11", "java 8"])
def test_start_without_java_17_says_what_is_missing(tmp_path, case):
    port = str(free_port_block())
    if case == "no java":
        env = plain_env(tmp_path, PATH=str(tmp_path / "empty"))
        expected = "no java found (looked in PATH)"
    else:
        version = {"java 11": 'openjdk version "11.0.22" 2024-01-16',
                   "java 8": 'java version "1.8.0_392"'}[case]
        env = plain_env(tmp_path, JAVA_HOME=fake_java(tmp_path, version))
        expected = f"is Java {case.split()[1]}; Kafka"
    for done in launcher("start", "--dir", str(tmp_path / "state"), "--port", port, env=env):
        assert done.returncode == 1, done.stderr
        assert expected in done.stderr and "Java 17+ runtime" in done.stderr, done.stderr
        assert "Traceback" not in done.stderr and done.stdout == ""
    assert not (tmp_path / "state" / "cluster.json").exists()


def test_fetch_without_maven_says_what_is_missing(tmp_path):
    env = plain_env(tmp_path, PATH=str(tmp_path / "empty"))
    for done in launcher("fetch", env=env):
        assert done.returncode == 1, done.stderr
        assert "no mvn on PATH" in done.stderr and "install Maven" in done.stderr, done.stderr
        assert "Traceback" not in done.stderr
