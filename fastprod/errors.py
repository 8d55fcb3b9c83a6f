"""fastprod's exceptions: one hierarchy rooted at :class:`FastProdError`.

Errors a producer reports for a record (delivery failures, broker errors) are :class:`KafkaError`
instances; there is one subclass per librdkafka/Kafka error code (``fastprod._error_codes``,
generated from librdkafka's error table), so ``except fastprod.errors.MsgTimedOutError`` works.
"""

from __future__ import annotations

from fastprod import _error_base, _error_codes
from fastprod._error_base import (ConfigError, FastProdError, InvalidTopicError, KafkaError,
                                  KafkaTimeoutError, PersistenceStatus, ProducerClosedError,
                                  ProducerForkedError, QueueFullError, SerializationError)
from fastprod._error_codes import *  # noqa: F401,F403

__all__ = ["ConfigError", "FastProdError", "InvalidTopicError", "KafkaError", "KafkaTimeoutError",
           "PersistenceStatus", "ProducerClosedError", "ProducerForkedError", "QueueFullError",
           "SerializationError", *_error_codes.__all__]

# Every class is fastprod.errors.X, where users import it from (tracebacks, repr, pickle).
for _cls in [*vars(_error_base).values(), *vars(_error_codes).values()]:
    if isinstance(_cls, type) and _cls.__module__ in (_error_base.__name__, _error_codes.__name__):
        _cls.__module__ = __name__
del _cls
