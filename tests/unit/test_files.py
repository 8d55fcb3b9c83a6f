"""fastprod.files: which files `fastprod produce --file` reads, and as what."""

import pytest

from fastprod import files


def test_globs_expand_sorted_and_missing_paths_raise(tmp_path):
    for name in ("b.parquet", "a.parquet", "c.csv"):
        (tmp_path / name).write_bytes(b"")
    assert files.expand([str(tmp_path / "*.parquet")]) == [str(tmp_path / "a.parquet"),
                                                           str(tmp_path / "b.parquet")]
    with pytest.raises(FileNotFoundError, match="No file matches"):
        files.expand([str(tmp_path / "*.avro")])
    with pytest.raises(FileNotFoundError, match="No such file"):
        files.expand([str(tmp_path / "gone.parquet")])


def test_formats_come_from_the_endings_directories_walked(tmp_path):
    (tmp_path / "d" / "sub").mkdir(parents=True)
    (tmp_path / "d" / "x.parquet").write_bytes(b"")
    (tmp_path / "d" / "sub" / "y.PQ").write_bytes(b"")
    (tmp_path / "d" / "_SUCCESS").write_bytes(b"")  # skipped, as pyarrow.dataset skips it
    (tmp_path / "d" / ".hidden.csv").write_bytes(b"")
    assert files.detect_format([str(tmp_path / "d")]) == "parquet"
    (tmp_path / "e.feather").write_bytes(b"")
    assert files.detect_format([str(tmp_path / "e.feather")]) == "ipc"
    (tmp_path / "notes.txt").write_bytes(b"")
    assert files.detect_format([str(tmp_path / "notes.txt")]) is None
    with pytest.raises(ValueError, match="several formats"):
        files.detect_format([str(tmp_path / "d"), str(tmp_path / "e.feather")])
