"""send_table(): Arrow rows encoded in C. The encoding is checked row by row against pyarrow's own
to_pylist() through the documented mapping (tests/support/arrow_oracle.py), for every type and for
random tables; records go through librdkafka's mock cluster and are consumed back."""

import base64
import datetime as dt
import decimal
import json
import math
import random
import struct

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pa = pytest.importorskip("pyarrow")

import fastprod  # noqa: E402
from fastprod import _core, errors  # noqa: E402
from tests.support.arrow_oracle import arrow_tables, check_rows  # noqa: E402
from tests.support.mock_cluster import MockCluster  # noqa: E402
from tests.support.topics import consume  # noqa: E402

EVERY_TYPE = pa.table({
    "i8": pa.array([-128, 127, None], pa.int8()),
    "i64": pa.array([-2**63, 2**63 - 1, None], pa.int64()),
    "u64": pa.array([0, 2**64 - 1, None], pa.uint64()),
    "f16": pa.array([1.5, -0.0, None], pa.float16()),
    "f32": pa.array([0.1, 3.4e38, None], pa.float32()),
    "f64": pa.array([0.1, 1e16, 5e-324], pa.float64()),
    "whole": pa.array([1.0, -2.0, 0.0], pa.float64()),
    "bool": [True, False, None],
    "str": ["plain", 'quote " back \\ \n\t\x01 ü 😀', None],
    "large_str": pa.array(["a", "", None], pa.large_string()),
    "view": pa.array(["short", "a string longer than twelve bytes", None], pa.string_view()),
    "bin": pa.array([b"\x00\xff", b"", None], pa.binary()),
    "large_bin": pa.array([b"abc", b"abcd", None], pa.large_binary()),
    "bin_view": pa.array([b"x" * 20, b"y", None], pa.binary_view()),
    "fixed": pa.array([b"abc", b"\x00\x01\x02", None], pa.binary(3)),
    "date32": pa.array([dt.date(2024, 2, 29), dt.date(1, 1, 1), dt.date(9999, 12, 31)]),
    "date64": pa.array([dt.date(1969, 12, 31), dt.date(1970, 1, 1), None], pa.date64()),
    "ts_s": pa.array([dt.datetime(1969, 12, 31, 23, 59, 59), None, dt.datetime(2000, 1, 1)],
                     pa.timestamp("s")),
    "ts_ms_utc": pa.array([dt.datetime(2023, 11, 14, 22, 13, 20, 123000, dt.timezone.utc), None,
                           dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)],
                          pa.timestamp("ms", tz="UTC")),
    "ts_us_zone": pa.array([dt.datetime(2024, 6, 1, 12, 0, 0, 1, dt.timezone.utc), None, None],
                           pa.timestamp("us", tz="Europe/Paris")),
    "t32s": pa.array([dt.time(0, 0, 0), dt.time(23, 59, 59), None], pa.time32("s")),
    "t32ms": pa.array([dt.time(12, 30, 1, 5000), None, None], pa.time32("ms")),
    "t64us": pa.array([dt.time(1, 2, 3, 456789), None, None], pa.time64("us")),
    "dur_s": pa.array([dt.timedelta(seconds=-5), dt.timedelta(days=3), None], pa.duration("s")),
    "dur_us": pa.array([dt.timedelta(microseconds=7), None, None], pa.duration("us")),
    "dec": pa.array([decimal.Decimal("1.230"), decimal.Decimal("-0.005"), None],
                    pa.decimal128(10, 3)),
    "dec_big": pa.array([decimal.Decimal("-" + "9" * 40 + ".5"), decimal.Decimal("0.0"), None],
                        pa.decimal256(60, 1)),
    "dec_neg_scale": pa.array([decimal.Decimal("12300"), decimal.Decimal("0"), None],
                              pa.decimal128(5, -2)),
    "dict": pa.array(["u", "v", None]).dictionary_encode(),
    "list": pa.array([[1, None, 3], [], None], pa.list_(pa.int32())),
    "large_list": pa.array([["a"], None, ["b", "c"]], pa.large_list(pa.string())),
    "fixed_list": pa.array([[1.5, 2.5], None, [None, 0.0]], pa.list_(pa.float64(), 2)),
    "list_view": pa.array([[1, 2], None, []], pa.list_view(pa.int64())),
    "struct": pa.array([{"a": 1, "b": {"c": "x"}}, None, {"a": None, "b": None}],
                       pa.struct([("a", pa.int16()), ("b", pa.struct([("c", pa.string())]))])),
    "map": pa.array([[("k", 1), ("j", None)], [], None], pa.map_(pa.string(), pa.int64())),
    "int_map": pa.array([[(1, "one"), (-2, "minus two")], None, []], pa.map_(pa.int32(), pa.string())),
    "null": pa.array([None, None, None], pa.null()),
})


