"""throttle_cb (issue 15): a broker quota on the producer's client.id throttles it, and the
producer hears of it through throttle_cb as confluent-kafka's users do."""

from __future__ import annotations

import subprocess

import fastprod
from fastprod.kafka_local import runtime
from tests.support.topics import create_topic, unique_topic


def set_producer_quota(bootstrap: str, client_id: str, bytes_per_second: int) -> None:
    """A client quota, with the ConfigCommand of the broker's own jars."""
    done = subprocess.run(
        [runtime.java(), "-cp", f"{runtime.libs_dir()}/*", "kafka.admin.ConfigCommand",
         "--bootstrap-server", bootstrap, "--alter", "--entity-type", "clients",
         "--entity-name", client_id, "--add-config", f"producer_byte_rate={bytes_per_second}"],
        capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_a_quota_reaches_throttle_cb(bootstrap):
    topic = create_topic(bootstrap, unique_topic("throttle"), 1)
    client_id = unique_topic("throttled")
    set_producer_quota(bootstrap, client_id, 10_000)
    events: list[fastprod.ThrottleEvent] = []
    with fastprod.Producer(bootstrap, client_id=client_id, throttle_cb=events.append,
                           linger_ms=50) as producer:
        for _ in range(200):  # 200 KB against 10 KB/s: the broker throttles
            producer.send_and_forget(topic, b"x" * 1000)
        producer.flush(120)
        assert producer.stats()["delivered"] == 200
    assert events, "no throttle event"
    event = events[0]
    assert isinstance(event, fastprod.ThrottleEvent)
    assert event.throttle_time > 0 and event.broker_id == 1
    assert event.broker_name == bootstrap  # librdkafka names the broker host:port
