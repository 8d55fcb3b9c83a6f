from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

import fastprod

MOCK = {"test.mock.num.brokers": 1, "log_level": 4}


@pytest.fixture
def make_producer() -> Iterator[Callable[..., fastprod.Producer]]:
    """Producers on librdkafka's in-process mock cluster, closed at the end of the test."""
    made: list[fastprod.Producer] = []

    def make(**kwargs: Any) -> fastprod.Producer:
        config = {**MOCK, **kwargs.pop("config", {})}
        producer = fastprod.Producer(config=config, **kwargs)
        made.append(producer)
        return producer

    yield make
    for producer in made:
        producer.close(timeout=10)
