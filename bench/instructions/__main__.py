"""python -m bench.instructions [--scenario NAME ...] [--warm-up W] [--records N] [--tree DIR]
                                [--json FILE]

Prints the table (Markdown) on stdout and progress on stderr; see bench/instructions/__init__.py
for what is counted."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from bench.instructions import measure, report
from bench.instructions.scenarios import BATCH, SCENARIOS


def multiple_of_batch(text: str) -> int:
    """argparse type: a positive count the batch scenarios can send in whole batches."""
    value = int(text)
    if value < BATCH or value % BATCH:
        raise argparse.ArgumentTypeError(f"must be a positive multiple of {BATCH:,}, not {value}")
    return value


def parse(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m bench.instructions",
                                 description="Instructions per record under callgrind, on "
                                             "librdkafka's mock cluster.")
    ap.add_argument("--scenario", action="append", choices=list(SCENARIOS),
                    help="repeatable (default: all, in the order listed)")
    ap.add_argument("--warm-up", type=multiple_of_batch, default=50_000, metavar="W",
                    help="records of the shorter run (default: 50,000)")
    ap.add_argument("--records", type=multiple_of_batch, default=200_000, metavar="N",
                    help="records the longer run sends more (default: 200,000)")
    ap.add_argument("--tree", type=Path, help="a checkout whose fastprod (built in place) to run")
    ap.add_argument("--json", type=Path, metavar="FILE", help="write every figure as JSON")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    missing = [tool for tool in ("valgrind", "callgrind_annotate") if not shutil.which(tool)]
    if missing:
        print(f"{', '.join(missing)} not found: install valgrind (Debian/Ubuntu: "
              "apt-get install valgrind)", file=sys.stderr)
        return 1
    tree = args.tree.resolve() if args.tree else None
    names = args.scenario or list(SCENARIOS)
    # Taken before the runs: the commit measured, not one made while they ran.
    info = {"date": time.strftime("%Y-%m-%d"), "machine": report.machine(),
            "versions": report.versions(tree), "warm_up": args.warm_up, "records": args.records,
            "command": " ".join(["python -m bench.instructions", *(argv or sys.argv[1:])])}
    results: dict[str, dict[str, Any]] = {}
    runs: dict[str, dict[str, Any]] = {}
    for name in names:
        started = time.monotonic()
        low = measure.run(name, SCENARIOS[name], args.warm_up, tree)
        high = measure.run(name, SCENARIOS[name], args.warm_up + args.records, tree)
        results[name] = report.per_record(low, high, args.records)
        runs[name] = {"low": low, "high": high}
        print(f"{name}: {results[name]['client_side']:,.0f} instructions per record, client "
              f"side ({time.monotonic() - started:.0f} s)", file=sys.stderr, flush=True)
    report.add_ratios(results)
    print(f"{info['date']}, W = {args.warm_up:,}, N = {args.records:,}; "
          f"{report.machine_line(info)}\n")
    print(report.table(results))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        scenarios = {name: {"label": SCENARIOS[name].label, **results[name],
                            "instructions_per_run": runs[name]} for name in names}
        args.json.write_text(json.dumps({**info, "scenarios": scenarios}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
