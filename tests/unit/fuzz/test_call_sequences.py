"""Sequences of fuzzed calls and flushes on one producer: its counts hold after every step, and
at the end everything is delivered as asked; test_fuzz_long (slow) runs them for
FASTPROD_FUZZ_SECONDS."""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (RuleBasedStateMachine, initialize, invariant, rule,
                                 run_state_machine_as_test)

from tests.support.fuzz.calls import (SEQUENCES, batch_calls, record_batch_calls,
                                      record_send_calls, send_calls)
from tests.support.fuzz.checker import Call, Checker
from tests.support.fuzz.producers import CONFIGS, Target

FUZZ_SECONDS = float(os.environ.get("FASTPROD_FUZZ_SECONDS", 300))


class CallSequences(RuleBasedStateMachine):
    """Calls on one producer: its counts hold after every step, and at the end everything is
    delivered as asked."""

    targets: dict[str, Target] = {}

    @initialize(config=st.sampled_from(sorted(CONFIGS)))
    def start(self, config: str) -> None:
        self.checker = Checker(self.targets[config])

    @rule(data=st.data(), calls=st.sampled_from([send_calls, record_send_calls, batch_calls,
                                                 record_batch_calls]))
    def call(self, data: st.DataObject, calls: Callable[[str], st.SearchStrategy[Call]]) -> None:
        self.checker.run(data.draw(calls(self.checker.target.name)))

    @rule()
    def flush(self) -> None:
        self.checker.flush()

    @invariant()
    def counts_hold(self) -> None:
        if hasattr(self, "checker"):
            assert self.checker.producer.stats()["sent"] == self.checker.expected_sent

    def teardown(self) -> None:
        if hasattr(self, "checker"):
            self.checker.finish()


def test_call_sequences(targets: dict[str, Target]) -> None:
    CallSequences.targets = targets
    run_state_machine_as_test(CallSequences, settings=settings(
        SEQUENCES, max_examples=int(os.environ.get("FASTPROD_FUZZ_SEQUENCES", 300)),
        stateful_step_count=20))


@pytest.mark.slow
@pytest.mark.timeout(FUZZ_SECONDS + 300)
def test_fuzz_long(targets: dict[str, Target]) -> None:
    CallSequences.targets = targets
    deadline = time.monotonic() + FUZZ_SECONDS
    rounds = 0
    while time.monotonic() < deadline:
        run_state_machine_as_test(CallSequences, settings=settings(
            SEQUENCES, max_examples=50, stateful_step_count=50, database=None))
        rounds += 1
    print(f"\n{rounds} rounds of 50 sequences of up to 50 calls")
