"""What a fault test saw: every record sent, its future's outcome, and the topic read back.

Each sent record carries a unique id; ids of one key are sent in increasing order. From that the
verifier counts, against the log:
  lost        acknowledged, but not in the log
  duplicates  extra copies of an id in the log
  reorders    places where a key's ids in one partition go backwards (send order broken)
  phantoms    reported failed, yet in the log
  orphans     futures that never resolved
"""

from __future__ import annotations

import collections
from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Sent:
    id: int
    key: bytes | None
    outcome: str  # "acked", "failed" or "pending"


@dataclass(frozen=True)
class Logged:
    id: int
    key: bytes | None
    partition: int
    offset: int


@dataclass
class Verdict:
    sent: int = 0
    acked: int = 0
    failed: int = 0
    in_log: int = 0
    lost: int = 0
    duplicates: int = 0
    reorders: int = 0
    phantoms: int = 0
    orphans: int = 0
    examples: dict[str, list[int]] = field(default_factory=dict)

    def clean(self) -> bool:
        return not (self.lost or self.duplicates or self.reorders or self.phantoms or self.orphans)

    def row(self) -> str:
        return (f"sent {self.sent} acked {self.acked} failed {self.failed} in log {self.in_log}: "
                f"lost {self.lost} duplicates {self.duplicates} reorders {self.reorders} "
                f"phantoms {self.phantoms} orphans {self.orphans}")


def verify(sent: Iterable[Sent], logged: Iterable[Logged]) -> Verdict:
    sent = list(sent)
    logged = sorted(logged, key=lambda r: (r.partition, r.offset))
    v = Verdict(sent=len(sent), in_log=len(logged))
    copies = collections.Counter(r.id for r in logged)
    examples: dict[str, list[int]] = collections.defaultdict(list)

    def note(kind: str, record_id: int) -> None:
        if len(examples[kind]) < 10:
            examples[kind].append(record_id)

    for s in sent:
        if s.outcome == "acked":
            v.acked += 1
            if not copies[s.id]:
                v.lost += 1
                note("lost", s.id)
        elif s.outcome == "failed":
            v.failed += 1
            if copies[s.id]:
                v.phantoms += 1
                note("phantoms", s.id)
        else:
            v.orphans += 1
            note("orphans", s.id)
    for record_id, n in copies.items():
        if n > 1:
            v.duplicates += n - 1
            note("duplicates", record_id)
    highest: dict[tuple[int, bytes | None], int] = {}
    for r in logged:
        stream = (r.partition, r.key)
        if r.id < highest.get(stream, -1):
            v.reorders += 1
            note("reorders", r.id)
        highest[stream] = max(r.id, highest.get(stream, -1))
    v.examples = dict(examples)
    return v
