"""A stress scenario's report: what the calls and futures said, and the topic read back, each
record checked against its key. The counts:

  refused         exceptions raised by send()/send_batch(), by type
  failed          futures (and send_batch records) that failed, by error type
  unresolved      futures (and send_batch records) still pending at the end
  wrong_refusals  records refused that should not have been, or accepted that should not
  mismatched      consumed values that are not their key's
  missing         acknowledged, not in the log
  duplicated      extra copies of a key in the log
  unexpected      a key in the log that send() never accepted (or that does not decode)
  misplaced       not in the partition the partitioner chose for the key
  phantom         failed, yet in the log (except librdkafka's "purged in flight": it cannot know)
  wrong_metadata  a send() future whose RecordMetadata names another record's offset
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from tests.support.stress.records import PARTITIONS, Codec
from tests.support.stress.senders import Ledger
from tests.support.topics import consume

LOG_FAULTS = ("mismatched", "missing", "duplicated", "unexpected", "misplaced", "phantom",
              "wrong_metadata")


# ("acked", (partition, offset) from the future, None in a batch), ("failed", error type) or
# ("pending", None)
Outcome = tuple[str, Any]


def outcomes_of(ledger: Ledger) -> dict[str, Outcome]:
    """Each key's outcome; the records of a send_batch() not resolved yet are all "pending" (a
    BatchResult names its failures by index, not its deliveries)."""
    out: dict[str, Outcome] = {}
    for key, future in ledger.futures:
        if not future.done():
            out[key] = ("pending", None)
        elif future.failed():
            out[key] = ("failed", type(future.exception()).__name__)
        else:
            md = future.get()
            out[key] = ("acked", (md.partition, md.offset))
    for keys, result in ledger.batches:
        failures = dict(result.failures)
        for i, key in enumerate(keys):
            if i in failures:
                out[key] = ("failed", type(failures[i]).__name__)
            else:
                out[key] = ("acked", None) if result.done() else ("pending", None)
    return out


def judge(bootstrap: str, topic: str, codec: Codec, ledger: Ledger,
           expected_refusals: dict[str, str] | None = None) -> dict[str, Any]:
    """The report of a scenario, once its producer is closed: what the calls and futures said,
    and the log read back. expected_refusals: key -> the exception type send() must raise for it
    (wrong_refusals counts the keys where it did not)."""
    outcomes = outcomes_of(ledger)
    acked = sum(state == "acked" for state, _ in outcomes.values())
    report: dict[str, Any] = {
        "sent": len(outcomes), "acked": acked,
        "failed": dict(Counter(d for state, d in outcomes.values() if state == "failed")),
        "unresolved": ledger.unresolved(),
        "refused": dict(Counter(ledger.refused.values())),
        "refusal_messages": ledger.messages,
        "wrong_refusals": None if expected_refusals is None else sum(
            ledger.refused.get(k) != expected_refusals.get(k)
            for k in set(ledger.refused) | set(expected_refusals)),
    }
    faults: Counter[str] = Counter()
    examples: dict[str, list[str]] = {}

    def fault(kind: str, example: str) -> None:
        faults[kind] += 1
        if len(examples.setdefault(kind, [])) < 3:
            examples[kind].append(example[:300])

    records = consume(bootstrap, topic, PARTITIONS, acked, timeout_s=60 + acked / 5000)
    copies: Counter[str] = Counter()
    for r in records:
        try:
            key = codec.key_text(r.key)
        except Exception:  # noqa: BLE001 - an undecodable key is a record nobody sent
            key = None
        if key not in outcomes:
            fault("unexpected", f"key {r.key!r} at {r.partition}/{r.offset}")
            continue
        copies[key] += 1
        if copies[key] == 2:
            fault("duplicated", key)
        try:
            value = codec.read(r)
        except Exception as exc:  # noqa: BLE001 - a value that does not decode is a wrong one
            value = f"undecodable: {exc}"
        if value != codec.expect(key):
            fault("mismatched", f"{key}: {r.value[:120]!r}")
        if r.partition != codec.expected_partition(r.key):
            fault("misplaced", f"{key} in partition {r.partition}")
        state, detail = outcomes[key]
        if state == "failed" and detail != "PurgeInflightError":
            fault("phantom", f"{key} failed with {detail}")
        if state == "acked" and detail not in (None, (r.partition, r.offset)):
            fault("wrong_metadata", f"{key} at {r.partition}/{r.offset}, future says {detail}")
    for key, (state, _) in outcomes.items():
        if state == "acked" and not copies[key]:
            fault("missing", key)
    report["consumed"] = len(records)
    report.update({kind: faults[kind] for kind in LOG_FAULTS})
    report["examples"] = examples
    return report
