"""Runs fuzzed calls on a producer and checks each against the oracle at once (what it raised
or queued), and at the end what it queued (delivered to the partition, with the sizes, asked for).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hypothesis import note

from tests.support.fuzz.contract import BatchExpect, Expect, Sizes, expect_batch, expect_send
from tests.support.fuzz.producers import WARM_TOPICS, Target
from tests.support.fuzz.user_code import Shown, show


@dataclass(repr=False)
class Call(Shown):
    """One fuzzed call: on which producer, send() or send_batch(), and its arguments."""
    config: str  # which producer
    method: str  # "send" or "send_batch"
    args: tuple[Any, ...]
    kwargs: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        arguments = [show(a) for a in self.args] + [f"{k}={show(v)}" for k, v in self.kwargs.items()]
        return f"<{self.config}>.{self.method}({', '.join(arguments)})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


def names(errors: tuple[type[BaseException], ...]) -> str:
    return ", ".join(e.__name__ for e in errors) or "nothing (a valid call)"


class Checker:
    """Runs calls on one producer, checks each at once and what they queued at the end."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.producer = target.producer
        self.expected_sent = self.producer.stats()["sent"]
        self.nested_seen = target.nested_count()
        self.futures: list[tuple[Any, Sizes, Call]] = []
        self.batches: list[tuple[Any, list[Expect], Call]] = []

    def run(self, call: Call) -> None:
        note(repr(call))
        if self.producer.stats()["buffered_bytes"] > 4 << 20:
            self.flush()  # far from buffer.memory: a full buffer would time out, flakily
        sent_before = self.producer.stats()["sent"]
        if call.method == "send":
            self.send(call, sent_before)
        else:
            self.send_batch(call, sent_before)
        assert self.producer.stats()["sent"] == self.expected_sent, f"{call!r}: sent miscounted"

    def queued_since(self, sent_before: int) -> int:
        """Records the call queued, not counting those its serializers sent themselves."""
        nested = self.target.nested_count() - self.nested_seen
        self.nested_seen += nested
        self.expected_sent += nested
        return self.producer.stats()["sent"] - sent_before - nested

    def send(self, call: Call, sent_before: int) -> None:
        expect = expect_send(self.target, call.args, call.kwargs)
        try:
            future = self.producer.send(*call.args, **call.kwargs)
        except Exception as exc:
            return self.refused_whole(call, exc, self.queued_since(sent_before), expect.errors,
                                      "documented for its arguments")
        queued = self.queued_since(sent_before)
        assert expect.ok, f"{call!r} was accepted; documented: {names(expect.errors)}"
        assert queued == 1, f"{call!r} queued {queued} records"
        self.expected_sent += 1
        self.futures.append((future, expect.detail, call))

    def send_batch(self, call: Call, sent_before: int) -> None:
        expect = expect_batch(self.target, call.args, call.kwargs)
        try:
            result = self.producer.send_batch(*call.args, **call.kwargs)
        except Exception as exc:
            queued = self.queued_since(sent_before)
            batch = getattr(exc, "batch_result", None)
            if batch is None:  # refused for its topic or a column
                return self.refused_whole(call, exc, queued, expect.columns.errors,
                                          "before its first record; documented for its topic "
                                          "and columns")
            index = batch.sent
            assert queued == index, (f"{call!r} raised {type(exc).__name__} with "
                                     f"batch_result.sent {index}, but {queued} were queued")
            self.expected_sent += index
            assert index < len(expect.records), f"{call!r} raised after its last record"
            self.check_queued(call, expect, index)
            record = expect.records[index]
            assert isinstance(exc, record.errors), (
                f"{call!r} raised {type(exc).__name__}: {exc} at record {index}; documented for "
                f"that record: {names(record.errors)}")
            assert any(f"record {index} was not queued" in n for n in exc.__notes__), (
                f"{call!r}: the note does not name record {index}: {exc.__notes__}")
            self.batches.append((batch, expect.records, call))
            return self.still_usable(call)
        queued = self.queued_since(sent_before)
        self.expected_sent += len(expect.records)
        self.check_queued(call, expect, len(expect.records))
        assert result.sent == queued == len(expect.records), (
            f"{call!r}: {len(expect.records)} records, BatchResult.sent {result.sent}, "
            f"{queued} queued")
        self.batches.append((result, expect.records, call))

    def refused_whole(self, call: Call, exc: Exception, queued: int,
                      allowed: tuple[type[BaseException], ...], documented: str) -> None:
        """A call that raised without queueing anything: one of the allowed errors."""
        assert isinstance(exc, allowed), (
            f"{call!r} raised {type(exc).__name__}: {exc}; {documented}: {names(allowed)}")
        assert queued == 0, f"{call!r} raised {type(exc).__name__} but queued {queued}"
        self.still_usable(call)

    def check_queued(self, call: Call, expect: BatchExpect, queued: int) -> None:
        if queued:
            assert expect.columns.ok, (f"{call!r} queued records; documented for its topic and "
                                       f"columns: {names(expect.columns.errors)}")
        for i, record in enumerate(expect.records[:queued]):
            assert record.ok, f"{call!r} queued record {i}; documented: {names(record.errors)}"
        if queued == len(expect.records):
            assert expect.columns.ok, (f"{call!r} was accepted; documented for its topic and "
                                       f"columns: {names(expect.columns.errors)}")

    def still_usable(self, call: Call) -> None:
        future = self.producer.send(WARM_TOPICS[0], None)  # a null record suits any serializer
        self.expected_sent += 1
        self.futures.append((future, Sizes(None, -1, -1, True), Call(
            self.target.name, "send", (WARM_TOPICS[0], None), {"after": call})))

    def flush(self) -> None:
        self.producer.flush(60)
        stats = self.producer.stats()
        assert stats["delivered"] + stats["failed"] == stats["sent"], f"after flush(): {stats}"

    def finish(self) -> None:
        """Everything queued was delivered, to the partition and with the sizes asked for."""
        self.flush()
        for future, sizes, call in self.futures:
            assert future.done(), f"{call!r}: its future is not done after flush()"
            if not sizes.deliverable:
                continue
            assert future.exception(0) is None, f"{call!r}: delivery failed: {future.exception(0)!r}"
            metadata = future.get(0)
            if sizes.partition is not None:
                assert metadata.partition == sizes.partition, (
                    f"{call!r} went to partition {metadata.partition}")
            assert (metadata.serialized_key_size, metadata.serialized_value_size) == (
                sizes.key, sizes.value), (
                f"{call!r} queued a {metadata.serialized_key_size}-byte key and a "
                f"{metadata.serialized_value_size}-byte value; expected {sizes.key} and "
                f"{sizes.value}")
        for batch, records, call in self.batches:
            assert batch.done(), f"{call!r}: its batch is not done after flush()"
            failed = [(i, e) for i, e in batch.failures if records[i].detail.deliverable]
            assert not failed, f"{call!r}: deliveries failed: {failed}"
        for serializer in self.target.serializers:
            assert all(f.done() for f in serializer.nested)