def test_every_type_matches_the_documented_mapping():
    rows = _core._table_rows(EVERY_TYPE)
    check_rows(EVERY_TYPE, [value for _, value, _, _, _ in rows])


def test_every_type_as_msgpack_matches_the_documented_mapping():
    rows = _core._table_rows(EVERY_TYPE, value="msgpack")
    check_rows(EVERY_TYPE, [value for _, value, _, _, _ in rows], fmt="msgpack")
    nan = _core._table_rows(pa.table({"x": [math.nan, -math.inf, 1.5]}), value="msgpack")
    decoded = [msgspec.msgpack.decode(v)["x"] for _, v, _, _, _ in nan]
    assert math.isnan(decoded[0]) and decoded[1:] == [-math.inf, 1.5]
    ints = pa.table({"i": pa.array([0, 127, 128, -32, -33, 255, 65535, 65536, -2**31, -2**63,
                                    2**32, 2**63 - 1], pa.int64())})
    assert [msgspec.msgpack.decode(v)["i"] for _, v, _, _, _ in
            _core._table_rows(ints, value="msgpack")] == ints.column("i").to_pylist()
    assert _core._table_rows(ints.slice(0, 1), value="msgpack")[0][1] == b"\x81\xa1i\x00"


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(arrow_tables())
def test_random_tables_as_msgpack_match_to_pylist(table):
    rows = _core._table_rows(table, value="msgpack")
    check_rows(table, [value for _, value, _, _, _ in rows], fmt="msgpack")


def test_json_text_is_compact_and_exact():
    rows = _core._table_rows(EVERY_TYPE.select(["f64", "whole", "ts_ms_utc", "dec", "bin", "str"]))
    assert rows[0][1] == (
        b'{"f64":0.1,"whole":1.0,"ts_ms_utc":"2023-11-14T22:13:20.123Z","dec":"1.230",'
        b'"bin":"AP8=","str":"plain"}')
    assert json.loads(rows[1][1])["str"] == 'quote " back \\ \n\t\x01 ü 😀'
    ns = pa.table({"ts": pa.array([1_700_000_000_123_456_789, -1], pa.timestamp("ns"))})
    assert [json.loads(r[1])["ts"] for r in _core._table_rows(ns)] == [
        "2023-11-14T22:13:20.123456789", "1969-12-31T23:59:59.999999999"]
    assert [json.loads(r[1])["ts"] for r in _core._table_rows(ns, timestamps="epoch")] == [
        1_700_000_000_123_456_789, -1]


def _float_texts(values, kind):
    rows = _core._table_rows(pa.table({"x": pa.array(values, kind)}))
    return [value[5:-1].decode() for _, value, _, _, _ in rows]


@given(st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=1, max_size=50))
def test_doubles_read_back_exactly(values):
    assert [float(text) for text in _float_texts(values, pa.float64())] == values


@given(st.lists(st.floats(allow_nan=False, allow_infinity=False, width=32), min_size=1,
                max_size=50))
def test_floats_read_back_as_the_same_float32(values):
    single = [struct.unpack("f", struct.pack("f", float(t)))[0]
              for t in _float_texts(values, pa.float32())]
    assert single == values


def test_integers_at_every_digit_count():
    values = [0, 1, 9, 10, 99, 100] + [10**k - 1 for k in range(2, 19)] + [10**k for k in
                                                                          range(2, 19)]
    values += [-v for v in values] + [2**63 - 1, -2**63]
    rows = _core._table_rows(pa.table({"i": pa.array(values, pa.int64()),
                                       "u": pa.array([abs(v) for v in values[:-1]] + [2**64 - 1],
                                                     pa.uint64())}))
    assert [json.loads(v)["i"] for _, v, _, _, _ in rows] == values
    assert [json.loads(v)["u"] for _, v, _, _, _ in rows] == [abs(v) for v in values[:-1]] + [
        2**64 - 1]


