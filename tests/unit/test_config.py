import pytest

import fastprod
from fastprod.config import resolve
from fastprod.errors import ConfigError


def props(**keywords):
    return dict(resolve(keywords, None).properties)


def test_java_defaults_where_librdkafka_differs():
    p = props(bootstrap_servers="h:1")
    assert p["enable.idempotence"] == "true"
    assert p["acks"] == "all"
    assert p["partitioner"] == "murmur2_random"
    assert p["delivery.timeout.ms"] == "120000"
    cfg = resolve({"bootstrap_servers": "h:1"}, None)
    assert (cfg.buffer_memory, cfg.max_block_ms) == (32 * 1024 * 1024, 60_000)


def test_keywords_and_dotted_names_mean_the_same():
    a = resolve({"bootstrap_servers": "h:1", "linger_ms": 20, "max_request_size": 5000}, None)
    b = resolve({}, {"bootstrap.servers": "h:1", "linger.ms": 20, "max.request.size": 5000})
    assert a.properties == b.properties
    assert dict(a.properties)["message.max.bytes"] == "5000"


def test_unknown_keyword_is_config_error_naming_it():
    with pytest.raises(ConfigError, match="'lingerms'"):
        fastprod.Producer("h:1", lingerms=5)


def test_unknown_dotted_key_is_config_error_naming_it():
    with pytest.raises(ConfigError, match="'no.such.property'"):
        fastprod.Producer("h:1", config={"no.such.property": "1"})


def test_invalid_value_is_config_error():
    with pytest.raises(ConfigError, match="'acks'"):
        fastprod.Producer("h:1", config={"acks": "sometimes"})


def test_idempotence_with_acks_1_conflicts():
    with pytest.raises(ConfigError, match="acks=1 .needs 'all'"):
        resolve({"bootstrap_servers": "h:1", "acks": 1, "enable_idempotence": True}, None)


@pytest.mark.parametrize("setting, message", [
    ({"retries": 0}, "retries=0"),
    ({"max_in_flight_requests_per_connection": 6}, "max.in.flight.requests.per.connection=6"),
])
def test_idempotence_conflicts_are_config_errors(setting, message):
    with pytest.raises(ConfigError, match=message):
        resolve({"bootstrap_servers": "h:1", "enable_idempotence": True, **setting}, None)
    # without an explicit enable_idempotence, Java turns idempotence off instead
    assert props(bootstrap_servers="h:1", **setting)["enable.idempotence"] == "false"


def test_acks_1_alone_turns_idempotence_off_like_java():
    p = props(bootstrap_servers="h:1", acks=1)
    assert (p["acks"], p["enable.idempotence"]) == ("1", "false")


def test_same_key_twice_is_an_error():
    with pytest.raises(ConfigError, match="both"):
        resolve({"bootstrap_servers": "h:1", "linger_ms": 1}, {"linger.ms": 2})


def test_bootstrap_required():
    with pytest.raises(ConfigError, match="bootstrap_servers"):
        fastprod.Producer()


@pytest.mark.parametrize("value", [-1, "lots"])
def test_buffer_memory_must_be_a_count(value):
    with pytest.raises(ConfigError, match="buffer.memory"):
        resolve({"bootstrap_servers": "h:1", "buffer_memory": value}, None)


@pytest.mark.parametrize("settings, name", [({"linger_ms": "soon"}, "linger.ms"),
                                            ({"max_request_size": "big"}, "message.max.bytes")])
def test_settings_send_reads_must_be_numbers(settings, name):
    with pytest.raises(ConfigError, match=name):
        fastprod.Producer("h:1", **settings)


def test_settings_send_reads_are_parsed_once_in_the_config():
    cfg = resolve({"bootstrap_servers": "h:1", "linger_ms": 0.5, "max_request_size": 4000,
                   "compression_type": "lz4"}, None)
    assert (cfg.linger_ms, cfg.max_message_bytes, cfg.checks_topic_limit) == (0.5, 4000, False)
    cfg = resolve({"bootstrap_servers": "h:1"}, None)
    assert (cfg.linger_ms, cfg.max_message_bytes, cfg.checks_topic_limit) == (5.0, 1_000_000, True)


def test_native_partitioner_names_come_from_the_engine():
    from fastprod import _core
    from fastprod.config import PARTITIONERS

    assert PARTITIONERS == _core._native_partitioners()
    assert PARTITIONERS["murmur2"] == PARTITIONERS["default"] == PARTITIONERS["murmur2_random"]
    assert len({PARTITIONERS[n] for n in ("murmur2", "xxhash", "round_robin")}) == 3


def test_unknown_partitioner():
    with pytest.raises(ConfigError, match="partitioner"):
        fastprod.Producer("h:1", partitioner="crc")


def test_password_not_in_repr():
    cfg = resolve({"bootstrap_servers": "h:1", "sasl_plain_password": "hunter2"}, None)
    assert "hunter2" not in repr(cfg)


@pytest.mark.parametrize("acks", [122, 2, -2, "x", "", "1.0"])
def test_acks_outside_kafkas_values_is_config_error(acks):
    # librdkafka takes any number up to 1000; the broker then fails every record.
    with pytest.raises(ConfigError, match="'acks' must be 0, 1, -1 or 'all', not"):
        resolve({"bootstrap_servers": "h:1", "acks": acks}, None)
    with pytest.raises(ConfigError, match="request.required.acks"):
        resolve({}, {"bootstrap.servers": "h:1", "request.required.acks": acks})


@pytest.mark.parametrize("acks", [0, 1, -1, "0", "1", "-1", "all", "ALL"])
def test_acks_kafka_takes_are_accepted(acks):
    assert props(bootstrap_servers="h:1", acks=acks, enable_idempotence=acks in (-1, "-1", "all",
                                                                                 "ALL"))["acks"]


def test_transactional_id_is_refused_until_transactions_exist():
    with pytest.raises(ConfigError, match="transactional.id: this fastprod has no transactions"):
        resolve({}, {"bootstrap.servers": "h:1", "transactional.id": "job-1"})
