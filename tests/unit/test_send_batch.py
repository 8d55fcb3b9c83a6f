"""send_batch(): one compiled loop, one BatchResult with counts, a wait and failures by index."""

import sys

import confluent_kafka
import pytest

import fastprod
from fastprod import errors


def test_batch_counts_and_partitions(make_producer):
    p = make_producer()
    n = len(p.partitions_for("t1"))
    keys = [b"k%d" % i for i in range(5000)]
    result = p.send_batch("t1", [b"v%d" % i for i in range(5000)], keys=keys)
    assert result.wait(timeout=30) is result
    assert (result.sent, result.delivered, result.failed, result.pending) == (5000, 5000, 0, 0)
    assert result.done() and len(result) == 5000 and result.failures == []
    assert p.stats()["delivered"] == 5000
    # the same placement as send()
    futures = [p.send("t1", b"v", key=k) for k in keys[:200]]
    p.flush(30)
    assert [f.get().partition for f in futures] == [confluent_kafka.murmur2(k, n) for k in keys[:200]]


def test_batch_with_every_column(make_producer):
    p = make_producer()
    result = p.send_batch("t1", ["a", None, b"c"], keys=[None, "k", b"k"], partitions=[0, 1, None],
                          timestamps_ms=[1, None, 3], headers=[None, [("h", b"v")], {"x": "y"}])
    assert result.wait(30).delivered == 3


def test_batch_failures_name_the_index(make_producer):
    p = make_producer()
    n = len(p.partitions_for("t1"))
    # an out-of-range partition is rejected in send_batch itself
    with pytest.raises(errors.UnknownPartitionError) as info:
        p.send_batch("t1", [b"ok", b"too far", b"ok"], partitions=[0, n, 1])
    assert isinstance(info.value, ValueError)  # what kafka-python's users catch there
    partial = info.value.batch_result
    assert partial.wait(30).sent == 1 and partial.delivered == 1
    assert any("record 1 was not queued" in note for note in info.value.__notes__)


def test_batch_records_failing_delivery_are_listed(make_producer):
    # A partition beyond a topic's count is only caught by send() once the topic's metadata is
    # known; the first record to a new topic goes to librdkafka, which fails it in delivery.
    p = make_producer()
    records = [fastprod.ProducerRecord("t1", b"a"), fastprod.ProducerRecord("new-1", b"b", partition=50),
               fastprod.ProducerRecord("t1", b"c"), fastprod.ProducerRecord("new-2", b"d", partition=50)]
    result = p.send_batch(records).wait(30)
    assert (result.delivered, result.failed) == (2, 2)
    assert result.failed_indices == [1, 3]
    assert all(isinstance(exc, errors.UnknownPartitionError) for _, exc in result.failures)


def test_record_over_message_max_bytes_is_refused_in_send_batch(make_producer):
    p = make_producer(config={"message.max.bytes": 2000})
    with pytest.raises(errors.MessageSizeTooLargeError, match="2000") as info:
        p.send_batch("t1", [b"x" * 10, b"x" * 5000])
    assert info.value.batch_result.wait(30).delivered == 1


def test_batch_argument_errors_queue_nothing(make_producer):
    p = make_producer()
    with pytest.raises(ValueError, match="3 values but 2 keys"):
        p.send_batch("t1", [b"a", b"b", b"c"], keys=[b"a", b"b"])
    with pytest.raises(TypeError, match="sequence"):
        p.send_batch("t1", b"abc")
    with pytest.raises(TypeError, match="sequence"):
        p.send_batch("t1", 42)
    with pytest.raises(TypeError, match="topic"):
        p.send_batch(b"t1", [b"a"])
    assert p.stats()["sent"] == 0


def test_bad_item_midway_keeps_earlier_records(make_producer):
    p = make_producer()
    with pytest.raises(errors.SerializationError) as info:
        p.send_batch("t1", [b"a", b"b", 3, b"d"])
    assert info.value.batch_result.wait(30).delivered == 2
    assert p.stats()["sent"] == 2


def test_empty_batch_is_done(make_producer):
    p = make_producer()
    result = p.send_batch("t1", [])
    assert result.done() and result.sent == 0 and result.wait(0) is result


def test_batch_holds_itself_only_while_records_are_pending(make_producer):
    p = make_producer()
    result = p.send_batch("t1", [b"v"] * 100)
    result.wait(30)
    assert sys.getrefcount(result) == 2  # the local name and getrefcount's argument
    partial = p.send_batch("t1", [b"v"] * 3)
    assert sys.getrefcount(partial) >= 3 or partial.done()  # self-reference while pending


def test_generators_and_tuples_are_accepted(make_producer):
    p = make_producer()
    assert p.send_batch("t1", (b"v%d" % i for i in range(10))).wait(30).delivered == 10
    assert p.send_batch("t1", (b"a", b"b"), partitions=2).wait(30).delivered == 2


def test_on_invalid_report_sends_the_rest_and_lists_the_rejected(make_producer):
    p = make_producer(max_request_size=1000)
    n = len(p.partitions_for("t1"))
    values = [b"a", 12345, b"b", b"x" * 2000, b"c", b"d"]
    partitions = [0, 0, 0, 0, n, 99]
    result = p.send_batch("t1", values, partitions=partitions, on_invalid="report")
    result.wait(30)
    assert (result.sent, result.rejected, result.delivered, result.failed) == (2, 4, 2, 0)
    assert [(i, type(e)) for i, e in result.failures] == [
        (1, errors.SerializationError), (3, errors.MessageSizeTooLargeError),
        (4, errors.UnknownPartitionError), (5, errors.UnknownPartitionError)]
    assert result.failed_indices == [1, 3, 4, 5] and result.done()
    assert p.stats()["sent"] == 2


def test_on_invalid_report_keeps_delivery_failures_at_their_index(make_producer):
    # A partition beyond a new topic fails at delivery (see above); the index must still be the
    # record's own, with rejected records before it.
    p = make_producer()
    records = [fastprod.ProducerRecord("t1", 1.5), "not a record",
               fastprod.ProducerRecord("new-3", b"b", partition=50),
               fastprod.ProducerRecord("t1", b"c")]
    result = p.send_batch(records, on_invalid="report").wait(30)
    assert (result.sent, result.rejected, result.delivered, result.failed) == (2, 2, 1, 1)
    assert [(i, type(e)) for i, e in result.failures] == [
        (0, errors.SerializationError), (1, TypeError), (2, errors.UnknownPartitionError)]


def test_on_invalid_takes_raise_or_report(make_producer):
    p = make_producer()
    with pytest.raises(ValueError, match="on_invalid must be 'raise' or 'report'"):
        p.send_batch("t1", [b"a"], on_invalid="skip")
    with pytest.raises(errors.SerializationError):
        p.send_batch("t1", [b"a", 1], on_invalid="raise")
