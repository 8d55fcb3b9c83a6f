"""Partitioning in send(): Java's murmur2, keyless stickiness, round robin, xxhash, callables,
explicit partitions and partitions the topic lacks."""

import collections
import random

import confluent_kafka
import pytest
import xxhash

from fastprod import _core, errors

KAFKA_VECTORS = {b"21": -973932308, b"foobar": -790332482, b"a-little-bit-long-string": -985981536,
                 b"a-little-bit-longer-string": -1486304829,
                 b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8": -58897971,
                 b"abc": 479470107}


def test_murmur2_matches_kafka_vectors():
    assert {k: _core.murmur2(k) for k in KAFKA_VECTORS} == KAFKA_VECTORS


def test_murmur2_partition_matches_confluent_for_random_keys():
    rng = random.Random(7)
    keys = [rng.randbytes(rng.randrange(0, 64)) for _ in range(5000)]
    for n in (1, 3, 6, 7, 100):
        assert [(_core.murmur2(k) & 0x7FFFFFFF) % n for k in keys] == \
            [confluent_kafka.murmur2(k, n) for k in keys]


def test_xxh3_matches_xxhash_package():
    rng = random.Random(3)
    for size in [0, 1, 3, 4, 8, 9, 16, 17, 128, 129, 240, 241, 1000, 5000]:
        data = rng.randbytes(size)
        assert _core.xxh3_64(data) == xxhash.xxh3_64_intdigest(data)


def partitions_of(futures, producer):
    producer.flush(30)
    return [f.get().partition for f in futures]


def test_keyed_records_go_where_java_puts_them(make_producer):
    p = make_producer()
    n = len(p.partitions_for("t1"))
    keys = [b"key-%d" % i for i in range(3000)]
    got = partitions_of([p.send("t1", b"v", key=k) for k in keys], p)
    assert got == [confluent_kafka.murmur2(k, n) for k in keys]
    assert len(set(got)) == n


def test_str_keys_hash_as_utf8(make_producer):
    p = make_producer()
    n = len(p.partitions_for("t1"))
    keys = ["ключ-%d" % i for i in range(200)]
    got = partitions_of([p.send("t1", b"v", key=k) for k in keys], p)
    assert got == [confluent_kafka.murmur2(k.encode(), n) for k in keys]


def test_keyless_records_stick_for_a_batch_then_spread_evenly(make_producer):
    p = make_producer(batch_size=1000)
    n = len(p.partitions_for("t1"))
    got = partitions_of([p.send("t1", b"x" * 100) for _ in range(400 * n)], p)
    runs = [len(list(group)) for _, group in __import__("itertools").groupby(got)]
    assert set(runs[:-1]) == {10}  # 10 records of 100 B fill a 1000-byte batch
    counts = collections.Counter(got)
    assert sorted(counts) == list(range(n))
    assert max(counts.values()) - min(counts.values()) <= 10


def test_round_robin_cycles_through_partitions_ignoring_keys(make_producer):
    p = make_producer(partitioner="round_robin")
    n = len(p.partitions_for("t1"))
    got = partitions_of([p.send("t1", b"v", key=b"same") for _ in range(8 * n)], p)
    assert all((b - a) % n == 1 for a, b in zip(got, got[1:]))


def test_xxhash_partitioner(make_producer):
    p = make_producer(partitioner="xxhash")
    n = len(p.partitions_for("t1"))
    keys = [b"k%d" % i for i in range(500)]
    got = partitions_of([p.send("t1", b"v", key=k) for k in keys], p)
    assert got == [xxhash.xxh3_64_intdigest(k) % n for k in keys]


def test_callable_partitioner_gets_key_bytes_and_partition_tuples(make_producer):
    calls = []

    def choose(key, all_partitions, available):
        calls.append((key, all_partitions, available))
        return len(all_partitions) - 1

    p = make_producer(partitioner=choose)
    n = len(p.partitions_for("t1"))
    got = partitions_of([p.send("t1", b"v", key="k1"), p.send("t1", b"v")], p)
    assert got == [n - 1, n - 1]
    assert calls[0] == (b"k1", tuple(range(n)), tuple(range(n)))
    assert calls[1][0] is None


def test_callable_partitioner_errors_reject_the_record(make_producer):
    def bad(key, all_partitions, available):
        if key == b"boom":
            raise KeyError("boom")
        return 999 if key == b"far" else 0

    p = make_producer(partitioner=bad)
    with pytest.raises(KeyError):
        p.send("t1", b"v", key=b"boom")
    with pytest.raises(ValueError, match="999"):
        p.send("t1", b"v", key=b"far")
    assert p.stats()["sent"] == 0
    assert p.send("t1", b"v", key=b"ok").get(timeout=30).partition == 0


def test_explicit_partition(make_producer):
    p = make_producer()
    futures = [p.send("t1", b"v", partition=i % 4) for i in range(40)]
    p.flush(30)
    assert [f.get().partition for f in futures] == [i % 4 for i in range(40)]


def test_explicit_partition_wins_over_partitioner(make_producer):
    p = make_producer(partitioner="round_robin")
    got = partitions_of([p.send("t1", b"v", key=b"k", partition=2) for _ in range(10)], p)
    assert got == [2] * 10


def test_partition_beyond_known_topic_is_rejected_in_send(make_producer):
    p = make_producer()
    n = len(p.partitions_for("t1"))
    with pytest.raises(errors.UnknownPartitionError, match=f"has {n} partitions"):
        p.send("t1", b"v", partition=n)
    with pytest.raises(ValueError):  # kafka-python's users catch this there
        p.send("t1", b"v", partition=n)
    assert p.stats()["sent"] == 0
    assert p.send("t1", b"v", partition=n - 1).get(timeout=30).partition == n - 1


def test_partition_beyond_topic_fails_the_future(make_producer):
    # the topic's metadata is not known yet at the first send: librdkafka fails it in delivery
    p = make_producer()
    exc = p.send("t1", b"v", partition=40).exception(timeout=30)
    assert isinstance(exc, errors.UnknownPartitionError)


def test_unknown_partitioner_name_is_config_error(make_producer):
    with pytest.raises(errors.ConfigError, match="round_robin"):
        make_producer(partitioner="crc")


@pytest.mark.parametrize("name", ["consistent_random", "fnv1a_random"])
def test_librdkafka_partitioners_are_delegated(make_producer, name):
    p = make_producer(partitioner=name)
    assert p.send("t1", b"v", key=b"k").get(timeout=30).partition >= 0
