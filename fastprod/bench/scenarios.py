"""The benchmark scenarios and clients of `fastprod bench`, and whether a client can run here."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

from fastprod.bench import environment


@dataclass(frozen=True)
class Scenario:
    title: str
    value_bytes: int
    clients: tuple[str, ...]
    keyed: bool = False
    compression: str | None = None
    fmt: str | None = None   # json | msgpack | avro: values are 10-field dicts the client encodes;
    # table: the same rows as a pyarrow Table, sent as JSON (the others convert with to_pylist());
    # parquet: in a Parquet file (read inside the timing)
    record_share: int = 1    # the scenario sends --records // record_share records (same bytes)

    def records(self, records: int) -> int:
        return max(1, records // self.record_share)


_BYTES_CLIENTS = ("fastprod-drop", "confluent", "kafka-python", "aiokafka", "java", "native")
_ROW_CLIENTS = ("fastprod", "fastprod-batch", "confluent-cb", "kafka-python", "aiokafka")


def _compressed(size: int, codec: str) -> Scenario:
    return Scenario(f"{size // 1000} KB JSON-like values, {codec}, no key, results dropped", size,
                    _BYTES_CLIENTS, compression=codec, record_share=size // 500)


SCENARIOS: dict[str, Scenario] = {
    "keyless": Scenario("100 B values, no key, results dropped", 100, _BYTES_CLIENTS),
    "keyed-futures": Scenario(
        "100 B values, keyed, every result checked", 100,
        ("fastprod", "fastprod-cb", "confluent", "confluent-cb", "kafka-python", "aiokafka",
         "native"), keyed=True),
    "batch": Scenario("100 B values, no key, through each client's batch API", 100,
                      ("fastprod-batch", "confluent-batch", "native")),
    "json": Scenario("10-field dicts as JSON (~200 B), keyed by a field", 200, _ROW_CLIENTS,
                     fmt="json"),
    "msgpack": Scenario("10-field dicts as MessagePack (~160 B), keyed by a field", 160,
                        _ROW_CLIENTS, fmt="msgpack"),
    "avro": Scenario("10-field dicts as Avro (~110 B), keyed by a field", 110, _ROW_CLIENTS,
                     fmt="avro"),
    "table-json": Scenario(
        "a pyarrow Table of 10-field rows as JSON (~200 B), keyed by a column; send_batch and "
        "confluent convert it with to_pylist() inside the timing", 200,
        ("fastprod-table", "fastprod-batch", "confluent-cb"), fmt="table"),
    "parquet-file": Scenario(
        "a Parquet file of 10-field rows sent as JSON (~200 B), keyed by a column; send_batch and "
        "confluent read it with pyarrow and to_pylist() inside the timing", 200,
        ("fastprod-table", "fastprod-batch", "confluent-cb"), fmt="parquet"),
    "1kb-lz4": _compressed(1000, "lz4"),
    "1kb-zstd": _compressed(1000, "zstd"),
    "10kb-lz4": _compressed(10000, "lz4"),
    "10kb-zstd": _compressed(10000, "zstd"),
}
MAIN_SCENARIOS = ("keyless", "keyed-futures", "json", "1kb-lz4", "batch")

LABELS = {
    "fastprod": "fastprod send(), futures",
    "fastprod-drop": "fastprod send()",
    "fastprod-cb": "fastprod send(), callbacks",
    "fastprod-batch": "fastprod send_batch()",
    "fastprod-table": "fastprod send_table()",
    "confluent": "confluent produce()",
    "confluent-cb": "confluent produce(cb)",
    "confluent-batch": "confluent produce_batch()",
    "kafka-python": "kafka-python send()",
    "aiokafka": "aiokafka send()",
    "java": "Java ProducerPerformance",
    "native": "C loop on librdkafka",
}
PYTHON_CLIENTS = frozenset(LABELS) - {"java", "native"}


def family(client: str) -> str:
    """fastprod, other (the Python clients it is compared with), or the client itself."""
    if client.startswith("fastprod"):
        return "fastprod"
    return "other" if client in PYTHON_CLIENTS else client


def _module_missing(module: str, package: str) -> str | None:
    if importlib.util.find_spec(module) is None:
        return f"{package} is not installed (pip install {package})"
    return None


def missing(client: str, scenario: Scenario) -> str | None:
    """Why client cannot run scenario here, or None."""
    if client == "java":
        return environment.java_missing()
    if client == "native":
        return environment.native_missing()
    if scenario.fmt in ("table", "parquet"):
        reason = _module_missing("pyarrow", "pyarrow")
        if reason:
            return reason
    if scenario.fmt == "avro":
        reason = _module_missing("fastavro", "fastavro")
        if reason:
            return reason
    if client == "kafka-python":
        reason = _module_missing("kafka", "kafka-python")
        if reason is None and scenario.compression:
            from kafka import codec  # type: ignore[import-untyped]

            if not getattr(codec, f"has_{scenario.compression}")():
                package = {"lz4": "lz4", "zstd": "zstandard"}[scenario.compression]
                return f"kafka-python lacks {scenario.compression} (pip install {package})"
        return reason
    if client == "aiokafka":
        reason = _module_missing("aiokafka", "aiokafka")
        if reason is None and scenario.compression:
            from aiokafka import codec as aiocodec  # type: ignore[import-untyped]

            if not getattr(aiocodec, f"has_{scenario.compression}")():
                return f"aiokafka lacks {scenario.compression} (pip install cramjam)"
        return reason
    return None
