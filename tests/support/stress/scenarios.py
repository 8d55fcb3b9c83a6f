"""The stress scenarios, each run in a child interpreter by tests/integration/test_stress.py
(`python -m tests.support.stress.scenarios SCENARIO '{"bootstrap": ..., "topic": ..., ...}'`),
which prints its report (tests/support/stress/report.py) as JSON: a build with the bugs of issue
12 crashes (segfault) when close() runs while another thread is inside send(), and that must
fail the test, not the session."""

from __future__ import annotations

import contextlib
import itertools
import json
import sys
import time
from collections.abc import Iterator
from typing import Any

import msgspec

import fastprod
from tests.support.stress.records import (CODECS, PARTITIONS, Codec, CrcPartitioner, crc,
                                          partition_poisoned, value_poisoned)
from tests.support.stress.report import judge
from tests.support.stress.senders import BufferWatch, Ledger, send_keys, start_threads, thread_keys
from tests.support.topics import create_topic

THREADS = 8
# The original reproducer's: a few hundred records fill it, so send() waits for space all the time.
BUFFER_MEMORY = 262_144


@contextlib.contextmanager
def producer_for(bootstrap: str, topic: str, codec: Codec,
                 **settings: Any) -> Iterator[fastprod.Producer]:
    """Creates the topic and a producer for codec, closed on the way out."""
    create_topic(bootstrap, topic, PARTITIONS)
    settings = {**codec.settings(), **settings}
    if codec.python_partitioner:
        settings.setdefault("partitioner", CrcPartitioner())
    producer = fastprod.Producer(bootstrap, buffer_memory=BUFFER_MEMORY, **settings)
    try:
        yield producer
    finally:
        producer.close()


# ---- scenarios (run in a child interpreter; each returns its report) --------------------------

