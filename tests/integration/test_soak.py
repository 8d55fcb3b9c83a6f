"""Memory soak (slow: `make test-all`): 20,000,000 records per mode (two 10M soaks' worth, so the
slope is not lost in the allocator's wobble of several MB), each in a fresh process
(python -m bench.memory), RSS sampled after every flushed million; growth after the warm-up (Theil-Sen
slope, robust to the allocator's level shifts) must stay under 1 MiB per million records, and the
count of live Python objects must not grow with the records sent. (valgrind shows no native
leak; this checks the process as a user sees it.)"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["drop", "kept", "callback", "batch"])
def test_no_memory_growth_over_twenty_million_records(bootstrap, mode):
    done = subprocess.run([sys.executable, "-m", "bench.memory", "--bootstrap", bootstrap,
                           "--mode", mode, "--records", "20000000"],
                          capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    r = json.loads(next(line for line in done.stdout.splitlines() if line.startswith("{")))
    print(f"\n{mode}: peak RSS {r['peak_rss_mb']:.0f} MB (baseline {r['baseline_rss_mb']:.0f}), "
          f"growth {r['growth_mb_per_million']:+.2f} MB per million, live Python blocks "
          f"{r['live_blocks_per_million']:+.0f} per million; RSS samples {r['rss_samples_mb']}")
    assert r["delivered"] == r["records"] == 20_000_000 and r["failed"] == 0
    assert r["growth_mb_per_million"] < 1.0
    # Not one Python object kept per 10,000 records (the bench's own samples account for ~13)
    assert r["live_blocks_per_million"] < 100
