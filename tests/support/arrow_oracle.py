"""The oracle of send_table: docs/tables.md's JSON and MessagePack mappings read backwards, so that
a row's record value (json.loads or msgspec.msgpack.decode of it) can be compared with pyarrow's
own `to_pylist()` of that row,
and hypothesis strategies for random Arrow tables (nested types, nulls at every level, slices,
chunks)."""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
import struct
from typing import Any

import msgspec
import pyarrow as pa
from hypothesis import strategies as st

_UNITS = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}


def _single(x: float) -> float:
    return struct.unpack("f", struct.pack("f", x))[0]


def from_json(x: Any, typ: pa.DataType, fmt: str = "json") -> Any:
    """A decoded JSON (or MessagePack) value of Arrow type typ, in the form pyarrow's to_pylist()
    gives."""
    if x is None:
        return None
    if pa.types.is_dictionary(typ):
        return from_json(x, typ.value_type, fmt)
    if pa.types.is_float32(typ) or pa.types.is_float16(typ):
        return _single(x)
    if pa.types.is_floating(typ):
        assert isinstance(x, float), f"{x!r} is not written as a float"
        return x
    if pa.types.is_binary(typ) or pa.types.is_large_binary(typ) or pa.types.is_fixed_size_binary(
            typ) or pa.types.is_binary_view(typ):
        return base64.b64decode(x, validate=True) if fmt == "json" else x
    if pa.types.is_date(typ):
        return dt.date.fromisoformat(x)
    if pa.types.is_timestamp(typ):
        if isinstance(x, int):  # timestamps="epoch"
            scale = _UNITS[typ.unit] // 1_000_000 or 1
            micros = x // scale if typ.unit == "ns" else x * (1_000_000 // _UNITS[typ.unit])
            base = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc if typ.tz else None)
            return base + dt.timedelta(microseconds=micros)
        assert x.endswith("Z") == bool(typ.tz), x
        return dt.datetime.fromisoformat(x)
    if pa.types.is_time(typ):
        return dt.time.fromisoformat(x)
    if pa.types.is_duration(typ):
        return dt.timedelta(microseconds=x * 1_000_000 // _UNITS[typ.unit])
    if pa.types.is_decimal(typ):
        return decimal.Decimal(x if isinstance(x, str) else repr(x))
    if pa.types.is_map(typ):
        assert isinstance(x, dict)
        key_type = typ.key_type
        keys_are_text = pa.types.is_string(key_type) or pa.types.is_large_string(key_type)
        return [(k if keys_are_text or fmt != "json" else from_json(json.loads(k), key_type),
                 from_json(v, typ.item_type, fmt)) for k, v in x.items()]
    if pa.types.is_struct(typ):
        assert isinstance(x, dict) and list(x) == [f.name for f in typ], x
        return {f.name: from_json(x[f.name], f.type, fmt) for f in typ}
    if (pa.types.is_list(typ) or pa.types.is_large_list(typ) or pa.types.is_fixed_size_list(typ)
            or pa.types.is_list_view(typ) or pa.types.is_large_list_view(typ)):
        return [from_json(item, typ.value_type, fmt) for item in x]
    return x


def expected_from_pylist(x: Any, typ: pa.DataType) -> Any:
    """to_pylist()'s value with float32 rounding made explicit (the JSON carries the shortest
    decimal of the float32, which reads back as a nearby double)."""
    if x is None:
        return None
    if pa.types.is_dictionary(typ):
        return expected_from_pylist(x, typ.value_type)
    if pa.types.is_float32(typ) or pa.types.is_float16(typ):
        return _single(x)
    if pa.types.is_map(typ):
        return [(expected_from_pylist(k, typ.key_type), expected_from_pylist(v, typ.item_type))
                for k, v in x]
    if pa.types.is_struct(typ):
        return {f.name: expected_from_pylist(x[f.name], f.type) for f in typ}
    if (pa.types.is_list(typ) or pa.types.is_large_list(typ) or pa.types.is_fixed_size_list(typ)
            or pa.types.is_list_view(typ) or pa.types.is_large_list_view(typ)):
        return [expected_from_pylist(item, typ.value_type) for item in x]
    return x


def check_rows(table: pa.Table, values: list[bytes | None], columns: list[str] | None = None,
               fmt: str = "json") -> None:
    """Asserts that values (the records' values, in row order) are table's rows as JSON (or
    MessagePack)."""
    columns = columns or table.column_names
    rows = table.select(columns).to_pylist()
    assert len(values) == len(rows)
    schema = table.select(columns).schema
    for i, (value, row) in enumerate(zip(values, rows)):
        assert value is not None
        decoded = json.loads(value) if fmt == "json" else msgspec.msgpack.decode(value)
        assert list(decoded) == columns, (i, decoded)
        for field in schema:
            got = from_json(decoded[field.name], field.type, fmt)
            want = expected_from_pylist(row[field.name], field.type)
            assert got == want, f"row {i} column {field.name} ({field.type}): {got!r} != {want!r}"


# ---- random tables ------------------------------------------------------------------------

_LEAVES = [
    pa.int8(), pa.int16(), pa.int32(), pa.int64(), pa.uint8(), pa.uint16(), pa.uint32(),
    pa.uint64(), pa.float32(), pa.float64(), pa.bool_(), pa.string(), pa.large_string(),
    pa.binary(), pa.large_binary(), pa.binary(3), pa.date32(), pa.date64(),
    pa.timestamp("s"), pa.timestamp("ms", tz="UTC"), pa.timestamp("us"),
    pa.timestamp("us", tz="+05:30"), pa.time32("s"), pa.time32("ms"), pa.time64("us"),
    pa.duration("s"), pa.duration("ms"), pa.duration("us"), pa.decimal128(12, 3),
    pa.decimal128(38, 0), pa.decimal256(50, 10), pa.null(), pa.string_view(),
]

_names = st.text(st.characters(codec="utf-8", exclude_characters="\0"), min_size=1, max_size=6)


def arrow_types(depth: int = 2) -> st.SearchStrategy[pa.DataType]:
    leaves = st.sampled_from(_LEAVES)
    if depth == 0:
        return leaves
    inner = arrow_types(depth - 1)
    return st.one_of(
        leaves, leaves, leaves,
        inner.map(pa.list_), inner.map(pa.large_list), inner.map(lambda t: pa.list_(t, 2)),
        st.lists(st.tuples(_names, inner), min_size=1, max_size=3,
                 unique_by=lambda f: f[0]).map(lambda fs: pa.struct(fs)),
        inner.map(lambda t: pa.map_(pa.string(), t)),
        inner.map(lambda t: pa.map_(pa.int32(), t)),
        st.just(pa.dictionary(pa.int8(), pa.string())),
    )


def _finite(width: int) -> st.SearchStrategy[float]:
    return st.floats(allow_nan=False, allow_infinity=False, width=width)


def values_of(typ: pa.DataType) -> st.SearchStrategy[Any]:
    """Python values pyarrow builds an array of typ from (None included)."""
    if pa.types.is_null(typ):
        return st.none()
    if pa.types.is_dictionary(typ):
        base = st.sampled_from(["a", "bb", "ccc"])
    elif pa.types.is_boolean(typ):
        base = st.booleans()
    elif pa.types.is_integer(typ):
        bits = typ.bit_width
        low, high = (0, 2**bits - 1) if pa.types.is_unsigned_integer(typ) else (
            -(2**(bits - 1)), 2**(bits - 1) - 1)
        base = st.integers(low, high)
    elif pa.types.is_float32(typ):
        base = _finite(32)
    elif pa.types.is_floating(typ):
        base = _finite(64)
    elif pa.types.is_fixed_size_binary(typ):
        base = st.binary(min_size=typ.byte_width, max_size=typ.byte_width)
    elif pa.types.is_binary(typ) or pa.types.is_large_binary(typ):
        base = st.binary(max_size=20)
    elif pa.types.is_string(typ) or pa.types.is_large_string(typ) or pa.types.is_string_view(typ):
        base = st.text(max_size=20)
    elif pa.types.is_date(typ):
        base = st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31))
    elif pa.types.is_timestamp(typ):
        zone = dt.timezone.utc if typ.tz else None
        base = st.datetimes(dt.datetime(1, 1, 2), dt.datetime(9999, 12, 30))
        if typ.unit == "s":
            base = base.map(lambda d: d.replace(microsecond=0))
        elif typ.unit == "ms":
            base = base.map(lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000))
        if zone is not None:
            base = base.map(lambda d: d.replace(tzinfo=zone))
    elif pa.types.is_time(typ):
        base = st.times()
        if typ.unit == "s":
            base = base.map(lambda t: t.replace(microsecond=0))
        elif typ.unit == "ms":
            base = base.map(lambda t: t.replace(microsecond=t.microsecond // 1000 * 1000))
    elif pa.types.is_duration(typ):
        scale = 1_000_000 // _UNITS[typ.unit]
        base = st.integers(-10**11, 10**11).map(lambda n: dt.timedelta(microseconds=n * scale))
    elif pa.types.is_decimal(typ):
        digits = typ.precision
        base = st.integers(-(10**digits - 1), 10**digits - 1).map(
            lambda n: decimal.Decimal(n).scaleb(-typ.scale, decimal.Context(prec=100)))
    elif pa.types.is_fixed_size_list(typ):
        base = st.lists(values_of(typ.value_type), min_size=typ.list_size, max_size=typ.list_size)
    elif pa.types.is_list(typ) or pa.types.is_large_list(typ):
        base = st.lists(values_of(typ.value_type), max_size=3)
    elif pa.types.is_struct(typ):
        base = st.fixed_dictionaries({f.name: values_of(f.type) for f in typ})
    elif pa.types.is_map(typ):
        keys = st.text(max_size=4) if pa.types.is_string(typ.key_type) else st.integers(-100, 100)
        base = st.lists(st.tuples(keys, values_of(typ.item_type)), max_size=3,
                        unique_by=lambda kv: kv[0])
    else:
        raise AssertionError(f"no values for {typ}")
    return st.one_of(st.none(), base)


@st.composite
def arrow_tables(draw: st.DrawFn) -> pa.Table:
    """A table of random columns and rows; sometimes a slice, sometimes in several chunks."""
    types = draw(st.lists(arrow_types(), min_size=1, max_size=5))
    rows = draw(st.integers(0, 8))
    columns = {}
    for k, typ in enumerate(types):
        items = draw(st.lists(values_of(typ), min_size=rows + 2, max_size=rows + 2))
        if pa.types.is_dictionary(typ):
            array = pa.array(items, pa.string()).dictionary_encode()
        else:
            array = pa.array(items, typ)
        columns[f"c{k}"] = array
    table = pa.table(columns)
    start = draw(st.integers(0, 2))
    table = table.slice(start, rows)
    if draw(st.booleans()) and rows > 1:
        cut = draw(st.integers(1, rows - 1))
        table = pa.concat_tables([table.slice(0, cut), table.slice(cut)])
    return table
