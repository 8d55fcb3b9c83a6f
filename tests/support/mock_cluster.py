"""librdkafka's mock cluster: MOCK_CONFIG, the settings that give a producer one of its own, and
MockCluster, driven from Python through ctypes, for faults a config alone cannot set up (e.g. a
broker that turns slow after the producer connected).

The mock API is exported by the librdkafka inside the confluent-kafka wheel but marked experimental
(no ABI promise): the prototypes below are librdkafka 2.x's.
"""

from __future__ import annotations

import ctypes

from fastprod import _core

# A producer with these settings has an in-process mock broker of its own, topics created on
# first use (4 partitions); log_level 4 keeps its warnings, not its chatter.
MOCK_CONFIG = {"test.mock.num.brokers": 1, "log_level": 4}

_lib = ctypes.CDLL(_core._librdkafka_path())
_lib.rd_kafka_conf_new.restype = ctypes.c_void_p
_lib.rd_kafka_new.restype = ctypes.c_void_p
_lib.rd_kafka_new.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t]
_lib.rd_kafka_destroy.argtypes = [ctypes.c_void_p]
_lib.rd_kafka_mock_cluster_new.restype = ctypes.c_void_p
_lib.rd_kafka_mock_cluster_new.argtypes = [ctypes.c_void_p, ctypes.c_int]
_lib.rd_kafka_mock_cluster_destroy.argtypes = [ctypes.c_void_p]
_lib.rd_kafka_mock_cluster_bootstraps.restype = ctypes.c_char_p
_lib.rd_kafka_mock_cluster_bootstraps.argtypes = [ctypes.c_void_p]
_lib.rd_kafka_mock_broker_set_rtt.argtypes = [ctypes.c_void_p, ctypes.c_int32, ctypes.c_int]
_lib.rd_kafka_mock_broker_set_rtt.restype = ctypes.c_int


class MockCluster:
    """A mock cluster of `brokers` in-process brokers; `bootstrap` is their address list."""

    def __init__(self, brokers: int = 1) -> None:
        errstr = ctypes.create_string_buffer(512)
        # The cluster needs a client handle to live in; a producer that sends nothing.
        self._rk = _lib.rd_kafka_new(0, _lib.rd_kafka_conf_new(), errstr, len(errstr))
        if not self._rk:
            raise RuntimeError(errstr.value.decode())
        self._mc = _lib.rd_kafka_mock_cluster_new(self._rk, brokers)
        self.bootstrap = _lib.rd_kafka_mock_cluster_bootstraps(self._mc).decode()

    def set_rtt(self, broker_id: int, rtt_ms: int) -> None:
        """Every later response of broker_id (1-based) comes rtt_ms late."""
        if _lib.rd_kafka_mock_broker_set_rtt(self._mc, broker_id, rtt_ms) != 0:
            raise RuntimeError(f"cannot set the RTT of mock broker {broker_id}")

    def close(self) -> None:
        _lib.rd_kafka_mock_cluster_destroy(self._mc)
        _lib.rd_kafka_destroy(self._rk)
