"""send_table() against the real broker: every record consumed back equals the documented
mapping of pyarrow's to_pylist() for its row, keys land where send() puts the same key bytes,
and order per partition is the table's."""

import pytest
from hypothesis import HealthCheck, given, settings

pa = pytest.importorskip("pyarrow")

import fastprod  # noqa: E402
from tests.support.arrow_oracle import arrow_tables, check_rows  # noqa: E402
from tests.support.topics import consume, create_topic, unique_topic  # noqa: E402
from tests.unit.test_send_table import EVERY_TYPE  # noqa: E402


def test_every_type_round_trips(bootstrap):
    topic = create_topic(bootstrap, unique_topic("table"), partitions=1)
    with fastprod.Producer(bootstrap_servers=bootstrap) as p:
        result = p.send_table(topic, EVERY_TYPE, key="str", headers=["i64"]).wait(30)
        assert (result.sent, result.delivered, result.failed) == (3, 3, 0)
    got = consume(bootstrap, topic, 1, 3)
    assert len(got) == 3
    check_rows(EVERY_TYPE, [r.value for r in got])
    assert [r.key for r in got] == [None if s is None else s.encode()
                                    for s in EVERY_TYPE.column("str").to_pylist()]
    assert [r.headers for r in got] == [[("i64", None if v is None else str(v).encode())]
                                        for v in EVERY_TYPE.column("i64").to_pylist()]


def test_every_type_round_trips_as_msgpack(bootstrap):
    topic = create_topic(bootstrap, unique_topic("table"), partitions=1)
    with fastprod.Producer(bootstrap_servers=bootstrap) as p:
        assert p.send_table(topic, EVERY_TYPE, value="msgpack").wait(30).delivered == 3
    got = consume(bootstrap, topic, 1, 3)
    check_rows(EVERY_TYPE, [r.value for r in got], fmt="msgpack")


def test_keys_partitions_timestamps_and_order(bootstrap):
    topic = create_topic(bootstrap, unique_topic("table"), partitions=6)
    n = 5_000
    table = pa.table({
        "user": [f"user-{i % 97}" for i in range(n)],
        "seq": list(range(n)),
        "at": pa.array([1_700_000_000_000 + i for i in range(n)], pa.timestamp("ms")),
        "score": [i / 7 for i in range(n)],
        "tags": [[f"t{i % 3}"] * (i % 4) for i in range(n)],
    })
    with fastprod.Producer(bootstrap_servers=bootstrap) as p:
        result = p.send_table(topic, table.to_reader(max_chunksize=700), key="user",
                              timestamp="at").wait(60)
        assert (result.sent, result.delivered, result.failed) == (n, n, 0)
        placed = {f"user-{u}".encode(): p.send(topic, b"probe", key=f"user-{u}".encode()).get(30)
                  .partition for u in range(97)}
    got = [r for r in consume(bootstrap, topic, 6, n + 97) if r.value != b"probe"]
    assert len(got) == n
    by_seq = sorted(got, key=lambda r: int(r.value.split(b'"seq":')[1].split(b",")[0]))
    check_rows(table, [r.value for r in by_seq])
    for i, record in enumerate(by_seq):
        assert record.key == f"user-{i % 97}".encode()
        assert record.partition == placed[record.key]
        assert record.timestamp == 1_700_000_000_000 + i
    seq_of = {id(r): i for i, r in enumerate(by_seq)}
    for part in range(6):  # each partition holds its rows in table order
        seqs = [seq_of[id(r)] for r in sorted((r for r in got if r.partition == part),
                                              key=lambda r: r.offset)]
        assert len(seqs) > 0 and seqs == sorted(seqs)


def test_random_tables_round_trip(bootstrap):
    topic = create_topic(bootstrap, unique_topic("table"), partitions=1)
    sent = []
    with fastprod.Producer(bootstrap_servers=bootstrap) as p:

        @settings(max_examples=40, deadline=None, database=None,
                  suppress_health_check=[HealthCheck.too_slow,
                                         HealthCheck.function_scoped_fixture])
        @given(arrow_tables())
        def send(table):
            p.send_table(topic, table).wait(30)
            sent.append(table)

        send()
    total = sum(t.num_rows for t in sent)
    got = consume(bootstrap, topic, 1, total)
    assert len(got) == total
    at = 0
    for table in sent:
        check_rows(table, [r.value for r in got[at:at + table.num_rows]])
        at += table.num_rows
