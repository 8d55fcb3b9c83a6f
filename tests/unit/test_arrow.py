"""send_batch() reads Arrow binary/string columns straight from their buffers (pyarrow is an
optional dependency: these tests skip without it)."""

import pytest

pa = pytest.importorskip("pyarrow")


@pytest.mark.parametrize("make_array", [
    lambda vs: pa.array(vs, type=pa.binary()),
    lambda vs: pa.array(vs, type=pa.large_binary()),
    lambda vs: pa.array([None if v is None else v.decode() for v in vs], type=pa.string()),
    lambda vs: pa.chunked_array([pa.array(vs[:7], type=pa.binary()), pa.array([], type=pa.binary()),
                                 pa.array(vs[7:], type=pa.binary())]),
    lambda vs: pa.array([b"skip"] + vs, type=pa.binary()).slice(1),
])
def test_send_batch_reads_arrow_columns(make_producer, make_array):
    p = make_producer()
    values = [b"v%d" % i if i % 5 else None for i in range(20)] + [b""]
    keys = pa.array([b"k%d" % i for i in range(21)])
    result = p.send_batch("t1", make_array(values), keys=keys, partitions=0).wait(30)
    assert result.delivered == 21
    sizes = []
    for i, v in enumerate(values):  # sizes as send() reports them for the same records
        sizes.append(p.send("t1", v, key=b"k%d" % i).get(30).serialized_value_size)
    assert sizes == [-1 if v is None else len(v) for v in values]


def test_arrow_columns_of_other_types_are_rejected(make_producer):
    p = make_producer()
    with pytest.raises(TypeError, match="binary or string"):
        p.send_batch("t1", pa.array([1, 2, 3]))
    with pytest.raises(ValueError, match="2 values but 3 keys"):
        p.send_batch("t1", pa.array([b"a", b"b"]), keys=pa.array([b"1", b"2", b"3"]))
