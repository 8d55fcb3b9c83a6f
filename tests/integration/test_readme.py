"""Every Python example in the README runs as written against a real broker (issue 15): each
block in its own interpreter, its bootstrap address pointed at the test broker, in a directory
holding the events.jsonl one of them reads. Fragments under the Quickstart continue it, so each
block starts with its `import fastprod`."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.source_tree  # the checkout's README

ROOT = Path(__file__).resolve().parents[2]
BLOCKS = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)


def test_the_readme_has_examples():
    assert len(BLOCKS) >= 4


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_example_runs(bootstrap, tmp_path, index):
    code = "import fastprod\n" + textwrap.dedent(BLOCKS[index]).replace("127.0.0.1:9092", bootstrap)
    (tmp_path / "events.jsonl").write_text("".join(f'{{"n": {i}}}\n' for i in range(100)))
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, f"README example {index}:\n{code}\n{done.stderr[-3000:]}"
    if "records lost" in code:
        assert done.stdout.strip() == "0 records lost"
