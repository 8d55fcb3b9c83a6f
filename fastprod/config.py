"""Producer configuration: kafka-python keyword names and Java/librdkafka dotted names.

Every keyword argument of :class:`fastprod.Producer` and every key of its ``config=`` dict ends up
as one dotted property. Dotted names go to librdkafka, which rejects unknown ones (reported as
ConfigError naming the key); a few Java names librdkafka lacks are translated, and fastprod's own
properties (``buffer.memory``, ``max.block.ms``) are taken out before librdkafka sees the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from fastprod import _core, serializers
from fastprod.errors import ConfigError

# kafka-python keyword → dotted property name.
KEYWORDS: dict[str, str] = {
    "bootstrap_servers": "bootstrap.servers",
    "client_id": "client.id",
    "acks": "acks",
    "compression_type": "compression.type",
    "retries": "retries",
    "retry_backoff_ms": "retry.backoff.ms",
    "linger_ms": "linger.ms",
    "batch_size": "batch.size",
    "request_timeout_ms": "request.timeout.ms",
    "delivery_timeout_ms": "delivery.timeout.ms",
    "max_in_flight_requests_per_connection": "max.in.flight.requests.per.connection",
    "enable_idempotence": "enable.idempotence",
    "max_request_size": "max.request.size",
    "buffer_memory": "buffer.memory",
    "max_block_ms": "max.block.ms",
    "metadata_max_age_ms": "metadata.max.age.ms",
    "connections_max_idle_ms": "connections.max.idle.ms",
    "reconnect_backoff_ms": "reconnect.backoff.ms",
    "reconnect_backoff_max_ms": "reconnect.backoff.max.ms",
    "receive_buffer_bytes": "receive.buffer.bytes",
    "send_buffer_bytes": "send.buffer.bytes",
    "security_protocol": "security.protocol",
    "sasl_mechanism": "sasl.mechanism",
    "sasl_plain_username": "sasl.username",
    "sasl_plain_password": "sasl.password",
    "ssl_cafile": "ssl.ca.location",
    "ssl_certfile": "ssl.certificate.location",
    "ssl_keyfile": "ssl.key.location",
    "ssl_password": "ssl.key.password",
    "statistics_interval_ms": "statistics.interval.ms",  # librdkafka's (stats_cb, metrics())
}

# Java producer names that librdkafka spells differently.
JAVA_TO_LIBRDKAFKA: dict[str, str] = {
    "max.request.size": "message.max.bytes",
    # Java's metadata.max.age.ms is how often metadata is refreshed; librdkafka's property of that
    # name is a cache lifetime, its refresh interval is this one.
    "metadata.max.age.ms": "topic.metadata.refresh.interval.ms",
    "receive.buffer.bytes": "socket.receive.buffer.bytes",
    "send.buffer.bytes": "socket.send.buffer.bytes",
}

# Where librdkafka's default differs from the Java client's, the Java default wins.
DEFAULTS: dict[str, str] = {
    "enable.idempotence": "true",
    "acks": "all",
    "linger.ms": "5",
    "delivery.timeout.ms": "120000",
    # librdkafka spaces its first connections by half of this: 100 ms delayed every first
    # acknowledgement by ~50 ms, Java's 50 by ~25 (issue 14).
    "reconnect.backoff.ms": "50",
    # fastprod partitions records itself (see PARTITIONERS); this only matters for the
    # librdkafka-delegated choices and is Java's hash in case anything reaches it.
    "partitioner": "murmur2_random",
    # buffer.memory bounds the bytes held for unacknowledged records; librdkafka's own queue
    # limits are lifted so that they never bound first.
    "queue.buffering.max.messages": "2147483647",
    "queue.buffering.max.kbytes": "2147483647",
}

# The callables Producer() takes besides serializers and partitioner, and what each must be.
CALLBACKS = {
    "on_delivery_error": "callable(exception, record)",
    "error_cb": "callable(exception)",
    "throttle_cb": "callable(event)",
    "stats_cb": "callable(statistics_dict)",
}

BUFFER_MEMORY_DEFAULT = 32 * 1024 * 1024
MAX_BLOCK_MS_DEFAULT = 60_000
# librdkafka's defaults, read here because send()'s checks, keyless stickiness and the metadata
# refresh use them.
BATCH_SIZE_DEFAULT = 1_000_000
MESSAGE_MAX_BYTES_DEFAULT = 1_000_000
METADATA_REFRESH_MS_DEFAULT = 300_000

# Partitioners fastprod runs in send() (the C engine's table of them) ...
PARTITIONERS: dict[str, int] = _core._native_partitioners()
# ... and librdkafka's own, for key placement identical to other librdkafka clients.
LIBRDKAFKA_PARTITIONERS = {"consistent_random", "consistent", "random", "fnv1a", "fnv1a_random"}


@dataclass(frozen=True)
class ProducerConfig:
    """The outcome of :func:`resolve`, everything the compiled core is started with: the
    librdkafka properties, fastprod's own settings, and the librdkafka settings send() reads."""

    properties: list[tuple[str, str]]
    buffer_memory: int
    max_block_ms: int
    key_serializer: object  # see fastprod.serializers.from_setting
    value_serializer: object
    partitioner: int | Callable[..., int]
    batch_size: int  # keyless stickiness, and the topic-limit warning
    metadata_refresh_ms: int
    linger_ms: float
    max_message_bytes: int  # send() refuses bigger records (key + value + headers)
    checks_topic_limit: bool  # uncompressed: records are checked against a topic's limit
    # send_and_forget()'s failed records go to on_delivery_error(exception, record), else the log
    on_delivery_error: Callable[[BaseException, Any], object] | None = None
    error_cb: Callable[[BaseException], object] | None = None  # see Producer's docstring
    throttle_cb: Callable[[Any], object] | None = None
    stats_cb: Callable[[dict[str, Any]], object] | None = None
    # librdkafka's log lines go to this logging.Logger (None: the "fastprod.librdkafka" logger)
    logger: Any = None

    def __repr__(self) -> str:
        shown = [(k, "******" if _secret(k) else v) for k, v in self.properties]
        return f"ProducerConfig(properties={shown}, buffer_memory={self.buffer_memory}, " \
               f"max_block_ms={self.max_block_ms})"