def test_doubles_are_written_as_python_repr_writes_them_nearly_always():
    rng = random.Random(7)
    values = [struct.unpack("d", struct.pack("Q", rng.getrandbits(64)))[0] for _ in range(50_000)]
    values = [v for v in values if math.isfinite(v)] + [rng.random() * 10 ** rng.randint(-30, 30)
                                                         for _ in range(50_000)]
    values += [0.1, 1e16, 1e15, 1e-5, 1e-4, 5e-324, 1.7976931348623157e308, 2.0**53, -0.0, 1e23]
    texts = _float_texts(values, pa.float64())
    assert all(float(t) == v for t, v in zip(texts, values))
    differ = [(t, repr(v)) for t, v in zip(texts, values) if t != repr(v)]
    # Grisu2: where it cannot prove the shortest digits it writes 17; never fewer than repr
    assert all(len(t) >= len(r) for t, r in differ), differ[:5]
    assert len(differ) < len(values) // 100, len(differ)
    assert texts[-10:-1] == ["0.1", "1e+16", "1000000000000000.0", "1e-05", "0.0001", "5e-324",
                             "1.7976931348623157e+308", "9007199254740992.0", "-0.0"]
    assert texts[-1] == "9.999999999999999e+22"  # 1e23, one of the longer ones (repr: 1e+23)


def test_options_for_values_without_one_json_form():
    table = pa.table({"x": [1.0, math.nan, -math.inf],
                      "d": pa.array([decimal.Decimal("1.50")] * 3, pa.decimal128(4, 2))})
    with pytest.raises(errors.SerializationError, match=r"column 'x', row 1: NaN has no JSON form"):
        _core._table_rows(table)
    rows = _core._table_rows(table, nan="null", decimals="number")
    assert [json.loads(r[1], parse_float=decimal.Decimal) for r in rows] == [
        {"x": 1, "d": decimal.Decimal("1.50")}, {"x": None, "d": decimal.Decimal("1.50")},
        {"x": None, "d": decimal.Decimal("1.50")}]
    with pytest.raises(ValueError, match="send_table nan must be one of 'error', 'null'"):
        fastprod.Producer.send_table(None, "t", table, nan="skip")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(arrow_tables())
def test_random_tables_match_to_pylist(table):
    rows = _core._table_rows(table)
    check_rows(table, [value for _, value, _, _, _ in rows])
    assert _core._table_rows(table, slice_rows=3) == rows  # large batches go in slices


def test_a_large_batch_is_checked_whole_before_its_first_slice_is_queued(make_producer):
    table = pa.table({"x": [float(i) for i in range(10)]})
    bad = table.set_column(0, "x", pa.array([1.0] * 7 + [math.nan] + [1.0] * 2))
    with pytest.raises(errors.SerializationError,
                       match=r"row 7: NaN .* no row of its record batch \(rows 0..9\) was queued"):
        _core._table_rows(bad, slice_rows=3)
    p = make_producer()
    n = 70_000  # more than one slice of send_table's
    big = pa.table({"x": pa.array([1.5] * (n - 1) + [math.inf])})
    with pytest.raises(errors.SerializationError, match=f"row {n - 1}: Infinity") as raised:
        p.send_table("t", big)
    assert raised.value.batch_result.sent == 0
    result = p.send_table("t", big, nan="null").wait(60)
    assert (result.sent, result.delivered) == (n, n)


def test_key_timestamp_partition_and_header_columns():
    table = pa.table({
        "id": pa.array([7, None, 9], pa.int64()),
        "name": ["a", "b", None],
        "at": pa.array([1_000, None, 2_500_000], pa.timestamp("us")),
        "p": pa.array([2, None, 0], pa.int8()),
        "payload": [b"raw", None, b""],
    })
    rows = _core._table_rows(table, value="raw:payload", key="id", timestamp="at", partition="p",
                             headers={"who": "name", "n": "id"})
    assert rows == [
        (b"7", b"raw", 1, 2, [("who", b"a"), ("n", b"7")]),
        (None, None, None, None, [("who", b"b"), ("n", None)]),
        (b"9", b"", 2500, 0, [("who", None), ("n", b"9")]),
    ]
    composite = _core._table_rows(table, key=["id", "name"], columns=["name"])
    assert [(k, v) for k, v, _, _, _ in composite] == [
        (b'{"id":7,"name":"a"}', b'{"name":"a"}'), (b'{"id":null,"name":"b"}', b'{"name":"b"}'),
        (b'{"id":9,"name":null}', b'{"name":null}')]


