"""The ``fastprod`` command line (also ``python -m fastprod``).

    fastprod produce TOPIC [--file F] [--value-format json|str|bytes] [--key-field NAME]
                           [--bootstrap HOST:PORT] [--config name=value ...]
    fastprod bench [--local [--local-port P] | --bootstrap HOST:PORT] [--scenario S ...]
                   [--clients a,b] [--records N] [--runs N] [--json FILE] [--plot FILE.png]
    fastprod kafka fetch|start|stop|status|signal NODE SIG|restart-node NODE
                   [--nodes N] [--port P] [--dir D] [--secure]

produce reads one record per line (stdin or --file), sends them in batches, shows the rate on
stderr, and ends with a summary. Exit status: 0 when every record was delivered, 1 when some
failed, 2 for bad arguments or input.

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

from fastprod.errors import FastProdError
from fastprod.producer import Producer

CHUNK = 10_000  # lines per send_batch call
PROGRESS_EVERY_S = 0.5


class InputError(Exception):
    """A line that the chosen --value-format cannot read."""


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="fastprod", description="fastprod, a fast Kafka producer")
    # Not "command": that is the verb of `fastprod kafka VERB`, whose arguments the launcher defines.
    commands = ap.add_subparsers(dest="subcommand", required=True)
    produce = commands.add_parser("produce", help="send lines from stdin or a file to a topic")
    produce.add_argument("topic")
    produce.add_argument("--bootstrap", default=os.environ.get("FASTPROD_BOOTSTRAP"),
                         help="host:port[,host:port] (default: $FASTPROD_BOOTSTRAP)")
    produce.add_argument("--file", help="read this file instead of stdin")
    produce.add_argument("--value-format", choices=["json", "str", "bytes"], default="bytes",
                         help="json: each line a JSON value, re-encoded compactly; str: UTF-8 "
                              "text; bytes: as read (default)")
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
    if args.key_field and args.value_format != "json":
        ap.error("--key-field needs --value-format json")
    config: dict[str, object] = {}
    for item in args.config:
        name, sep, value = item.partition("=")
        if not sep or not name:
            ap.error(f"--config takes NAME=VALUE, not {item!r}")
        config[name] = value
    try:
        return _produce(args, config)
    except (InputError, FastProdError) as exc:
        print(f"fastprod: {exc}", file=sys.stderr)
        return 2


def _produce(args: argparse.Namespace, config: dict[str, object]) -> int:
    progress = sys.stderr.isatty() if args.progress is None else args.progress
    serializer = "json" if args.value_format == "json" else None
    stream: BinaryIO = open(args.file, "rb") if args.file else sys.stdin.buffer
    results = []
    sent = 0
    t0 = last = time.monotonic()
    try:
        with Producer(args.bootstrap, value_serializer=serializer, config=config) as producer:
            for chunk in _chunks(stream, args.value_format):
                kwargs: dict[str, Any] = {"key_field": args.key_field} if args.key_field else {}
                try:
                    results.append(producer.send_batch(args.topic, chunk, **kwargs))
                except FastProdError as exc:
                    raise InputError(f"line {sent + _batch_index(exc) + 1}: {exc}") from None
                sent += len(chunk)
                now = time.monotonic()
                if progress and now - last >= PROGRESS_EVERY_S:
                    last = now
                    print(f"\r{sent:,} sent  {_delivered(results):,} delivered  "
                          f"{sent / (now - t0):,.0f} msgs/s", end="", file=sys.stderr)
            producer.flush()
    finally:
        if args.file:
            stream.close()
    seconds = time.monotonic() - t0
    delivered = _delivered(results)
    failed = sum(r.failed for r in results)
    if progress:
        print(file=sys.stderr)
    print(f"sent {sent:,}  delivered {delivered:,}  failed {failed:,}  "
          f"{delivered / seconds if seconds else 0:,.0f} msgs/s  ({seconds:.2f} s)")
    for result in results:
        for index, error in result.failures[:5]:
            print(f"  failed: {error}", file=sys.stderr)
    return 0 if failed == 0 and delivered == sent else 1


def _delivered(results: list[Any]) -> int:
    return sum(r.delivered for r in results)


def _batch_index(exc: BaseException) -> int:
    result = getattr(exc, "batch_result", None)
    return 0 if result is None else result.sent


def _chunks(stream: BinaryIO, value_format: str) -> Iterator[list[Any]]:
    decode = msgspec.json.Decoder()
    chunk: list[Any] = []
    for number, line in enumerate(stream, 1):
        line = line.rstrip(b"\r\n")
        if value_format == "json":
            try:
                chunk.append(decode.decode(line))
            except msgspec.DecodeError as exc:
                raise InputError(f"line {number} is not JSON: {exc}") from None
        elif value_format == "str":
            try:
                chunk.append(line.decode())
            except UnicodeDecodeError as exc:
                raise InputError(f"line {number} is not UTF-8: {exc}") from None
        else:
            chunk.append(line)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
