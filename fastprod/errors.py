"""fastprod's exceptions: one hierarchy rooted at :class:`FastProdError`.

Errors a producer reports for a record (delivery failures, broker errors) are :class:`KafkaError`
instances; there is one subclass per librdkafka/Kafka error code (``fastprod._error_codes``,
generated from librdkafka's error table), so ``except fastprod.errors.MsgTimedOutError`` works.
"""

from __future__ import annotations

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
    """A wait ran out: buffer full past max.block.ms, or a flush/get timeout."""


class QueueFullError(FastProdError, BufferError):
    """buffer.memory is full and max.block.ms is 0, so send() does not wait."""


class ProducerClosedError(FastProdError, RuntimeError):
    """The producer was closed."""


class ProducerForkedError(FastProdError, RuntimeError):
    """The producer was created in a parent process; a forked child must create its own."""


class KafkaError(FastProdError):
    """A record could not be delivered, or librdkafka/the broker reported an error.

    Attributes mirror librdkafka's error: ``code`` (negative codes are client-side, positive ones
    Kafka protocol errors), ``name`` (e.g. ``"_MSG_TIMED_OUT"``), ``retriable``, ``fatal`` and
    ``txn_requires_abort``.
    """

    code: ClassVar[int] = -1
    name: ClassVar[str] = "UNKNOWN"
    retriable: ClassVar[bool] = False
    fatal: bool = False
    txn_requires_abort: bool = False

    def __init__(self, message: str = "", *, code: int | None = None, fatal: bool = False,
                 txn_requires_abort: bool = False) -> None:
        super().__init__(message or self.name)
        if code is not None and code != type(self).code:
            self.code = code  # type: ignore[misc]  # an error code without its own subclass
        self.fatal = fatal
        self.txn_requires_abort = txn_requires_abort

    @property
    def message(self) -> str:
        """The human-readable text."""
        return str(self.args[0]) if self.args else ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code}, name={self.name!r}, message={self.message!r})"

    @classmethod
    def from_code(cls, code: int, message: str = "") -> KafkaError:
        """The exception for a librdkafka error code, as the most specific subclass."""
        return ERRORS_BY_CODE.get(code, KafkaError)(message, code=code,
                                                    fatal=code == _FATAL_CODE)

    @classmethod
    def from_message(cls, message: str) -> KafkaError:
        """This class's exception with a given text."""
        return cls(message)


_FATAL_CODE = -150

# Generated subclasses; imported last because they subclass KafkaError.
from fastprod._error_codes import *  # noqa: E402,F401,F403
from fastprod._error_codes import ERRORS_BY_CODE  # noqa: E402
