"""The hand-written part of fastprod.errors (import them from there): the root of the hierarchy,
the client-side errors and KafkaError, which the generated per-code classes in
fastprod._error_codes subclass. It imports neither of them, so there is no import cycle."""

from __future__ import annotations

import enum
from typing import ClassVar


class FastProdError(Exception):
    """Root of every exception fastprod raises on purpose."""


class ConfigError(FastProdError, ValueError):
    """A configuration key is unknown, or its value invalid or in conflict with another."""


class SerializationError(FastProdError, TypeError):
    """A key, value or header could not be turned into bytes."""


class InvalidTopicError(FastProdError, ValueError):
    """The topic name is empty, longer than 249 characters or has characters Kafka forbids."""


class KafkaTimeoutError(FastProdError, TimeoutError):
    """A wait ran out: buffer full past max.block.ms, or a flush/get timeout.

    From ``flush()``, ``unacknowledged`` is the number of records it left (None otherwise).
    """

    unacknowledged: int | None = None


class QueueFullError(FastProdError, BufferError):
    """buffer.memory is full and max.block.ms is 0, so send() does not wait."""


class ProducerClosedError(FastProdError, RuntimeError):
    """The producer was closed."""


class ProducerForkedError(FastProdError, RuntimeError):
    """The producer was created in a parent process; a forked child must create its own."""


class PersistenceStatus(enum.IntEnum):
    """Whether a record that failed may be in the topic anyway (librdkafka's message status).

    ``NOT_PERSISTED``: it never reached a broker, or a broker refused it; sending it again cannot
    make a duplicate. ``POSSIBLY_PERSISTED``: it was sent but no answer came (e.g. the broker went
    away, or delivery.timeout.ms ran out while it was in flight): the broker may have written it,
    and a consumer may read it; sending it again may duplicate it (at-least-once, as Java's
    producer). ``PERSISTED``: written, though an error was reported.
    """

    NOT_PERSISTED = 0
    POSSIBLY_PERSISTED = 1
    PERSISTED = 2


_PERSISTENCE_NOTES = {
    PersistenceStatus.NOT_PERSISTED: "not persisted: the record is not in the log",
    PersistenceStatus.POSSIBLY_PERSISTED:
        "possibly persisted: the record was sent and may be in the log; sending it again may "
        "duplicate it",
    PersistenceStatus.PERSISTED: "persisted: the record is in the log",
}


class KafkaError(FastProdError):
    """A record could not be delivered, or librdkafka/the broker reported an error.

    Attributes mirror librdkafka's error: ``code`` (negative codes are client-side, positive ones
    Kafka protocol errors), ``name`` (e.g. ``"_MSG_TIMED_OUT"``), ``retriable``, ``fatal`` and
    ``txn_requires_abort``. A record's delivery failure (from a future, a callback or
    ``BatchResult.failures``) also has ``persistence``, a :class:`PersistenceStatus` saying whether
    the record may be in the topic anyway; it is None for errors not about one sent record.
    """

    # Each per-code subclass (fastprod._error_codes) by its code, registered as it is defined.
    _by_code: ClassVar[dict[int, type[KafkaError]]] = {}

    code: ClassVar[int] = -1
    name: ClassVar[str] = "UNKNOWN"
    retriable: ClassVar[bool] = False
    fatal: bool = False
    txn_requires_abort: bool = False
    persistence: PersistenceStatus | None = None

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if "code" in vars(cls):
            KafkaError._by_code.setdefault(cls.code, cls)  # the first class of a code wins

    def __init__(self, message: str = "", *, code: int | None = None, fatal: bool = False,
                 txn_requires_abort: bool = False,
                 persistence: PersistenceStatus | int | None = None) -> None:
        if persistence is not None:
            persistence = PersistenceStatus(persistence)
            message = f"{message or self.name} ({_PERSISTENCE_NOTES[persistence]})"
        super().__init__(message or self.name)
        if code is not None and code != type(self).code:
            self.code = code  # type: ignore[misc]  # an error code without its own subclass
        self.fatal = fatal
        self.txn_requires_abort = txn_requires_abort
        self.persistence = persistence

    @property
    def message(self) -> str:
        """The human-readable text."""
        return str(self.args[0]) if self.args else ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code}, name={self.name!r}, message={self.message!r})"

    @classmethod
    def from_code(cls, code: int, message: str = "",
                  persistence: PersistenceStatus | int | None = None) -> KafkaError:
        """The exception for a librdkafka error code, as the most specific subclass."""
        return KafkaError._by_code.get(code, KafkaError)(message, code=code, fatal=code == _FATAL_CODE,
                                                    persistence=persistence)

    @classmethod
    def from_message(cls, message: str) -> KafkaError:
        """This class's exception with a given text."""
        return cls(message)


_FATAL_CODE = -150

