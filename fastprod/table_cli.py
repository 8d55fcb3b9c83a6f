"""``fastprod produce TOPIC --file PATH...`` for files of rows: read with pyarrow.dataset batch by
batch, each row a record through send_table, with the live rate and a summary (fastprod.cli
parses the arguments)."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from fastprod.cli import EXIT_UNREACHABLE, PROGRESS_EVERY_S, connected, summary
from fastprod.errors import FastProdError
from fastprod.files import batches, open_dataset
from fastprod.producer import Producer


def _send_table_options(args: argparse.Namespace) -> dict[str, Any]:
    keys = args.key_column or []
    return {"value": args.value_format or "json", "columns": args.columns,
            "key": keys[0] if len(keys) == 1 else (keys or None),
            "timestamp": args.timestamp_column, "partition": args.partition_column,
            "headers": args.header_column}


def _projection(args: argparse.Namespace) -> list[str] | None:
    """The columns to read: only those the records use, unless the JSON value takes them all."""
    value = args.value_format or "json"
    if value in ("json", "msgpack") and not args.columns:
        return None
    wanted = [value[4:]] if value.startswith("raw:") else list(args.columns)
    for extra in [*(args.key_column or []), args.timestamp_column, args.partition_column,
                  *(args.header_column or [])]:
        if extra is not None and extra not in wanted:
            wanted.append(extra)
    return wanted


def produce_rows(args: argparse.Namespace, config: dict[str, object], paths: list[str],
                 dataset_format: str) -> int:
    import pyarrow

    progress = sys.stderr.isatty() if args.progress is None else args.progress
    try:
        dataset = open_dataset(paths, dataset_format)
        reader = batches(dataset, _projection(args))
    except (OSError, ValueError, pyarrow.ArrowException) as exc:
        print(f"fastprod: cannot read {', '.join(paths)} as {dataset_format}: {exc}",
              file=sys.stderr)
        return 2
    options = _send_table_options(args)
    results: list[Any] = []
    rows = 0
    stopped_by: str | None = None
    t0 = last = time.monotonic()
    with Producer(args.bootstrap, config=config) as producer:
        if not connected(producer, args):
            return EXIT_UNREACHABLE
        try:
            for batch in reader:
                try:
                    results.append(producer.send_table(args.topic, batch, **options))
                except (FastProdError, ValueError, TypeError) as exc:
                    queued = getattr(exc, "batch_result", None)
                    if queued is not None:
                        results.append(queued)
                    stopped_by = f"the batch from row {rows}: {exc}"
                    break
                rows += batch.num_rows
                now = time.monotonic()
                if progress and now - last >= PROGRESS_EVERY_S:
                    last = now
                    sent_bytes = sum(r.sent_bytes for r in results)
                    print(f"\r{rows:,} rows sent  {sum(r.delivered for r in results):,} delivered"
                          f"  {rows / (now - t0):,.0f} rows/s  {sent_bytes / (now - t0) / 1e6:,.1f}"
                          " MB/s", end="", file=sys.stderr)
        except (OSError, pyarrow.ArrowException) as exc:
            stopped_by = f"reading row {rows}: {exc}"
        producer.flush()
    seconds = time.monotonic() - t0
    if progress:
        print(file=sys.stderr)
    sent_bytes = sum(r.sent_bytes for r in results)
    files = len(dataset.files)
    return summary(results, stopped_by,
                   f"{sum(r.delivered for r in results) / seconds if seconds else 0:,.0f} rows/s  "
                   f"{sent_bytes / seconds / 1e6 if seconds else 0:,.1f} MB/s  ({seconds:.2f} s, "
                   f"{files} file{'s' if files != 1 else ''}, {sent_bytes:,} bytes of keys and "
                   "values)")
