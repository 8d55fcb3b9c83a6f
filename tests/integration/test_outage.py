"""A broker outage longer than delivery.timeout.ms: every pending record fails with a timeout, no
future hangs, the counts add up, and sending resumes when the broker is back."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

import fastprod
from fastprod import errors
from tests.integration.conftest import KAFKA_LOCAL, free_port_block
from tests.support.topics import consume, create_topic, unique_topic


@pytest.fixture
def lone_node():
    state = Path(tempfile.mkdtemp(prefix="fastprod-kafka1-"))
    cmd = [sys.executable, str(KAFKA_LOCAL)]
    started = subprocess.run([*cmd, "start", "--dir", str(state), "--port", str(free_port_block())],
                             capture_output=True, text=True)
    try:
        assert started.returncode == 0, started.stderr
        yield cmd, state, started.stdout.strip().splitlines()[-1]
    finally:
        subprocess.run([*cmd, "stop", "--dir", str(state)], capture_output=True, text=True)
        shutil.rmtree(state, ignore_errors=True)


def test_outage_longer_than_delivery_timeout(lone_node):
    cmd, state, bootstrap = lone_node
    topic = create_topic(bootstrap, unique_topic("outage"), 2)
    with fastprod.Producer(bootstrap, delivery_timeout_ms=6000, request_timeout_ms=3000,
                           config={"log_level": 0}) as producer:
        before = [producer.send(topic, b"before-%d" % i) for i in range(1000)]
        producer.flush(60)
        subprocess.run([*cmd, "signal", "1", "KILL", "--dir", str(state)], check=True)
        during = [producer.send(topic, b"during-%d" % i) for i in range(1000)]
        t0 = time.monotonic()
        with pytest.raises(errors.KafkaTimeoutError):
            producer.flush(1)  # still pending: the outage has just begun
        producer.flush(60)  # every record resolves by delivery.timeout.ms (+ slack), none hangs
        resolved_after = time.monotonic() - t0
        assert all(f.succeeded() for f in before)
        failures = [f.exception(0) for f in during]
        assert all(isinstance(e, errors.MsgTimedOutError) and "timed out" in str(e).lower()
                   for e in failures), {type(e).__name__ for e in failures}
        stats = producer.stats()
        assert stats["delivered"] + stats["failed"] == stats["sent"] == 2000
        assert stats["failed"] == 1000 and stats["buffered_bytes"] == 0

        restarted = subprocess.run([*cmd, "restart-node", "1", "--dir", str(state)],
                                   capture_output=True, text=True)
        assert restarted.returncode == 0, restarted.stderr
        after = [producer.send(topic, b"after-%d" % i) for i in range(1000)]
        producer.flush(120)
        assert all(f.succeeded() for f in after), {type(f.exception(0)) for f in after}
    print(f"\noutage: 1000 pending records failed {resolved_after:.1f} s after the kill "
          "(delivery.timeout.ms 6000); sending resumed after restart")
    values = {c.value for c in consume(bootstrap, topic, 2, 2000)}
    assert values == {b"before-%d" % i for i in range(1000)} | {b"after-%d" % i for i in range(1000)}


EXIT_SCRIPT = """
import sys, fastprod
producer = fastprod.Producer(sys.argv[1])
for i in range(20000):
    producer.send(sys.argv[2], b"%d" % i)
# no flush, no close: interpreter exit must deliver them
"""


def test_interpreter_exit_delivers_pending_records(bootstrap):
    topic = create_topic(bootstrap, unique_topic("exit"), 2)
    t0 = time.monotonic()
    done = subprocess.run([sys.executable, "-c", EXIT_SCRIPT, bootstrap, topic],
                          capture_output=True, text=True, timeout=120)
    took = time.monotonic() - t0
    assert done.returncode == 0, done.stderr
    assert took < 30 + 10  # fastprod.producer.EXIT_CLOSE_TIMEOUT_S plus start-up
    values = sorted(int(c.value) for c in consume(bootstrap, topic, 2, 20000))
    assert values == list(range(20000))


def test_unknown_topic_with_auto_create_off_fails_the_record(bootstrap):
    with fastprod.Producer(bootstrap, config={"allow.auto.create.topics": False,
                                              "topic.metadata.propagation.max.ms": 2000,
                                              "log_level": 0}) as producer:
        future = producer.send(unique_topic("never-created"), b"v")
        assert isinstance(future.exception(30), errors.UnknownTopicOrPartitionError)
        # the producer is still fine for topics that exist
        topic = create_topic(bootstrap, unique_topic("exists"), 1)
        assert producer.send(topic, b"v").get(30).offset == 0
