"""The public Producer: a thin typed layer over the compiled core in fastprod._core."""

from __future__ import annotations

import atexit
import logging
import os
import weakref
import typing
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic

from fastprod import _core
from fastprod.config import resolve
from fastprod.errors import KafkaError
from fastprod.records import ProducerRecord, ThrottleEvent
from fastprod.serializers import Serializer

if TYPE_CHECKING:
    # Defaults (PEP 696) let an unparameterized Producer mean Producer[Any, Any]; typing's own
    # TypeVar takes default= only from Python 3.13.
    from typing_extensions import TypeVar

    K = TypeVar("K", default=Any)
    V = TypeVar("V", default=Any)
else:
    K = typing.TypeVar("K")
    V = typing.TypeVar("V")

# At interpreter exit, pending records of producers never closed get this long to be delivered.
EXIT_CLOSE_TIMEOUT_S = 30.0

_live: weakref.WeakSet[Producer[Any, Any]] = weakref.WeakSet()


class Producer(Generic[K, V], _core.ProducerCore[K, V]):  # Generic first: its [] checks win
    """A Kafka producer whose record path is compiled and runs librdkafka without the GIL.

    ``Producer[K, V]`` types what send() and send_batch() take before serialization, e.g.
    ``Producer[str, dict[str, object]]`` with ``key_serializer="str", value_serializer="json"``;
    a bare ``Producer`` takes anything (``Producer[Any, Any]``).

    Parameters
    ----------
    bootstrap_servers:
        ``"host:port"`` or a list of them.
    key_serializer, value_serializer:
        None (bytes-like or str are sent as they are, str as UTF-8), a name (``"bytes"``,
        ``"str"``, ``"json"``, ``"msgpack"``), a :mod:`fastprod.serializers` object
        (``JsonSerializer()``, ``MsgpackSerializer()``, ``StructSerializer(MyStruct)``,
        ``AvroSerializer(schema, schema_id=...)``), an object with
        ``serialize(topic, headers, obj)``, or a callable ``obj -> bytes``. None values are
        never serialized (they stay null).
    partitioner:
        ``"murmur2"`` (default): a keyed record goes where the Java client puts it,
        ``(murmur2(key) & 0x7fffffff) % partitions``; keyless records stay on one available
        partition until ``batch_size`` bytes went there, then move to the next (Java's sticky
        partitioner). ``"round_robin"``: every record to the next available partition, keys
        ignored (Java's RoundRobinPartitioner). ``"xxhash"``: ``xxh3_64(key) % partitions``
        (needs the xxhash package), keyless as murmur2. A callable
        ``partitioner(key_bytes, all_partitions, available_partitions) -> int`` (kafka-python's
        signature; tuples of ints; runs in send(), so it costs a Python call per record).
        ``"consistent_random"``, ``"consistent"``, ``"random"``, ``"fnv1a"``, ``"fnv1a_random"``:
        librdkafka's partitioner of that name (same placement as other librdkafka clients).
        Partition counts are refreshed every ``metadata_max_age_ms`` (default 5 minutes).
    on_delivery_error:
        ``on_delivery_error(exception, record)`` for each record sent with
        :meth:`send_and_forget` that failed for good (``record`` is a :class:`ProducerRecord`
        with the serialized key and value; headers are not kept). Runs on fastprod's dispatcher
        thread; what it raises is re-raised by the next flush()/close(). Without it such
        failures are logged on the ``fastprod`` logger, one line per second at most.
    logger:
        Where librdkafka's own log lines go (a :class:`logging.Logger`; default: the
        ``fastprod.librdkafka`` logger), with syslog levels mapped to logging's (3 ERROR,
        4 WARNING, 5-6 INFO, 7 DEBUG: ``config={"debug": "broker"}`` needs DEBUG enabled). A line
        repeated within a minute is logged once, with the count at its next appearance.
    error_cb, throttle_cb, stats_cb:
        confluent-kafka's callbacks, run on fastprod's dispatcher thread (what they raise is
        re-raised by the next flush()/close()). ``error_cb(exception)``: librdkafka's errors
        about the client as a whole (brokers down, authentication, a fatal error), as
        :class:`fastprod.errors.KafkaError`; without it they are logged on the
        ``fastprod.librdkafka`` logger (fatal ones as ERROR, the others as WARNING).
        ``throttle_cb(event)``: a broker throttled this producer (a :class:`ThrottleEvent` with
        ``broker_name``, ``broker_id``, ``throttle_time`` in seconds). ``stats_cb(dict)``:
        librdkafka's statistics, parsed, every ``statistics_interval_ms`` (which it needs; also
        kept for :meth:`metrics`).
    config:
        Any librdkafka property or Java producer property by its dotted name, e.g.
        ``{"compression.type": "lz4"}``. Unknown names raise ConfigError.
    **settings:
        kafka-python keyword names: ``acks``, ``linger_ms``, ``batch_size``, ``retries``,
        ``delivery_timeout_ms``, ``buffer_memory`` (bytes held for unacknowledged records, default
        32 MiB), ``max_block_ms`` (how long send() waits for buffer space, default 60 000; 0 raises
        QueueFullError at once), ``enable_idempotence`` (default True), ``compression_type`` …

    Defaults follow the Java client: ``acks="all"``, idempotence on, ``linger_ms=5``,
    ``delivery_timeout_ms=120000``, murmur2 key partitioning.
    """

    __slots__ = ("__weakref__",)

    def __init__(self, bootstrap_servers: str | list[str] | None = None, *,
                 config: Mapping[str, object] | None = None,
                 key_serializer: Callable[[Any], Any] | Serializer[Any] | str | None = None,
                 value_serializer: Callable[[Any], Any] | Serializer[Any] | str | None = None,
                 partitioner: str | Callable[[bytes | None, tuple[int, ...], tuple[int, ...]], int]
                 | None = None,
                 on_delivery_error: Callable[[KafkaError, ProducerRecord], object] | None = None,
                 logger: logging.Logger | None = None,
                 error_cb: Callable[[KafkaError], object] | None = None,
                 throttle_cb: Callable[[ThrottleEvent], object] | None = None,
                 stats_cb: Callable[[dict[str, Any]], object] | None = None,
                 **settings: object) -> None:
        keywords: dict[str, object] = dict(settings)
        if bootstrap_servers is not None:
            keywords["bootstrap_servers"] = bootstrap_servers
        keywords["key_serializer"] = key_serializer
        keywords["value_serializer"] = value_serializer
        if partitioner is not None:
            keywords["partitioner"] = partitioner
        for key, value in (("on_delivery_error", on_delivery_error), ("logger", logger),
                           ("error_cb", error_cb), ("throttle_cb", throttle_cb),
                           ("stats_cb", stats_cb)):
            if value is not None:
                keywords[key] = value
        self._start(resolve(keywords, config))
        _live.add(self)

    def close(self, timeout: float | None = None) -> None:
        """Deliver what is pending (waiting up to ``timeout`` seconds, None: as long as it takes),
        fail what is still pending then, and release the producer. Every future is resolved when
        close() returns. Calling it again does nothing; send() afterwards raises
        ProducerClosedError."""
        self._close(timeout)

    def __enter__(self) -> Producer[K, V]:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<fastprod.Producer {'closed' if self.closed else 'open'}>"


def _close_all_at_exit() -> None:
    for producer in list(_live):
        try:
            producer.close(EXIT_CLOSE_TIMEOUT_S)
        except Exception:  # noqa: BLE001 - exit must go on; the error was logged by the core
            pass


def _forked_child() -> None:
    for producer in list(_live):
        producer._mark_forked()


atexit.register(_close_all_at_exit)
os.register_at_fork(after_in_child=_forked_child)
