"""SASL_PLAINTEXT (SCRAM-SHA-512) and SSL listeners of a real broker (scripts/kafka-local --secure,
certificates made by openssl): good credentials produce; a wrong password or an untrusted
certificate fails fast with the right error; secrets never show up in messages or logs."""

from __future__ import annotations

import json
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


@pytest.fixture(scope="module")
def secure_broker():
    state = Path(tempfile.mkdtemp(prefix="fastprod-kafka-secure-"))
    cmd = [sys.executable, str(KAFKA_LOCAL)]
    started = subprocess.run([*cmd, "start", "--secure", "--dir", str(state),
                              "--port", str(free_port_block(4))], capture_output=True, text=True)
    try:
        assert started.returncode == 0, started.stderr
        info = json.loads((state / "cluster.json").read_text())
        yield {"plain": info["bootstrap"], **info["secure"]}
    finally:
        subprocess.run([*cmd, "stop", "--dir", str(state)], capture_output=True, text=True)
        shutil.rmtree(state, ignore_errors=True)


def sasl(broker, password):
    return dict(bootstrap_servers=broker["sasl_bootstrap"], security_protocol="SASL_PLAINTEXT",
                sasl_mechanism="SCRAM-SHA-512", sasl_plain_username=broker["scram_user"],
                sasl_plain_password=password)


def ssl(broker, ca):
    return dict(bootstrap_servers=broker["ssl_bootstrap"], security_protocol="SSL",
                ssl_cafile=broker[ca])


@pytest.mark.parametrize("settings", [lambda b: sasl(b, b["scram_password"]),
                                      lambda b: ssl(b, "ca")], ids=["sasl-scram", "ssl"])
def test_good_credentials_produce(secure_broker, settings):
    topic = create_topic(secure_broker["plain"], unique_topic("sec"), 1)
    with fastprod.Producer(**settings(secure_broker)) as producer:
        futures = [producer.send(topic, b"%d" % i) for i in range(500)]
        producer.flush(60)
    assert all(f.succeeded() for f in futures)
    consumed = consume(secure_broker["plain"], topic, 1, 500)
    assert sorted(int(c.value) for c in consumed) == list(range(500))


WRONG_PASSWORD = "not-the-password-4711"


@pytest.mark.parametrize("settings, error, secret", [
    (lambda b: sasl(b, WRONG_PASSWORD), errors.AuthenticationError, WRONG_PASSWORD),
    (lambda b: ssl(b, "other_ca"), errors.SslError, None),
], ids=["wrong-password", "untrusted-certificate"])
def test_bad_credentials_fail_fast(secure_broker, capfd, caplog, settings, error, secret):
    producer = fastprod.Producer(**settings(secure_broker))
    try:
        t0 = time.monotonic()
        future = producer.send("sec-any", b"v")
        failure = future.exception(timeout=30)
        took = time.monotonic() - t0
        assert isinstance(failure, error), repr(failure)
        assert took < 10, took  # not delivery.timeout.ms (120 s)
        with pytest.raises(error) as refused:
            producer.send("sec-any", b"w")
        with pytest.raises(error):
            producer.flush(5)
        texts = [str(failure), repr(failure), str(refused.value), repr(producer), caplog.text,
                 *capfd.readouterr()]
    finally:
        producer.close(5)
    if secret is not None:
        assert not any(secret in text for text in texts)
    print(f"\n{error.__name__} after {took:.2f} s: {refused.value}")
