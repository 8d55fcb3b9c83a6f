"""Records too large for a topic. send() learns each topic's max.message.bytes from the brokers
and refuses a record that alone would make a larger batch, so its neighbours are delivered
(librdkafka does not split a refused batch as Java's producer does, so one oversized record would
fail every record batched with it)."""

import logging

import pytest
from confluent_kafka import Producer as ConfluentProducer

import fastprod
from fastprod import errors
from tests.support.topics import consume, create_topic, unique_topic

LIMIT = 4000


def _limited_topic(bootstrap: str, prefix: str) -> str:
    return create_topic(bootstrap, unique_topic(prefix), 1,
                        config={"max.message.bytes": str(LIMIT)})


def _send_all(producer: fastprod.Producer, topic: str, sizes: list[int]):
    """Sends a numbered value of each size; returns the futures of those accepted and the
    indices of those refused."""
    delivered, refused = [], []
    for i, size in enumerate(sizes):
        try:
            delivered.append(producer.send(topic, b"%06d" % i + b"x" * (size - 6)))
        except errors.MessageSizeTooLargeError:
            refused.append(i)
    producer.flush(60)
    return delivered, refused


@pytest.mark.parametrize("settings", [{"batch_size": LIMIT}, {"max_request_size": LIMIT}],
                         ids=["batch_size", "max_request_size"])
def test_oversized_record_fails_alone(bootstrap, settings):
    topic = _limited_topic(bootstrap, "limit")
    sizes = [100, 5000, 100, 100, 9000, 100, 3900] * 50
    with fastprod.Producer(bootstrap, **settings) as producer:
        delivered, refused = _send_all(producer, topic, sizes)
    assert refused == [i for i, size in enumerate(sizes) if size > LIMIT]
    assert all(f.succeeded() for f in delivered)
    consumed = consume(bootstrap, topic, 1, len(delivered))
    assert [int(c.value[:6]) for c in consumed] == \
        [i for i, size in enumerate(sizes) if size <= LIMIT]


def _broker_takes(bootstrap: str, topic: str, value: bytes, key, headers) -> bool:
    """Whether the broker takes this record alone in a batch. Sent with confluent-kafka, which
    does not check records against the topic's limit."""
    outcome: list[object] = []
    producer = ConfluentProducer({"bootstrap.servers": bootstrap, "linger.ms": 0,
                                  "enable.idempotence": True})
    producer.produce(topic, value, key, headers=headers,
                     on_delivery=lambda err, msg: outcome.append(err))
    producer.flush(30)
    assert len(outcome) == 1
    return outcome[0] is None


@pytest.mark.parametrize("key, headers", [(None, None),
                                          (b"k" * 200, [("trace", b"t" * 150), ("empty", None)])],
                         ids=["value-only", "key-and-headers"])
def test_topic_limit_matches_the_broker_to_the_byte(bootstrap, key, headers):
    """Finds the largest value the broker takes (binary search with another client), then checks
    that send() takes exactly that and refuses one byte more."""
    topic = _limited_topic(bootstrap, "edge")
    taken, refused = 3000, LIMIT
    assert _broker_takes(bootstrap, topic, b"x" * taken, key, headers)
    assert not _broker_takes(bootstrap, topic, b"x" * refused, key, headers)
    while refused - taken > 1:
        middle = (taken + refused) // 2
        if _broker_takes(bootstrap, topic, b"x" * middle, key, headers):
            taken = middle
        else:
            refused = middle
    with fastprod.Producer(bootstrap, batch_size=LIMIT) as producer:
        future = producer.send(topic, b"y" * taken, key, headers=headers)
        with pytest.raises(errors.MessageSizeTooLargeError, match=rf"max.message.bytes \({LIMIT}\)"):
            producer.send(topic, b"z" * refused, key, headers=headers)
        producer.flush(30)
    assert future.succeeded()
    consumed = consume(bootstrap, topic, 1, future.get(0).offset + 1)
    assert consumed[-1].value == b"y" * taken


def test_batches_larger_than_the_topic_allows_are_warned_about(bootstrap, caplog):
    topic = _limited_topic(bootstrap, "warn")
    with caplog.at_level(logging.WARNING, logger="fastprod"):
        with fastprod.Producer(bootstrap) as producer:
            for _ in range(3):
                producer.send(topic, b"x" * 2000).get(30)
    warnings = [r.getMessage() for r in caplog.records if "max.message.bytes" in r.getMessage()]
    assert len(warnings) == 1
    assert f"set batch_size <= {LIMIT}" in warnings[0] and topic in warnings[0]


def test_with_compression_the_broker_judges(bootstrap):
    """The broker compares the compressed batch with the topic's limit: a record over the limit
    that compresses below it is sent and delivered, not refused by send()."""
    topic = _limited_topic(bootstrap, "lz4")
    with fastprod.Producer(bootstrap, compression_type="lz4", batch_size=LIMIT) as producer:
        future = producer.send(topic, b"abcd" * 2500)  # 10,000 bytes, a few dozen as lz4
        producer.flush(30)
    assert future.succeeded()
    assert consume(bootstrap, topic, 1, 1)[0].value == b"abcd" * 2500


def test_a_record_without_a_key_to_a_compacted_topic_is_refused_alone(bootstrap):
    """A compacted topic's brokers refuse a batch holding a record without a key (INVALID_RECORD):
    send() refuses that record, so the keyed ones around it are delivered."""
    pa = pytest.importorskip("pyarrow")
    topic = create_topic(bootstrap, unique_topic("compact"), 1, config={"cleanup.policy": "compact"})
    with fastprod.Producer(bootstrap_servers=bootstrap) as p:
        p.partitions_for(topic, 30)  # its configuration comes with its first metadata
        before = p.send(topic, b"v1", key=b"k1")
        with pytest.raises(errors.InvalidRecordError, match="no key, and the topic is compacted"):
            p.send(topic, b"tombstone-less")
        result = p.send_batch(topic, [b"a", b"b", b"c"], keys=[b"ka", None, b"kc"],
                              on_invalid="report").wait(30)
        assert (result.delivered, result.rejected) == (2, 1)
        assert isinstance(result.failures[0][1], errors.InvalidRecordError)
        table = pa.table({"k": ["x", None, "z"], "n": [1, 2, 3]})
        with pytest.raises(errors.SerializationError, match=r"column 'k', row 1: a null key"):
            p.send_table(topic, table, key="k")
        with pytest.raises(errors.InvalidRecordError, match="name a key column"):
            p.send_table(topic, table)
        assert p.send_table(topic, table.slice(0, 1), key="k").wait(30).delivered == 1
        assert before.get(30).offset == 0
    got = consume(bootstrap, topic, 1, 4)
    assert [(r.key, r.value) for r in got] == [(b"k1", b"v1"), (b"ka", b"a"), (b"kc", b"c"),
                                                (b"x", b'{"k":"x","n":1}')]