def test_bad_requests_name_the_column():
    table = pa.table({"a": [1], "b": ["x"]})
    with pytest.raises(ValueError, match=r"send_table key: the table has no column 'c' \(its "
                                         r"columns: a, b\)"):
        _core._table_rows(table, key="c")
    with pytest.raises(ValueError, match="value must be 'json', 'msgpack' or 'raw:COLUMN'"):
        _core._table_rows(table, value="avro")
    with pytest.raises(TypeError, match="columns= with value='json' or 'msgpack' only"):
        _core._table_rows(table, value="raw:b", columns=["a"])
    with pytest.raises(errors.SerializationError,
                       match=r"column 'b', row 0: is not an integer, timestamp or date column"):
        _core._table_rows(table, partition="b")
    with pytest.raises(errors.SerializationError, match=r"column 'a', row 1: partition -1"):
        _core._table_rows(pa.table({"a": [1, -1]}), partition="a")
    union = pa.UnionArray.from_sparse(pa.array([0, 1], pa.int8()),
                                      [pa.array([1, 2]), pa.array(["a", "b"])])
    with pytest.raises(TypeError, match=r"column u: Arrow type '\+us:0,1' cannot be encoded"):
        _core._table_rows(pa.table({"u": union}))
    with pytest.raises(TypeError, match="needs Arrow data"):
        _core._table_rows([{"a": 1}])
    with pytest.raises(TypeError, match="needs a table"):
        _core._table_rows(pa.array([1, 2]))


def test_a_bad_row_stops_its_batch_before_any_row_of_it_is_queued(make_producer):
    p = make_producer()
    good = pa.record_batch({"x": [1.0, 2.0]})
    bad = pa.record_batch({"x": [3.0, math.nan, 5.0]})
    reader = pa.RecordBatchReader.from_batches(good.schema, [good, bad, good])
    with pytest.raises(errors.SerializationError, match=r"row 3: NaN") as raised:
        p.send_table("t", reader)
    result = raised.value.batch_result
    assert "rows 0..1 were queued" in str(raised.value.__notes__)
    assert result.wait(30).sent == result.delivered == 2


def test_streams_and_exports_of_every_kind_round_trip():
    cluster = MockCluster()
    try:
        p = fastprod.Producer(bootstrap_servers=cluster.bootstrap, partitioner="murmur2")
        table = pa.table({"k": [f"key{i}" for i in range(300)], "v": list(range(300)),
                          "s": [{"n": i} if i % 3 else None for i in range(300)]})
        sources = [table, table.to_batches(max_chunksize=70)[1], pa.RecordBatchReader.from_batches(
            table.schema, table.to_batches(max_chunksize=64)), table.slice(5, 100)]
        for n, source in enumerate(sources):
            result = p.send_table(f"tbl{n}", source, key="k").wait(30)
            assert result.delivered == result.sent == source.num_rows if hasattr(
                source, "num_rows") else True
        sent_keyed = p.send("tbl-send", b"x", key=b"key42").get(30)
        p.close(30)
        for n, source in enumerate(sources):
            expected = source.read_all() if isinstance(source, pa.RecordBatchReader) else source
            if isinstance(source, pa.RecordBatchReader):
                expected = table  # read by send_table already: the whole table went
            got = consume(cluster.bootstrap, f"tbl{n}", 4, expected.num_rows, timeout_s=30)
            by_key = {r.key: r for r in got}
            assert len(got) == len(by_key) == expected.num_rows
            ordered = [by_key[k.encode()] for k in expected.column("k").to_pylist()]
            check_rows(expected, [r.value for r in ordered])
            # the partition is the one send() gives the same key bytes
            if b"key42" in by_key:
                assert by_key[b"key42"].partition == sent_keyed.partition
            for part in {r.partition for r in got}:  # per partition, the table's order
                offsets = [r.offset for r in ordered if r.partition == part]
                assert offsets == sorted(offsets)
    finally:
        cluster.close()


