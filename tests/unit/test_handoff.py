"""How the drain thread hands records to librdkafka (mock cluster): runs of records for one
partition through rd_kafka_produce_batch, records with headers or a caller's timestamp one by one
through producev; either way per-partition order is send() order. Timestamps: the integration
suite's test_handoff.py (the mock broker answers with a fixed log-append time)."""

from fastprod import errors


def test_records_with_headers_or_timestamps_never_go_through_produce_batch(make_producer):
    p = make_producer()
    futures = [p.send("t1", b"v%d" % i, headers=[("h", b"x")]) for i in range(300)]
    futures += [p.send("t1", b"w%d" % i, timestamp_ms=1_700_000_000_000 + i) for i in range(300)]
    p.flush(30)
    assert all(f.succeeded() for f in futures)
    assert p.stats()["batched_records"] == 0


def test_mixed_records_keep_send_order_in_every_partition(make_producer):
    p = make_producer()
    sent = []
    for i in range(6000):
        partition = (i // 7) % 4  # runs of 7 records per partition, then the next partition
        if i % 11 == 0:
            f = p.send("t1", b"%d" % i, partition=partition, headers={"i": str(i)})
        elif i % 13 == 0:
            f = p.send("t1", b"%d" % i, partition=partition, timestamp_ms=1_700_000_000_000)
        else:
            f = p.send("t1", b"%d" % i, partition=partition)
        sent.append((partition, f))
    p.flush(30)
    stats = p.stats()
    assert stats["delivered"] == 6000 and stats["failed"] == 0
    # plain records go in runs when the drain thread takes them in their send()'s millisecond,
    # which depends on thread timing (tests/native/engine_tsan.c runs that path for sure)
    assert 0 <= stats["batched_records"] <= 6000 - 6000 // 11 - 6000 // 13 + 6000 // 143
    for partition in range(4):
        offsets = [f.get().offset for q, f in sent if q == partition]
        assert offsets == list(range(offsets[0], offsets[0] + len(offsets)))


def test_a_run_to_a_partition_librdkafka_does_not_know_fails_and_flush_ends(make_producer):
    # Sent before any metadata, send() cannot check the partition; librdkafka fails the records.
    # (With per-message partitions, produce_batch would leak them and flush() never end.)
    p = make_producer()
    futures = [p.send("fresh", b"v") for _ in range(5)]
    futures += [p.send("fresh", b"v", partition=50) for _ in range(50)]
    assert p.flush(30) is None
    assert all(f.succeeded() for f in futures[:5])
    for f in futures[5:]:
        assert isinstance(f.exception(), errors.UnknownPartitionError)
    assert p.stats()["failed"] == 50