def stress(bootstrap: str, topic: str, codec: str, records: int,
           poison: bool = False) -> dict[str, Any]:
    """THREADS threads send `records` in all through one producer (send() and send_batch()
    alternately), each record checked against its key when read back. With poison, one value in
    50 is Unencodable (SerializationError) and CrcPartitioner raises LookupError for one key in
    50: exactly those records are refused, and the producer goes on with the others."""
    c = CODECS[codec]
    per_thread = -(-records // THREADS)
    partitioner = {"partitioner": CrcPartitioner(poison)} if c.python_partitioner else {}
    ledger = Ledger()
    with producer_for(bootstrap, topic, c, **partitioner) as producer:
        watch = BufferWatch(producer)
        started = time.monotonic()
        senders = start_threads([
            lambda t=t: send_keys(producer, topic, c, thread_keys(t, per_thread), ledger,
                                  poison=poison)
            for t in range(THREADS)])
        for sender in senders:
            sender.join()
        peak = watch.stop()
        producer.close()
        sending = time.monotonic() - started
    expected: dict[str, str] = {}
    for key in itertools.chain.from_iterable(thread_keys(t, per_thread) for t in range(THREADS)):
        if poison and value_poisoned(key):
            expected[key] = "SerializationError"
        elif poison and c.python_partitioner and partition_poisoned(c.key_bytes(key)):
            expected[key] = "LookupError"  # the value serializer runs first
    report = judge(bootstrap, topic, c, ledger, expected)
    report.update(records=per_thread * THREADS, buffer_peak=peak, send_seconds=round(sending, 1),
                  judge_seconds=round(time.monotonic() - started - sending, 1))
    return report


def close_mid_run(bootstrap: str, topic: str, codec: str, close_after: int,
                  timeout: float | None) -> dict[str, Any]:
    """THREADS threads send until a close(timeout) from the main thread, called once
    `close_after` records were accepted, stops them: each must get ProducerClosedError, and every
    record accepted before must be resolved when close() returns."""
    c = CODECS[codec]
    ledger = Ledger()
    report: dict[str, Any] = {"close_raised": None}
    with producer_for(bootstrap, topic, c) as producer:
        senders = start_threads([
            lambda t=t: send_keys(producer, topic, c, thread_keys(t, close_after), ledger)
            for t in range(THREADS)])
        while producer.stats()["sent"] < close_after and any(s.is_alive() for s in senders):
            time.sleep(0.001)
        try:
            producer.close(timeout)
        except Exception as exc:  # noqa: BLE001 - reported
            report["close_raised"] = repr(exc)
        report["unresolved_at_close"] = ledger.unresolved()
        for sender in senders:
            sender.join()
    report.update(judge(bootstrap, topic, c, ledger))
    return report


def close_inside(bootstrap: str, topic: str, where: str, api: str) -> dict[str, Any]:
    """A serializer or a partitioner that closes its own producer in the middle of send() or
    send_batch() (record 50 of 100): that call raises ProducerClosedError, the 50 records before
    it are delivered."""
    c = CODECS["callable"]
    trigger = "t0-50"
    producers: list[fastprod.Producer] = []

    def closing_serializer(obj: Any) -> bytes:
        if obj["key"] == trigger:
            producers[0].close()
        return msgspec.json.encode(obj)

    def closing_partitioner(key: bytes, all_partitions: tuple[int, ...], available: Any) -> int:
        if key == trigger.encode():
            producers[0].close()
        return crc(key) % len(all_partitions)

    hook = ({"value_serializer": closing_serializer} if where == "serializer"
            else {"partitioner": closing_partitioner})
    ledger = Ledger()
    with producer_for(bootstrap, topic, c, **hook) as producer:
        producers.append(producer)
        send_keys(producer, topic, c, thread_keys(0, 100), ledger, mode=api)
        try:
            producer.send(topic, c.value("t0-100"), key="t0-100")
            report: dict[str, Any] = {"send_after_close": None}
        except Exception as exc:  # noqa: BLE001 - reported
            report = {"send_after_close": type(exc).__name__}
    report.update(judge(bootstrap, topic, c, ledger, {trigger: "ProducerClosedError"}))
    return report


def mutation(bootstrap: str, topic: str, variant: str) -> dict[str, Any]:
    """send_batch() of 100 records whose serializer or partitioner mutates what it is given:
    "serializer-clears" and "partitioner-clears" empty every column send_batch() is iterating
    over at record 50; "serializer-pops" empties the dict it encodes, whose key send_batch()
    took with key_field. No crash, a clear error if any, and every record sent is consistent."""
    c = CODECS["callable"]
    keys = list(thread_keys(0, 100))
    values = [c.value(k) for k in keys]
    columns = [values, list(keys), [[("n", k.encode())] for k in keys], [None] * len(keys)]

    def clear_columns() -> None:
        for column in columns:
            column.clear()

    def clearing_serializer(obj: Any) -> bytes:
        if obj["key"] == "t0-50":
            clear_columns()
        return msgspec.json.encode(obj)

    def clearing_partitioner(key: bytes, all_partitions: tuple[int, ...], available: Any) -> int:
        if key == b"t0-50":
            clear_columns()
        return crc(key) % len(all_partitions)

    def popping_serializer(obj: Any) -> bytes:
        data = msgspec.json.encode(obj)
        obj.pop("key"), obj.pop("pad")
        return data

    hook = {"serializer-clears": {"value_serializer": clearing_serializer},
            "partitioner-clears": {"partitioner": clearing_partitioner},
            "serializer-pops": {"value_serializer": popping_serializer}}[variant]
    ledger = Ledger()
    report: dict[str, Any] = {"raised": None, "message": None, "queued": None}
    with producer_for(bootstrap, topic, c, **hook) as producer:
        try:
            if variant == "serializer-pops":
                result = producer.send_batch(topic, values, key_field="key")
            else:
                result = producer.send_batch(topic, columns[0], keys=columns[1],
                                             headers=columns[2], timestamps_ms=columns[3])
        except Exception as exc:  # noqa: BLE001 - reported
            report["raised"], report["message"] = type(exc).__name__, str(exc)[:300]
            result = getattr(exc, "batch_result", None)
        if result is not None:
            report["queued"] = result.sent
            ledger.batches.append((keys[:result.sent], result))
    report.update(judge(bootstrap, topic, c, ledger))
    return report


SCENARIOS = {f.__name__: f for f in (stress, close_mid_run, close_inside, mutation)}


if __name__ == "__main__":
    # A thread switch every 10 us instead of every 5 ms: a race in Python code (a serializer's
    # shared state) shows within thousands of records instead of millions.
    sys.setswitchinterval(1e-5)
    name, args = sys.argv[1], json.loads(sys.argv[2])
    print(json.dumps(SCENARIOS[name](**args), default=str))