def _polars():
    pl = pytest.importorskip("polars")
    return pl.DataFrame({"id": [1, 2, None], "name": ["a", None, "ü"], "tags": [["x"], [], None],
                         "at": [dt.datetime(2024, 1, 1, 12), None, dt.datetime(1999, 1, 1)],
                         "point": [{"x": 1.5}, None, {"x": None}],
                         "kind": pl.Series(["u", "v", "u"], dtype=pl.Categorical),
                         "day": [dt.date(2024, 1, 2), None, None]})


def _pandas():
    pd = pytest.importorskip("pandas")
    return pd.DataFrame({"id": [1, 2, 3], "name": ["x", "y", None], "f": [0.5, 1.25, -2.0],
                         "at": pd.to_datetime(["2024-01-01", "2024-06-01 12:00:01.5", None],
                                              format="ISO8601")})


def _duckdb():
    duckdb = pytest.importorskip("duckdb")
    return duckdb.sql("select range as id, 'row ' || range as name, [range, range + 1] as l, "
                      "{'k': range} as st, DATE '2024-01-01' + range::INT as day, "
                      "1.25::DECIMAL(10, 2) as amount from range(5)")


@pytest.mark.parametrize("make", [_polars, _pandas, _duckdb], ids=["polars", "pandas", "duckdb"])
def test_data_of_other_libraries_through_the_pycapsule_interface(make):
    data = make()
    rows = _core._table_rows(data, key="name")
    table = pa.table(make())  # pyarrow's reading of the same export is the oracle
    check_rows(table, [value for _, value, _, _, _ in rows])
    assert [key for key, _, _, _, _ in rows] == [
        None if n is None else n.encode() for n in table.column("name").to_pylist()]


def test_arrays_datasets_and_consumed_streams(tmp_path):
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    table = pa.table({"n": list(range(10)), "s": [str(i) for i in range(10)]})

    class OnlyArray:  # a producer of __arrow_c_array__ alone: one record batch
        def __arrow_c_array__(self, requested_schema=None):
            return table.to_batches()[0].__arrow_c_array__(requested_schema)

    check_rows(table, [v for _, v, _, _, _ in _core._table_rows(OnlyArray())])
    pq.write_table(table.slice(0, 4), tmp_path / "a.parquet")
    pq.write_table(table.slice(4), tmp_path / "b.parquet")
    check_rows(table, [v for _, v, _, _, _ in _core._table_rows(ds.dataset(tmp_path))])
    reader = table.to_reader()
    assert len(_core._table_rows(reader)) == 10
    assert _core._table_rows(reader) == []  # a consumed reader: pyarrow exports an empty stream


def test_a_long_stream_reports_each_row_by_its_number_in_the_table():
    """Rows of many Arrow batches, some delivered and the rest purged: outcomes come back by row
    number across the batches (their entries are freed as each batch resolves)."""
    cluster = MockCluster()
    p = fastprod.Producer(cluster.bootstrap, linger_ms=0, config={"log_level": 0})
    try:
        p.send("t", b"warm-up", partition=0).get(30)
        table = pa.table({"n": list(range(40_000))})
        first = p.send_table("t", table.to_reader(max_chunksize=1_000), partition=None).wait(60)
        assert (first.sent, first.delivered, first.failed) == (40_000, 40_000, 0)
        cluster.set_rtt(1, 10_000)  # answers held 10 s: what follows stays pending
        result = p.send_table("t", table.to_reader(max_chunksize=700))
        p.purge(in_queue=True, in_flight=True)
        result.wait(30)
        assert result.sent == 40_000 and result.delivered + result.failed == 40_000
        assert result.failed > 0 and len(result.failed_indices) == result.failed
        assert result.failed_indices == sorted(set(result.failed_indices))
        assert all(0 <= i < 40_000 for i in result.failed_indices)
        assert {type(e) for _, e in result.failures} <= {errors.PurgeQueueError,
                                                         errors.PurgeInflightError}
    finally:
        p.close(0)
        cluster.close()


def test_binary_and_text_keys_go_as_they_are():
    table = pa.table({"k": pa.array([b"\x00raw", None], pa.binary()), "v": [1, 2]})
    assert [r[0] for r in _core._table_rows(table, key="k")] == [b"\x00raw", None]
    b64 = json.loads(_core._table_rows(table)[0][1])["k"]
    assert base64.b64decode(b64) == b"\x00raw"
