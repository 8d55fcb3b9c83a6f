from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

import fastprod
from tests.support.mock_cluster import MOCK_CONFIG


@pytest.fixture
def make_producer() -> Iterator[Callable[..., fastprod.Producer]]:
    """Producers on librdkafka's in-process mock cluster, closed at the end of the test."""
    made: list[fastprod.Producer] = []

    def make(**kwargs: Any) -> fastprod.Producer:
        config = {**MOCK_CONFIG, **kwargs.pop("config", {})}
        producer = fastprod.Producer(config=config, **kwargs)
        made.append(producer)
        return producer

    yield make
    for producer in made:
        producer.close(timeout=10)
