"""The ``fastprod`` command line (also ``python -m fastprod``).

    fastprod produce TOPIC [--file F] [--value-format json|str|bytes] [--key-field NAME]
                           [--bootstrap HOST:PORT] [--connect-timeout S] [--config name=value ...]
    fastprod produce TOPIC --file PATH... [--format auto|parquet|csv|json|arrow]
                           [--value-format json|msgpack|raw:COLUMN] [--columns A,B]
                           [--key-column C ...]
                           [--timestamp-column C] [--partition-column C] [--header-column C ...]
    fastprod bench [--local [--local-port P] | --bootstrap HOST:PORT] [--scenario S ...]
                   [--clients a,b] [--records N] [--runs N] [--json FILE] [--plot FILE.png]
    fastprod kafka fetch|start|stop|status|signal NODE SIG|restart-node NODE
                   [--nodes N] [--port P] [--dir D] [--secure]

produce reads one record per line (stdin or --file), sends them in batches, shows the rate on
stderr, and ends with a summary. Files of rows (Parquet, CSV, JSON lines, Arrow IPC/Feather, by
their endings or --format; globs and directories too) are read with pyarrow.dataset and each row
becomes a record (send_table): a JSON object of its columns, or one column's bytes with
--value-format raw:COLUMN. A .jsonl file without table options is read as lines, as before. The
summary is (also when a bad line stops it: what was sent before it is
delivered and counted). Exit status: 0 when every record was delivered, 1 when some failed, 2
for bad arguments or input, 3 when no broker answered within --connect-timeout.

bench compares fastprod with the other clients on one broker (see fastprod.bench.run); exit
status 1 when a client's run failed (a client that is not installed is skipped, not failed).

kafka runs a local Apache Kafka broker or cluster on 127.0.0.1 (see fastprod.kafka_local; needs
Java 17+, and Maven once to fetch the jars); start prints the bootstrap address on stdout. Exit
status 1 with a message when something is missing or fails.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Iterator, Sequence
from typing import Any, BinaryIO

import msgspec

from fastprod.errors import FastProdError, KafkaError, KafkaTimeoutError
from fastprod.files import FORMAT_NAMES, detect_format, expand
from fastprod.producer import Producer

CHUNK = 10_000  # lines per send_batch call
PROGRESS_EVERY_S = 0.5
EXIT_UNREACHABLE = 3


class InputError(Exception):
    """A line that the chosen --value-format cannot read."""


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="fastprod", description="fastprod, a fast Kafka producer")
    ap.add_argument("--version", action="version", version=_version())
    # Not "command": that is the verb of `fastprod kafka VERB`, whose arguments the launcher defines.
    commands = ap.add_subparsers(dest="subcommand", required=True)
    produce = commands.add_parser("produce", help="send lines from stdin or a file to a topic")
    produce.add_argument("topic")
    produce.add_argument("--bootstrap", default=os.environ.get("FASTPROD_BOOTSTRAP"),
                         help="host:port[,host:port] (default: $FASTPROD_BOOTSTRAP)")
    produce.add_argument("--connect-timeout", type=float, default=10.0, metavar="S",
                         help="seconds to wait for the broker to answer before giving up with "
                              f"exit status {EXIT_UNREACHABLE} (default: 10)")
    produce.add_argument("--file", nargs="+", action="extend", metavar="PATH",
                         help="read these files (globs, directories) instead of stdin")
    produce.add_argument("--format", choices=["auto", "lines", *FORMAT_NAMES], default="auto",
                         help="lines: a record per line; parquet, csv, json (JSON lines), arrow "
                              "(IPC/Feather): a record per row; auto (default): by the file "
                              "endings, .jsonl as lines unless a table option is given")
    produce.add_argument("--value-format", type=_value_format, default=None,
                         help="lines: json (each line a JSON value, re-encoded compactly), str "
                              "(UTF-8 text) or bytes (as read, the default); rows: json (the "
                              "default), msgpack or raw:COLUMN (that column's bytes)")
    produce.add_argument("--columns", type=lambda v: v.split(","), metavar="A,B",
                         help="rows: the columns of the JSON value (default: all)")
    produce.add_argument("--key-column", action="append", metavar="C",
                         help="rows: the key column (repeated: a JSON object of them)")
    produce.add_argument("--timestamp-column", metavar="C",
                         help="rows: the record timestamps (timestamp, date or ms column)")
    produce.add_argument("--partition-column", metavar="C", help="rows: the record partitions")
    produce.add_argument("--header-column", action="append", metavar="C",
                         help="rows: a header named after the column (repeatable)")
    produce.add_argument("--key-field", help="with --value-format json: the key is this field "
                                             "of each JSON object")
    produce.add_argument("--config", action="append", default=[], metavar="NAME=VALUE",
                         help="a producer property, e.g. compression.type=lz4 (repeatable)")
    produce.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                         help="show the live rate on stderr (default: when stderr is a terminal)")
    bench = commands.add_parser("bench", help="throughput against other clients, on one broker")
    from fastprod.bench import run

    run.add_arguments(bench)
    from fastprod.kafka_local import command as kafka_command

    kafka = commands.add_parser(
        "kafka", help="a local Kafka broker or cluster on 127.0.0.1 (start, stop, status, ...)",
        description=kafka_command.USAGE,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    kafka_command.add_arguments(kafka)
    return ap


def _value_format(text: str) -> str:
    if text in ("json", "str", "bytes", "msgpack") or (text.startswith("raw:") and len(text) > 4):
        return text
    raise argparse.ArgumentTypeError(f"invalid choice: {text!r} (choose from json, str, bytes, "
                                     "msgpack, raw:COLUMN)")


def _version() -> str:
    from fastprod import __version__, librdkafka_version

    return f"fastprod {__version__} (librdkafka {librdkafka_version()[0]})"


def main(argv: Sequence[str] | None = None) -> int:
    """The `fastprod` command (argv: its arguments, default sys.argv[1:]); the exit status."""
    ap = _parser()
    args = ap.parse_args(argv)
    if args.subcommand == "bench":
        from fastprod.bench import run

        problem = run.argument_error(args)
        if problem:
            ap.error(problem)
        return run.bench(args)
    if args.subcommand == "kafka":
        from fastprod.kafka_local import command as kafka_command

        return kafka_command.run(args)
    if not args.bootstrap:
        ap.error("give --bootstrap or set FASTPROD_BOOTSTRAP")
    try:
        paths = expand(args.file) if args.file else []
        table_format = _table_format(args, paths)
    except OSError as exc:
        ap.exit(2, f"fastprod: cannot read {exc.filename}: {exc.strerror}\n")
    except ValueError as exc:
        ap.exit(2, f"fastprod: {exc}\n")
    if table_format is None and _table_options(args):
        ap.error("--columns, --key-column, --timestamp-column, --partition-column, "
                 "--header-column, msgpack and raw:COLUMN need files of rows (--file, --format)")
    if table_format is not None and args.value_format in ("str", "bytes") or (
            table_format is not None and args.key_field):
        ap.error("files of rows take --value-format json or raw:COLUMN, and --key-column")
    if args.key_field and args.value_format != "json":
        ap.error("--key-field needs --value-format json")
    config: dict[str, object] = {}
    for item in args.config:
        name, sep, value = item.partition("=")
        if not sep or not name:
            ap.error(f"--config takes NAME=VALUE, not {item!r}")
        config[name] = value
    if args.connect_timeout <= 0:
        ap.error("--connect-timeout must be > 0")
    if table_format is not None:
        from fastprod.table_cli import produce_rows

        return produce_rows(args, config, paths, table_format)
    if len(paths) > 1:
        ap.error("lines come from one --file (or stdin)")
    try:
        stream: BinaryIO = open(paths[0], "rb") if paths else sys.stdin.buffer
    except OSError as exc:
        ap.exit(2, f"fastprod: cannot read {paths[0]}: {exc.strerror}\n")
    args.value_format = args.value_format or "bytes"
    try:
        return _produce(args, config, stream)
    except FastProdError as exc:
        print(f"fastprod: {exc}", file=sys.stderr)
        return 2
    finally:
        if paths:
            stream.close()


def _table_options(args: argparse.Namespace) -> bool:
    return bool(args.columns or args.key_column or args.timestamp_column or args.partition_column
                or args.header_column or args.value_format == "msgpack"
                or (args.value_format or "").startswith("raw:"))


def _table_format(args: argparse.Namespace, paths: list[str]) -> str | None:
    """The pyarrow.dataset format of the --file paths, or None to read lines."""
    if args.format == "lines" or not paths:
        return None
    if args.format != "auto":
        return FORMAT_NAMES[args.format]
    found = detect_format(paths)
    if found == "json" and not _table_options(args):
        return None  # JSON lines without table options: lines, as before files of rows
    return found


def _produce(args: argparse.Namespace, config: dict[str, object], stream: BinaryIO) -> int:
    progress = sys.stderr.isatty() if args.progress is None else args.progress
    serializer = "json" if args.value_format == "json" else None
    results = []
    sent = 0
    stopped_by: str | None = None
    t0 = last = time.monotonic()
    with Producer(args.bootstrap, value_serializer=serializer, config=config) as producer:
        if not connected(producer, args):
            return EXIT_UNREACHABLE
        try:
            for chunk in _chunks(stream, args.value_format):
                kwargs: dict[str, Any] = {"key_field": args.key_field} if args.key_field else {}
                try:
                    results.append(producer.send_batch(args.topic, chunk, **kwargs))
                except FastProdError as exc:
                    queued = _batch_result(exc)
                    if queued is not None:
                        results.append(queued)
                    raise InputError(f"line {sent + _batch_index(exc) + 1}: {exc}") from None
                sent += len(chunk)
                now = time.monotonic()
                if progress and now - last >= PROGRESS_EVERY_S:
                    last = now
                    print(f"\r{sent:,} sent  {_delivered(results):,} delivered  "
                          f"{sent / (now - t0):,.0f} msgs/s", end="", file=sys.stderr)
        except InputError as exc:
            stopped_by = str(exc)
        producer.flush()
    seconds = time.monotonic() - t0
    if progress:
        print(file=sys.stderr)
    delivered = _delivered(results)
    return summary(results, stopped_by,
                   f"{delivered / seconds if seconds else 0:,.0f} msgs/s  ({seconds:.2f} s)")


def summary(results: list[Any], stopped_by: str | None, rate: str) -> int:
    """Prints what the BatchResults say (and rate), the first failures and what stopped the run
    (None: nothing); returns the exit status."""
    sent = sum(r.sent for r in results)
    delivered = _delivered(results)
    failed = sum(r.failed for r in results)
    print(f"sent {sent:,}  delivered {delivered:,}  failed {failed:,}  {rate}")
    for result in results:
        for _, error in result.failures[:5]:
            print(f"  failed: {error}", file=sys.stderr)
    if stopped_by is not None:
        print(f"fastprod: stopped at {stopped_by}; the {sent:,} records before it were sent "
              "(see above)", file=sys.stderr)
        return 2
    return 0 if failed == 0 and delivered == sent else 1


def connected(producer: Producer[Any, Any], args: argparse.Namespace) -> bool:
    """Whether a broker answered within --connect-timeout; if none did, closes the producer at
    once and says so on stderr."""
    try:
        producer.partitions_for(args.topic, timeout=args.connect_timeout)
    except KafkaTimeoutError as exc:
        if not (isinstance(exc.__cause__, KafkaError) and exc.__cause__.code > 0):
            producer.close(0)
            print(f"fastprod: no broker at {args.bootstrap} answered within "
                  f"{args.connect_timeout:g} s (--connect-timeout)", file=sys.stderr)
            return False
        # a broker answered that the topic is not there (yet): the records will say more
    return True


def _delivered(results: list[Any]) -> int:
    return sum(r.delivered for r in results)


def _batch_result(exc: BaseException) -> Any:
    """The BatchResult of the records a failed send_batch() queued before the bad one."""
    return getattr(exc, "batch_result", None)


def _batch_index(exc: BaseException) -> int:
    result = _batch_result(exc)
    return 0 if result is None else result.sent


def _chunks(stream: BinaryIO, value_format: str) -> Iterator[list[Any]]:
    """Lists of up to CHUNK records read from stream, one per line. A line the format cannot
    read raises InputError, after the records before it were yielded."""
    decode = msgspec.json.Decoder()
    chunk: list[Any] = []
    for number, line in enumerate(stream, 1):
        line = line.rstrip(b"\r\n")
        try:
            if value_format == "json":
                chunk.append(decode.decode(line))
            elif value_format == "str":
                chunk.append(line.decode())
            else:
                chunk.append(line)
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            if chunk:
                yield chunk
            what = "JSON" if value_format == "json" else "UTF-8"
            raise InputError(f"line {number} is not {what}: {exc}") from None
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