def _secret(name: str) -> bool:
    return "password" in name or "secret" in name or name.endswith(".key.pem")


def _to_str(name: str, value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    if isinstance(value, (str, int, float)):
        return str(value)
    raise ConfigError(f"{name!r} must be a str, int, float, bool or list, not {type(value).__name__}")


def _non_negative_int(name: str, value: object) -> int:
    try:
        number = int(str(value))
    except ValueError:
        raise ConfigError(f"{name!r} must be an integer, not {value!r}") from None
    if number < 0:
        raise ConfigError(f"{name!r} must be >= 0, not {number}")
    return number


def _number(name: str, value: object) -> float:
    try:
        return float(str(value))
    except ValueError:
        raise ConfigError(f"{name!r} must be a number, not {value!r}") from None


def resolve(keywords: Mapping[str, object], config: Mapping[str, object] | None) -> ProducerConfig:
    """Merge keyword arguments and the config dict into one validated ProducerConfig."""
    merged: dict[str, object] = {}
    for key, shape in CALLBACKS.items():
        value = keywords.get(key)
        if value is not None and not callable(value):
            raise ConfigError(f"{key} must be {shape}, not {type(value).__name__}")
    logger = keywords.get("logger")
    if logger is not None and not callable(getattr(logger, "log", None)):
        raise ConfigError(f"logger must be a logging.Logger (or have its log method), not "
                          f"{type(logger).__name__}")
    for key, value in keywords.items():
        if key in CALLBACKS or key == "logger":
            continue
        if key in ("key_serializer", "value_serializer", "partitioner"):
            merged[key.replace("_", ".")] = value
            continue
        dotted = KEYWORDS.get(key)
        if dotted is None:
            raise ConfigError(f"unknown configuration keyword {key!r}"
                              + (f" (did you mean config={{{key!r}: ...}}?)" if "." in key else ""))
        merged[dotted] = value
    for key, value in (config or {}).items():
        if not isinstance(key, str):
            raise ConfigError(f"config keys must be str, not {type(key).__name__}")
        if key in merged:
            raise ConfigError(f"{key!r} is given both as a keyword and in config")
        merged[key] = value
    merged = {JAVA_TO_LIBRDKAFKA.get(k, k): v for k, v in merged.items() if v is not None
              or k in ("key.serializer", "value.serializer")}

    if "bootstrap.servers" not in merged and "test.mock.num.brokers" not in merged:
        raise ConfigError("bootstrap_servers is required (e.g. '127.0.0.1:9092')")
    buffer_memory = _non_negative_int("buffer.memory", merged.pop("buffer.memory", BUFFER_MEMORY_DEFAULT))
    if buffer_memory == 0:
        raise ConfigError("'buffer.memory' must be > 0")
    max_block_ms = _non_negative_int("max.block.ms", merged.pop("max.block.ms", MAX_BLOCK_MS_DEFAULT))
    key_serializer = serializers.from_setting("key_serializer", merged.pop("key.serializer", None))
    value_serializer = serializers.from_setting("value_serializer",
                                                merged.pop("value.serializer", None))
    partitioner = _partitioner(merged)
    batch_size = _non_negative_int("batch.size", merged.get("batch.size", BATCH_SIZE_DEFAULT))
    metadata_refresh_ms = _non_negative_int(
        "metadata.max.age.ms",
        merged.get("topic.metadata.refresh.interval.ms", METADATA_REFRESH_MS_DEFAULT))

    _check_conflicts(merged)
    if keywords.get("stats_cb") is not None and \
            _number("statistics.interval.ms", merged.get("statistics.interval.ms", 0)) <= 0:
        raise ConfigError("stats_cb needs statistics_interval_ms (statistics.interval.ms), "
                          "e.g. 5000: librdkafka sends no statistics without it")
    callbacks: dict[str, Any] = {key: keywords.get(key) for key in CALLBACKS}
    properties = {k: v for k, v in DEFAULTS.items()}
    if _idempotence_ruled_out(merged):
        # Java: without an explicit enable.idempotence, acks other than all turn idempotence off.
        properties["enable.idempotence"] = "false"
    properties.update({k: _to_str(k, v) for k, v in merged.items()})
    return ProducerConfig(
        list(properties.items()), buffer_memory, max_block_ms, key_serializer, value_serializer,
        partitioner, batch_size, max(metadata_refresh_ms, 1000),
        linger_ms=_number("linger.ms", properties["linger.ms"]),
        max_message_bytes=_non_negative_int(
            "message.max.bytes", properties.get("message.max.bytes", MESSAGE_MAX_BYTES_DEFAULT)),
        # A broker judges the compressed batch, which send() cannot know: with compression a
        # record over the topic's limit may still be taken, so only uncompressed ones are checked.
        checks_topic_limit=properties.get(
            "compression.type", properties.get("compression.codec", "none")) == "none",
        logger=logger, **callbacks)


def _partitioner(merged: dict[str, object]) -> int | Callable[..., int]:
    """Takes "partitioner" out of merged: a PARTITIONERS number or a callable; librdkafka's own
    partitioners stay in merged for librdkafka."""
    value = merged.pop("partitioner", None)
    if value is None:
        return PARTITIONERS["murmur2"]
    if callable(value):
        return value
    if value in PARTITIONERS:
        return PARTITIONERS[str(value)]
    if value in LIBRDKAFKA_PARTITIONERS:
        merged["partitioner"] = value
        return _core.PARTITIONER_LIBRDKAFKA
    raise ConfigError(f"unknown partitioner {value!r}; choose from "
                      f"{sorted(PARTITIONERS) + sorted(LIBRDKAFKA_PARTITIONERS)} or pass a callable "
                      "partitioner(key_bytes, all_partitions, available_partitions) -> int")


def _acks_all(value: object) -> bool:
    return str(value).lower() in ("all", "-1")


def _idempotence_conflicts(merged: Mapping[str, object]) -> list[str]:
    """Settings that idempotence cannot honour (Java's rules: acks=all, retries > 0, at most 5
    requests in flight per connection)."""
    conflicts = []
    if "acks" in merged and not _acks_all(merged["acks"]):
        conflicts.append(f"acks={merged['acks']!r} (needs 'all')")
    for name in ("retries", "message.send.max.retries"):
        if name in merged and str(merged[name]).strip() == "0":
            conflicts.append(f"{name}=0 (needs > 0)")
    inflight = merged.get("max.in.flight.requests.per.connection", merged.get("max.in.flight"))
    if inflight is not None and str(inflight).isdigit() and int(str(inflight)) > 5:
        conflicts.append(f"max.in.flight.requests.per.connection={inflight} (needs <= 5)")
    return conflicts


def _idempotence_ruled_out(merged: Mapping[str, object]) -> bool:
    """True when idempotence was not asked for and other settings rule it out: then, as in Java,
    it is turned off instead of failing."""
    return "enable.idempotence" not in merged and bool(_idempotence_conflicts(merged))


def _check_acks(merged: Mapping[str, object]) -> None:
    """acks is one of 0, 1, -1/"all" (librdkafka takes any number up to 1000 and every record then
    fails at the broker with InvalidRequiredAcks)."""
    for name in ("acks", "request.required.acks"):
        if name in merged and str(merged[name]).strip().lower() not in ("0", "1", "-1", "all"):
            raise ConfigError(f"{name!r} must be 0, 1, -1 or 'all', not {merged[name]!r}")


def _check_conflicts(merged: Mapping[str, object]) -> None:
    _check_acks(merged)
    if merged.get("transactional.id"):
        # librdkafka would start (after complaining about message.timeout.ms, its name for
        # delivery.timeout.ms, against transaction.timeout.ms) and then fail every record with
        # "Erroneous state": no transaction was begun.
        raise ConfigError("transactional.id: this fastprod has no transactions API "
                          "(init/begin/commit), without which every record would fail")
    idempotent = str(merged.get("enable.idempotence", "true")).lower() in ("true", "1")
    if "enable.idempotence" in merged and idempotent:
        conflicts = _idempotence_conflicts(merged)
        if conflicts:
            raise ConfigError("enable.idempotence=true conflicts with " + ", ".join(conflicts))
