from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.support.fuzz.producers import CONFIGS, Target, make_target


@pytest.fixture(scope="package")
def targets() -> Iterator[dict[str, Target]]:
    """One producer per serializer pairing, shared by the fuzz tests that call them."""
    # A producer's first metadata takes a second on the mock cluster: start them all at once.
    with ThreadPoolExecutor(len(CONFIGS)) as pool:
        made = dict(zip(CONFIGS, pool.map(make_target, CONFIGS)))
    yield made
    with ThreadPoolExecutor(len(made)) as pool:
        list(pool.map(lambda t: t.producer.close(10), made.values()))
