"""The stress scenarios' sending side: threads that send keys through one producer, by send(),
send_batch() or alternately, into a Ledger of what each call returned or raised; and a watch on
the bytes held against buffer.memory."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import fastprod
from fastprod.errors import ProducerClosedError
from tests.support.stress.records import Codec, Unencodable, value_poisoned

CHUNK = 100  # records per run of send() calls or per send_batch(); a thread alternates the two


@dataclass
class Ledger:
    """What send()/send_batch() returned or raised, for every thread of a scenario."""
    futures: list[tuple[str, fastprod.DeliveryFuture]] = field(default_factory=list)
    batches: list[tuple[list[str], fastprod.BatchResult]] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)  # key -> type of what send() raised
    messages: dict[str, str] = field(default_factory=dict)  # one message per exception type

    def refuse(self, key: str, exc: BaseException) -> None:
        name = type(exc).__name__
        self.refused[key] = name
        self.messages.setdefault(name, str(exc)[:300])

    def unresolved(self) -> int:
        return (sum(not f.done() for _, f in list(self.futures))
                + sum(r.pending for _, r in list(self.batches)))


def thread_keys(thread: int, count: int) -> Iterator[str]:
    return (f"t{thread}-{seq}" for seq in range(count))


def chunks(keys: Iterable[str]) -> Iterator[list[str]]:
    it = iter(keys)
    while chunk := list(itertools.islice(it, CHUNK)):
        yield chunk


def send_keys(producer: fastprod.Producer, topic: str, codec: Codec, keys: Iterable[str],
            ledger: Ledger, mode: str = "mixed", poison: bool = False) -> None:
    """Sends keys in chunks, by send() ("send"), send_batch() ("send_batch"), or alternately.
    A refused record is noted and skipped; ProducerClosedError ends the thread."""
    def value(key: str) -> Any:
        return Unencodable() if poison and value_poisoned(key) else codec.value(key)

    for n, chunk in enumerate(chunks(keys)):
        batch = mode == "send_batch" or (mode == "mixed" and n % 2 == 1)
        try:
            if batch:
                send_in_batches(producer, topic, codec, chunk, value, ledger)
            else:
                send_each(producer, topic, codec, chunk, value, ledger)
        except ProducerClosedError:
            return


def send_each(producer: fastprod.Producer, topic: str, codec: Codec, keys: list[str],
               value: Callable[[str], Any], ledger: Ledger) -> None:
    for key in keys:
        try:
            ledger.futures.append((key, producer.send(topic, value(key), key=codec.key(key))))
        except Exception as exc:  # noqa: BLE001 - counted by type; the report judges it
            ledger.refuse(key, exc)
            if isinstance(exc, ProducerClosedError):
                raise


def send_in_batches(producer: fastprod.Producer, topic: str, codec: Codec, keys: list[str],
                value: Callable[[str], Any], ledger: Ledger) -> None:
    while keys:
        try:
            result = producer.send_batch(topic, [value(k) for k in keys],
                                         keys=[codec.key(k) for k in keys])
        except Exception as exc:  # noqa: BLE001 - counted by type; the report judges it
            result = getattr(exc, "batch_result", None)
            queued = 0 if result is None else result.sent
            ledger.refuse(keys[queued], exc)
            if result is not None:
                ledger.batches.append((keys[:queued], result))
            if isinstance(exc, ProducerClosedError):
                raise
            keys = keys[queued + 1:]  # the batch stopped at the refused record: go on after it
        else:
            ledger.batches.append((keys[:result.sent], result))
            return


def start_threads(targets: list[Callable[[], None]]) -> list[threading.Thread]:
    threads = [threading.Thread(target=t, name=f"sender-{i}") for i, t in enumerate(targets)]
    for t in threads:
        t.start()
    return threads


class BufferWatch:
    """Samples the bytes held against buffer.memory every millisecond, keeping the peak."""

    def __init__(self, producer: fastprod.Producer) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(producer,), name="buffer-watch")
        self._thread.start()

    def _run(self, producer: fastprod.Producer) -> None:
        while not self._stop.wait(0.001):
            self.peak = max(self.peak, producer.stats()["buffered_bytes"])

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak
