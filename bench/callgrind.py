"""Instructions per record of fastprod's send paths, counted by valgrind's callgrind on librdkafka's
in-process mock cluster: repeatable to about 1 % where wall-clock time on this machine swings 2x.

    python -m bench.callgrind [--scenario NAME ...] [--records N] [--tree DIR]

Each scenario runs twice in a fresh process under callgrind, with W and W + N records; the
difference divided by N is the cost of one record, start-up and shutdown cancelled. Three counts:
inside send()/send_batch() calls (serialize, partition, copy into the ring: exact, since nothing
else runs on the thread meanwhile); the caller's whole thread (plus the loop, futures' get() and
the GIL hand-offs with the dispatcher, which depend on timing: about 2 % between runs); all
threads (drain, dispatcher, librdkafka and the mock broker too: a few per cent between runs). Compare builds
with each other, not with the client-side figures of a C loop. --tree runs the fastprod
found in another checkout (e.g. a git worktree of an older commit, built in place there).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

WARM_UP = 10_000

# Each body runs with `p` (a producer on the mock cluster, topic "t" warm) and `n` records.
SCENARIOS = {
    "keyless": ("values as bytes, no key, futures dropped",
                "v = b'x' * 100\nfor _ in range(n):\n    p.send('t', v)\np.flush()"),
    "keyed-futures": ("keyed, every future kept and get()",
                      "v = b'x' * 100\nfs = [p.send('t', v, key=b'k%d' % i) for i in range(n)]\n"
                      "for f in fs:\n    f.get()"),
    "json": ('value_serializer="json", 10-field dicts',
             "d = {'f%d' % i: i for i in range(10)}\nfor _ in range(n):\n    p.send('t', d)\n"
             "p.flush()"),
    "batch": ("send_batch of 1,000-record lists",
              "vs = [b'x' * 100] * 1000\nfor _ in range(n // 1000):\n"
              "    p.send_batch('t', vs)\np.flush()"),
}

CHILD = """
import sys
import fastprod
scenario, n = sys.argv[1], int(sys.argv[2])
serializer = "json" if scenario == "json" else None
p = fastprod.Producer(value_serializer=serializer,
                      config={{"test.mock.num.brokers": 1, "log_level": 0}})
p.send("t", {warm!r} if serializer else b"w").get(30)
{body}
p.close()
print(fastprod.__file__)
"""


# callgrind_annotate's inclusive line for the send()/send_batch() wrappers Cython generates (the
# link-time optimizer may suffix their names, e.g. ".lto_priv.0").
SEND_CALLS = re.compile(r"^\s*([\d,]+) \([^)]*\)\s+\S*:__pyx_pw_\w*ProducerCore_\d+send(?:_batch)?(?:\.\w+)*\s",
                        re.MULTILINE)


def inside_send(profile: Path) -> int:
    report = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100",
                             str(profile)], capture_output=True, text=True, check=True).stdout
    return sum(int(m[1].replace(",", "")) for m in SEND_CALLS.finditer(report))


def instructions(tree: Path | None, scenario: str, n: int) -> tuple[int, int, int]:
    """(inside send calls, caller thread, all threads) instructions of one run."""
    body = SCENARIOS[scenario][1]
    code = CHILD.format(body=body, warm={"w": 0})
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"  # callgrind adds -NN per thread, 01 the main one
        env = dict(os.environ, PYTHONPATH=str(tree) if tree else "")
        # The warm-up runs in both processes, so it cancels; so do import and close.
        cmd = ["valgrind", "--tool=callgrind", "--separate-threads=yes",
               f"--callgrind-out-file={out}", sys.executable, "-c", code, scenario, str(n)]
        done = subprocess.run(cmd, capture_output=True, text=True, env=env,
                              cwd=tree or Path.cwd())
        if done.returncode != 0:
            raise RuntimeError(f"{scenario} n={n} failed:\n{done.stderr[-2000:]}")
        if tree is not None and not done.stdout.strip().startswith(str(tree)):
            raise RuntimeError(f"imported {done.stdout.strip()}, not the fastprod in {tree}")
        counts = {}
        for part in Path(tmp).glob("callgrind.out*"):
            totals = re.search(r"^(?:summary|totals): (\d+)", part.read_text(), re.MULTILINE)
            counts[part.name] = int(totals[1]) if totals else 0
        main = next(Path(tmp).glob("callgrind.out*-01"))
        return inside_send(main), counts[main.name], sum(counts.values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", action="append", choices=sorted(SCENARIOS))
    parser.add_argument("--records", type=int, default=50_000, help="N (default 50,000)")
    parser.add_argument("--tree", type=Path, help="a checkout whose fastprod to run")
    args = parser.parse_args(argv)
    tree = args.tree.resolve() if args.tree else None
    for scenario in args.scenario or list(SCENARIOS):
        low = instructions(tree, scenario, WARM_UP)
        high = instructions(tree, scenario, WARM_UP + args.records)
        send, caller, total = ((h - lo) / args.records for h, lo in zip(high, low))
        print(f"{scenario:14} in send {send:6,.0f}  caller thread {caller:6,.0f}  all threads "
              f"{total:6,.0f} instructions per record ({SCENARIOS[scenario][0]})", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
