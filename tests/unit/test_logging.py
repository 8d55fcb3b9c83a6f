"""librdkafka's log lines go to Python's logging, not to stderr (issue 15): the
fastprod.librdkafka logger or Producer(logger=...), syslog levels mapped, repeats folded."""

import logging
import time

import pytest

import fastprod
from fastprod.errors import ConfigError

UNREACHABLE = "127.0.0.1:1"  # nothing listens: librdkafka logs every failed connection attempt


def wait_for(predicate, seconds=10.0):
    deadline = time.monotonic() + seconds
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.05)
    return predicate()


def refused(records):
    return [r for r in records if r.getMessage().startswith("librdkafka FAIL: ")
            and "Connection refused" in r.getMessage()]


def test_lines_reach_the_fastprod_librdkafka_logger_folded_and_not_stderr(caplog, capfd):
    caplog.set_level(logging.INFO, logger="fastprod.librdkafka")
    p = fastprod.Producer(UNREACHABLE, reconnect_backoff_ms=10, reconnect_backoff_max_ms=20)
    try:
        p.send_and_forget("t", b"v")
        assert wait_for(lambda: refused(caplog.records))
        time.sleep(2)  # ~100 more attempts, each one the same line
    finally:
        p.close(0)
    lines = refused(caplog.records)
    assert len(lines) == 1, [r.getMessage() for r in lines]
    assert lines[0].name == "fastprod.librdkafka" and lines[0].levelno == logging.ERROR
    assert lines[0].getMessage().startswith("librdkafka FAIL: ")
    assert "Connection refused" not in capfd.readouterr().err


def test_a_repeat_after_the_window_carries_the_count(caplog, monkeypatch):
    import fastprod._core as core

    caplog.set_level(logging.INFO, logger="fastprod.librdkafka")
    monkeypatch.setattr(core, "_REPEAT_WINDOW_MS", 300)
    p = fastprod.Producer(UNREACHABLE, reconnect_backoff_ms=10, reconnect_backoff_max_ms=20)
    try:
        p.send_and_forget("t", b"v")
        assert wait_for(lambda: any("more times since it was last logged" in r.getMessage()
                                    for r in refused(caplog.records)))
    finally:
        p.close(0)


def test_producer_logger_argument_and_debug_levels():
    logger = logging.getLogger("test_logging.mine")
    logger.setLevel(logging.DEBUG)
    got = []
    handler = logging.Handler()
    handler.emit = got.append
    logger.addHandler(handler)
    try:
        p = fastprod.Producer(config={"test.mock.num.brokers": 1, "debug": "metadata"},
                              logger=logger)
        p.send("t", b"v").get(30)
        p.close(10)
    finally:
        logger.removeHandler(handler)
    assert any(r.levelno == logging.DEBUG and "librdkafka METADATA" in r.getMessage()
               for r in got)
    assert {r.name for r in got} == {"test_logging.mine"}


def test_logger_must_be_a_logger():
    with pytest.raises(ConfigError, match="logger must be a logging.Logger"):
        fastprod.Producer(UNREACHABLE, logger="fastprod")


def test_error_cb_gets_client_errors_as_kafka_errors():
    errors_seen = []
    p = fastprod.Producer(UNREACHABLE, error_cb=errors_seen.append)
    try:
        p.send_and_forget("t", b"v")
        assert wait_for(lambda: any(isinstance(e, fastprod.errors.AllBrokersDownError)
                                    for e in errors_seen))
    finally:
        p.close(0)
    assert all(isinstance(e, fastprod.KafkaError) for e in errors_seen)
    transport = [e for e in errors_seen if isinstance(e, fastprod.errors.TransportError)]
    assert transport and "Connection refused" in transport[0].message


def test_a_raising_error_cb_resurfaces_in_flush():
    calls = []

    def error_cb(exc):
        calls.append(exc)
        if len(calls) == 1:
            raise RuntimeError("error_cb failed")

    p = fastprod.Producer(UNREACHABLE, error_cb=error_cb)
    try:
        time.sleep(1)
        with pytest.raises(RuntimeError, match="error_cb failed"):
            p.flush(1)
        assert len(calls) > 1  # the dispatcher went on
    finally:
        p.close(0)


def test_stats_cb_and_metrics_get_librdkafkas_statistics_parsed():
    got = []
    p = fastprod.Producer(config={"test.mock.num.brokers": 1, "log_level": 0},
                          statistics_interval_ms=100, stats_cb=got.append)
    try:
        assert p.metrics() == {}
        p.send("t", b"v").get(30)
        assert wait_for(lambda: any(s["txmsgs"] >= 1 for s in got))
        assert p.metrics() is got[-1]
        assert got[-1]["type"] == "producer" and "brokers" in got[-1]
    finally:
        p.close(10)


def test_stats_cb_without_an_interval_and_non_callables_are_config_errors():
    with pytest.raises(ConfigError, match="stats_cb needs statistics_interval_ms"):
        fastprod.Producer(UNREACHABLE, stats_cb=print)
    for name in ("error_cb", "throttle_cb", "stats_cb"):
        with pytest.raises(ConfigError, match=f"{name} must be callable"):
            fastprod.Producer(UNREACHABLE, **{name: 42})
