"""Files as Arrow datasets, for ``fastprod produce --file`` (and jobs that want the same): Parquet,
CSV, JSON lines and Arrow IPC/Feather files, globs and directories, read by ``pyarrow.dataset``
batch by batch, with only the needed columns."""

from __future__ import annotations

import glob
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

# File name endings and the pyarrow.dataset format that reads them.
FORMATS = {
    ".parquet": "parquet", ".pq": "parquet",
    ".csv": "csv",
    ".jsonl": "json", ".ndjson": "json", ".json": "json",
    ".arrow": "ipc", ".feather": "ipc", ".ipc": "ipc",
}
# The --format names users give, to pyarrow.dataset's.
FORMAT_NAMES = {"parquet": "parquet", "csv": "csv", "json": "json", "arrow": "ipc"}
BATCH_ROWS = 65_536


def expand(paths: Sequence[str]) -> list[str]:
    """paths with glob patterns expanded (sorted); FileNotFoundError for a path or pattern that
    names nothing."""
    out: list[str] = []
    for path in paths:
        if glob.has_magic(path):
            found = sorted(glob.glob(path, recursive=True))
            if not found:
                raise FileNotFoundError(2, "No file matches", path)
            out.extend(found)
        elif os.path.exists(path):
            out.append(path)
        else:
            raise FileNotFoundError(2, "No such file or directory", path)
    return out


def _files(paths: Sequence[str]) -> list[str]:
    """Every file of paths, directories walked (hidden and _-prefixed files skipped, as
    pyarrow.dataset does)."""
    files: list[str] = []
    for path in paths:
        if os.path.isdir(path):
            for root, dirs, names in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_")))
                files.extend(os.path.join(root, n) for n in sorted(names)
                             if not n.startswith((".", "_")))
        else:
            files.append(path)
    return files


def detect_format(paths: Sequence[str]) -> str | None:
    """The pyarrow.dataset format of the files by their endings; None when one has no known
    ending; ValueError when they differ."""
    endings = {FORMATS.get(Path(f).suffix.lower()) for f in _files(paths)}
    found = {e for e in endings if e is not None}
    if None in endings or not found:
        return None
    if len(found) > 1:
        raise ValueError(f"the files are of several formats ({', '.join(sorted(found))}); "
                         "give one --format or one kind of file")
    return found.pop()


def open_dataset(paths: Sequence[str], dataset_format: str) -> Any:
    """A pyarrow dataset of paths (files and directories) in dataset_format."""
    import pyarrow.dataset as ds

    files = _files(paths)
    if not files:
        raise FileNotFoundError(2, "No file in", ", ".join(paths))
    file_format: Any = dataset_format
    if dataset_format == "parquet":
        # pre_buffer keeps every row group's bytes it read until the file is done: reading a
        # 1 GB file so took 1.5 GB (19 row groups of 1M rows; 0.6 GB without it)
        file_format = ds.ParquetFileFormat(
            default_fragment_scan_options=ds.ParquetFragmentScanOptions(pre_buffer=False))
    return ds.dataset(files, format=file_format)


def batches(dataset: Any, columns: Sequence[str] | None) -> Any:
    """A RecordBatchReader over dataset, only columns (None: all), BATCH_ROWS rows a batch at
    most, reading ahead one file and two batches (sending is the slower side)."""
    return dataset.scanner(columns=None if columns is None else list(columns),
                           batch_size=BATCH_ROWS, batch_readahead=2,
                           fragment_readahead=1).to_reader()
