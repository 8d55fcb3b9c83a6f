"""send() on librdkafka's in-process mock cluster: the RecordMetadata it resolves to (sizes of
null, empty, UTF-8 and buffer keys and values), per-partition order, headers, and stats()."""

from fastprod.records import RecordMetadata, TimestampType, TopicPartition


def test_send_returns_metadata(make_producer):
    p = make_producer()
    md = p.send("t1", b"value", key=b"key", headers=[("h", b"v")]).get(timeout=30)
    assert isinstance(md, RecordMetadata)
    assert (md.topic, md.offset, md.serialized_key_size, md.serialized_value_size) == ("t1", 0, 3, 5)
    assert md.timestamp_type in (TimestampType.CREATE_TIME, TimestampType.LOG_APPEND_TIME)
    # built in C, still the namedtuple: unpacking, indexing, _asdict, _replace, equality
    assert type(md) is RecordMetadata and len(md) == 8 and md[0] == "t1"
    topic, partition, offset, timestamp, ts_type, key_size, value_size, header_size = md
    assert md == RecordMetadata(topic, partition, offset, timestamp, ts_type, 3, 5, 2)
    assert md._asdict()["serialized_value_size"] == 5 and md._replace(offset=7).offset == 7
    assert hash(md) == hash(tuple(md))


def test_kafka_python_fields(make_producer):
    # kafka-python: header names (UTF-8) and values summed, -1 without headers; checksum None
    p = make_producer()
    md = p.send("t1", b"v", headers=[("header-key", b"header-value"), ("ü", None)]).get(30)
    assert md.serialized_header_size == 10 + 12 + 2
    assert md.topic_partition == TopicPartition("t1", md.partition) == ("t1", md.partition)
    assert md.checksum is None
    assert p.send("t1", b"v").get(30).serialized_header_size == -1
    assert p.send("t1", b"v", headers={"k": "vé"}).get(30).serialized_header_size == 4


def test_null_key_and_value_sizes(make_producer):
    p = make_producer()
    md = p.send("t1", None).get(timeout=30)
    assert (md.serialized_key_size, md.serialized_value_size) == (-1, -1)
    md = p.send("t1", "", key="").get(timeout=30)
    assert (md.serialized_key_size, md.serialized_value_size) == (0, 0)


def test_str_is_utf8(make_producer):
    p = make_producer()
    md = p.send("t1", "héllo", key="ü").get(timeout=30)
    assert (md.serialized_key_size, md.serialized_value_size) == (2, 6)


def test_buffer_objects_are_copied_at_send(make_producer):
    p = make_producer()
    data = bytearray(b"abc")
    f = p.send("t1", data, key=memoryview(b"kk"))
    data[:] = b"xyz"
    md = f.get(timeout=30)
    assert (md.serialized_key_size, md.serialized_value_size) == (2, 3)


def test_offsets_follow_send_order_per_partition(make_producer):
    p = make_producer()
    futures = [p.send("t1", b"%d" % i, partition=1) for i in range(2000)]
    p.flush(30)
    assert [f.get().offset for f in futures] == list(range(2000))


def test_headers_as_dict_and_null_values(make_producer):
    p = make_producer()
    p.send("t1", b"v", headers={"a": b"1", "b": None, "c": "str"}).get(timeout=30)
    p.flush(10)
    assert p._held_bytes() == 0


def test_stats_count_sent_delivered_failed(make_producer):
    p = make_producer()
    for i in range(30):
        # the first record to a new topic is not checked against its partition count (no
        # metadata yet): librdkafka fails it in delivery
        p.send("t1", b"v") if i % 3 else p.send(f"new-{i}", b"v", partition=50)
    p.flush(30)
    stats = p.stats()
    batched = stats.pop("batched_records")
    assert stats == {"sent": 30, "delivered": 20, "failed": 10, "buffered_bytes": 0,
                     "queue_full_retries": 0}
    assert 0 <= batched <= 30  # how many went in runs depends on the drain thread's timing
